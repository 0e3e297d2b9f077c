"""The shared run of the main job on the heat-treatment example: constants and helpers.

The run (fixture ``heat_run`` in conftest.py) uses a temporary workdir and a temporary physics cache (so the FEniCSx solves really run),
the example's study with a smaller trial budget, and a small order book so the schedule stage runs.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAYOUT = REPO / "examples" / "heat_treatment" / "line.yaml"
TRIALS = 16  # the example asks for 24; 16 keep the test near a minute and a half on 2 cores

# Five shaft orders, due dates a day apart (minutes, the layout's unit).
ORDERS = """id,product,quantity,release,due,weight
S-1,shaft,30,0,900,1
S-2,shaft,30,60,1100,2
S-3,shaft,60,120,1500,1
S-4,shaft,30,240,1400,3
S-5,shaft,30,300,1800,1
"""


@contextlib.contextmanager
def physics_cache(path: Path):
    """Point the physics cache at ``path`` for the duration (restores the previous value)."""
    old = os.environ.get("VFACTORY_CACHE_DIR")
    os.environ["VFACTORY_CACHE_DIR"] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("VFACTORY_CACHE_DIR", None)
        else:
            os.environ["VFACTORY_CACHE_DIR"] = old


class HeatRun:
    def __init__(self, workdir: Path, cache: Path, results: dict, stages: list[tuple[str, float]]):
        self.workdir = workdir
        self.cache = cache
        self.results = results
        self.stages = stages
