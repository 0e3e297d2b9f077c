"""One run of the main job on the bundled heat-treatment example, shared by the pipeline tests."""

from __future__ import annotations

import pytest
from heat_run import LAYOUT, ORDERS, TRIALS, HeatRun, physics_cache


@pytest.fixture(scope="session")
def heat_run(tmp_path_factory) -> HeatRun:
    from vfactory import pipeline

    root = tmp_path_factory.mktemp("heat_treatment")
    cache = root / "physics-cache"
    orders = root / "orders.csv"
    orders.write_text(ORDERS)
    stages: list[tuple[str, float]] = []
    with physics_cache(cache):
        results = pipeline.run(
            LAYOUT, root / "results", trials=TRIALS, orders=orders,
            progress=lambda stage, fraction: stages.append((stage, fraction)),
        )
    return HeatRun(root / "results", cache, results, stages)
