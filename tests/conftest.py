"""Fixtures shared across test folders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (Debian's server binaries) on 127.0.0.1 for the session."""
    from vfactory.api.pgcluster import throwaway_cluster

    with throwaway_cluster() as url:
        yield url
