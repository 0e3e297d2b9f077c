"""Fixtures shared by the cluster tests."""

from __future__ import annotations

import pytest
from cluster_testkit import N_TASKS, SEED

from cluster.local import LocalExecutor
from cluster.probe import seeded_sum


@pytest.fixture(scope="session")
def local_values() -> list[float]:
    """The seeded scenario's values from the local backend: the reference for Ray and Dask."""
    with LocalExecutor(2) as ex:
        return ex.run_all(seeded_sum, [{"seed": SEED, "index": i} for i in range(N_TASKS)])
