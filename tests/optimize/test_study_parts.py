"""Study storage, Pareto front and knee, the dashboard: the parts around the search itself."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import optuna
import pytest

from vfactory import layout
from vfactory.optimize import run_study
from vfactory.optimize.recommend import knee, pareto_front

ROOT = Path(__file__).resolve().parents[2]

SMALL = """
factory: {name: small, time_unit: min, run_length: 3000, warmup: 100, seed: 4}
products: {part: {route: [m1, m2], arrival: saturated}}
stations:
  m1: {process_time: {dist: exponential, mean: 1}}
  m2: {process_time: {dist: exponential, mean: 1}, buffer: 0}
study:
  name: small-study
  variables:
    stations.m2.buffer: {low: 0, high: 3, type: int}
  objectives:
    - {kpi: throughput, direction: maximize}
    - {kpi: wip, direction: minimize}
  budget: {trials: 4}
  replications: 2
  sampler: nsga2
  initial_design: {kind: none}
  storage: STORAGE
"""


def _trial(number, values):
    return optuna.trial.create_trial(values=list(values), params={}, distributions={})


def test_pareto_front_and_knee_against_brute_force():
    pts = [(1, 9), (2, 7), (3, 8), (4, 3), (5, 4), (6, 1), (2, 2), (7, 7)]
    trials = [_trial(i, p) for i, p in enumerate(pts)]
    # minimise both: brute force over all pairs
    expected = {p for p in pts if not any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in pts)}
    front = pareto_front(trials, ["minimize", "minimize"])
    assert {tuple(t.values) for t in front} == expected == {(1, 9), (2, 2), (6, 1)}
    # knee: closest to utopia (1, 1) after scaling both objectives to [0, 1] over the front
    assert tuple(knee(front, ["minimize", "minimize"]).values) == (2, 2)
    # maximise the first objective instead
    front = pareto_front(trials, ["maximize", "minimize"])
    assert {tuple(t.values) for t in front} == {(6, 1), (7, 7)}


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_multi_objective_study_in_each_storage(tmp_path, kind):
    target = tmp_path / ("study.log" if kind == "journal" else "study.db")
    f = layout.loads(SMALL.replace("STORAGE", str(target)), "small.yaml")
    study = run_study(f)
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len({t.params["stations.m2.buffer"] for t in done}) == 4  # the whole finite space
    # a second run resumes the stored study and finds nothing left to do
    again = run_study(f)
    assert len(again.trials) == len(study.trials)
    # more buffer: more throughput, more WIP (a real trade-off, both objectives recorded)
    by_b = {t.params["stations.m2.buffer"]: t.values for t in done}
    assert by_b[3][0] > by_b[0][0] and by_b[3][1] > by_b[0][1]


def test_a_study_storage_refuses_another_layout(tmp_path):
    target = tmp_path / "s.db"
    f = layout.loads(SMALL.replace("STORAGE", str(target)), "small.yaml")
    run_study(f, max_trials=1)
    g = layout.override(f, {"stations.m1.process_time.mean": 2.0})
    with pytest.raises(ValueError, match="another layout"):
        run_study(g)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dashboard_serves_the_study(tmp_path):
    target = tmp_path / "study.db"
    path = tmp_path / "small.yaml"
    path.write_text(SMALL.replace("STORAGE", str(target)))
    run_study(layout.load(path), max_trials=2)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vfactory.cli", "dashboard", str(path), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/studies", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        assert r.status_code == 200
        names = [s["study_name"] for s in r.json()["study_summaries"]]
        assert names == ["small-study"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_initial_design_is_space_filling_and_distinct():
    from vfactory.layout.study import Study
    from vfactory.optimize.space import initial_design

    spec = Study.model_validate(
        {
            "variables": {"a": {"low": 0, "high": 1}, "b": {"low": 10, "high": 20}},
            "objectives": [{"kpi": "throughput", "direction": "maximize"}],
            "budget": {"trials": 10},
            "initial_design": {"kind": "lhs", "n": 8},
        }
    )
    pts = initial_design(spec)
    assert len(pts) == 8
    # Latin hypercube: each of the 8 equal slices of each variable holds exactly one point
    for name, lo, hi in (("a", 0, 1), ("b", 10, 20)):
        bins = sorted(int((p[name] - lo) / (hi - lo) * 8) for p in pts)
        assert bins == list(range(8))


def test_study_in_postgresql_resumes(postgres_url):
    from vfactory.api.pgcluster import create_database

    url = create_database(postgres_url, "optuna_small")
    f = layout.loads(SMALL.replace("STORAGE", url), "small.yaml")
    first = run_study(f, max_trials=2)
    # repeats of a known point are told from memory, so count distinct points
    assert len({t.params["stations.m2.buffer"] for t in first.trials if t.state.name == "COMPLETE"}) == 2
    again = run_study(f)  # another driver, same database: continues to the budget of 4
    done = {t.params["stations.m2.buffer"] for t in again.trials if t.state.name == "COMPLETE"}
    assert done == {0, 1, 2, 3}
    assert not [t for t in again.trials if t.state.name == "RUNNING"]
