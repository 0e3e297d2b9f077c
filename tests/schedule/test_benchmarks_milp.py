"""MILP on the published benchmarks (VALIDATION.md, scheduling table)."""

from __future__ import annotations

import pytest

from vfactory.schedule import model
from vfactory.schedule._flat import flatten
from vfactory.schedule.bounds import makespan_lower_bound
from vfactory.schedule.checker import check
from vfactory.schedule.dispatch import generate
from vfactory.schedule.planner import plan
from vfactory.schedule.solution import Objective


@pytest.mark.parametrize(("name", "optimum"), [("ft06.txt", 55), ("la01.txt", 666), ("la05.txt", 593)])
def test_plan_proves_published_optimum(load, name, optimum):
    pb = load(name)
    s = plan(pb, "makespan", time_limit=60, method="milp")
    assert s.status == "optimal"
    assert s.makespan == optimum
    assert s.bound == optimum and s.gap == 0.0
    assert check(pb, s) == []


@pytest.mark.parametrize(("name", "optimum"), [("ft06.txt", 55), ("la01.txt", 666)])
def test_milp_alone_proves_optimum_from_a_dispatch_start(load, name, optimum):
    """The proof comes from HiGHS itself, warm-started by a mediocre SPT schedule."""
    flat = flatten(load(name))
    mach, start = generate(flat, "SPT")
    res = model.solve(flat, Objective("makespan"), time_limit=60, warm=(mach, start),
                      lower=makespan_lower_bound(flat), integral=True)
    assert res.status == "optimal"
    assert res.objective == optimum and res.bound == optimum


def test_mk01_feasible_and_at_most_45(load):
    pb = load("mk01.txt")
    s = plan(pb, "makespan", time_limit=12, method="milp")
    assert check(pb, s) == []
    assert s.status in ("optimal", "time-limit", "feasible", "fallback")
    assert 40 <= s.makespan <= 45  # 40 is the proven optimum: nothing can beat it
    assert s.bound is not None and s.bound <= 40


def test_missing_solver_is_a_clear_error(load, monkeypatch):
    import sys

    from vfactory.schedule.model import SolverUnavailableError

    monkeypatch.setitem(sys.modules, "highspy", None)  # makes 'import highspy' fail
    with pytest.raises(SolverUnavailableError, match="HiGHS through highspy.*pip install highspy"):
        plan(load("ft06.txt"), time_limit=5, method="milp")
    # the dispatching rules do not need a solver
    assert plan(load("ft06.txt"), time_limit=5, method="dispatch:SPT").makespan >= 55


def test_solver_failure_falls_back_to_the_heuristic(load, monkeypatch):
    """A solver that crashes (simulated here) must not lose the heuristic schedule."""
    def crashing_solve(*args, **kwargs):
        return model.MilpResult("error", None, None, None, None, 0.0, "simulated crash")

    monkeypatch.setattr(model, "solve", crashing_solve)
    pb = load("ft06.txt")
    s = plan(pb, time_limit=4, method="milp")
    assert s.status == "fallback" and s.method == "milp"
    assert check(pb, s) == [] and 55 <= s.makespan <= 61  # 61: best dispatching rule on ft06
    assert s.bound is not None and s.bound <= 55 and s.gap > 0
    assert any("simulated crash" in n for n in s.notes)
