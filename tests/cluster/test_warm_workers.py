"""Workers prepared for physics: forms compiled once per worker, solves run in the worker.

A sweep over the heat-treatment example's furnace temperature (real FEniCSx solves) on a local
pool opened by ``vfactory.execution.open_executor``: the worker warmed the layout's two solves
at start-up, then solved every point itself by reusing those compiled problems (no process
spawned per solve), and the KPIs equal those of the reference path, where every solve runs in
a freshly spawned process (separate, empty physics caches, so nothing is shared).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solvers.worker import worker_state
from vfactory import layout
from vfactory.execution import WORKER_INITIALIZER, open_executor, worker_options
from vfactory.sweep import sweep

ROOT = Path(__file__).resolve().parents[2]
LINE = ROOT / "examples" / "heat_treatment" / "line.yaml"
POINTS = [{"parameters.furnace_temperature_c": t} for t in (845, 860, 875)]
KPIS = ["throughput_per_hour", "lead_time.mean", "energy_per_good_part_kwh"]


def test_layouts_without_physics_get_plain_workers():
    plain = layout.load(ROOT / "examples" / "machining_assembly" / "line.yaml")
    assert not plain.physics
    assert worker_options(plain) == {} and worker_options(None) == {}
    opts = worker_options(layout.load(LINE))
    assert opts["initializer"] == WORKER_INITIALIZER
    assert [solver for solver, _ in opts["initargs"][1]] == ["heat_treatment", "heat_treatment"]


def test_sweep_solves_in_warm_workers_like_spawned_solves(tmp_path, monkeypatch):
    factory = layout.load(LINE)
    monkeypatch.setenv("VFACTORY_CACHE_DIR", str(tmp_path / "worker-cache"))
    with open_executor("local:1", factory) as ex:  # the worker inherits this cache dir
        warm = sweep(factory, POINTS, kpis=KPIS, replications=2, executor=ex)
        state = ex.run_all(worker_state, [None])[0]

    assert state["solve_here"]
    assert [w["solver"] for w in state["warmed"]] == ["heat_treatment", "heat_treatment"]
    assert all("error" not in w for w in state["warmed"]), state["warmed"]
    # Both solves compile the same problem (same cylinder mesh and forms, other values are
    # constants): built at most once per distinct solve during the warm-up, never afterwards.
    # Every furnace temperature is a physics-cache miss solved in this worker: >= 3 reuses.
    assert state["compiled"]["builds"] <= 2
    assert state["compiled"]["hits"] >= len(POINTS)

    monkeypatch.setenv("VFACTORY_CACHE_DIR", str(tmp_path / "reference-cache"))
    reference = sweep(factory, POINTS, kpis=KPIS, replications=2)  # spawned solve per solve
    assert warm["error"].isna().all() and reference["error"].isna().all()
    for kpi in KPIS:
        assert list(warm[kpi]) == pytest.approx(list(reference[kpi]), rel=1e-9), kpi
    # the physics matters: a hotter furnace soaks sooner, so the line's KPIs move with it
    assert len(set(warm["lead_time.mean"])) == len(POINTS)


def test_unprepared_pool_workers_solve_in_place(tmp_path, monkeypatch):
    """A pool opened without the preparation (plain cluster.get_executor) still runs physics:
    its daemonic workers may not spawn a process per solve, so they solve in place."""
    from cluster import get_executor

    factory = layout.load(LINE)
    monkeypatch.setenv("VFACTORY_CACHE_DIR", str(tmp_path / "cache"))
    with get_executor("local:1") as ex:
        table = sweep(factory, POINTS[:1], kpis=KPIS, replications=2, executor=ex)
        state = ex.run_all(worker_state, [None])[0]
    assert table["error"].isna().all(), table["error"][0]
    assert not state["solve_here"] and state["warmed"] == []
    assert state["compiled"]["builds"] >= 1  # the solve ran in this very worker
