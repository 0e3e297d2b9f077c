"""Dispatching rules and the local search: always feasible, and each rule does what it says."""

from __future__ import annotations

import pytest

from vfactory.schedule._flat import flatten
from vfactory.schedule.checker import check
from vfactory.schedule.dispatch import RULES, dispatch
from vfactory.schedule.planner import plan
from vfactory.schedule.problem import Job, Operation, Problem

from .test_small_exact import PARALLEL, TARDY


def one_machine(durations, dues=None, releases=None):
    dues = dues or [None] * len(durations)
    releases = releases or [0] * len(durations)
    return Problem(jobs=tuple(
        Job(f"j{i}", (Operation((("M", float(d)),)),), due=due, release=r)
        for i, (d, due, r) in enumerate(zip(durations, dues, releases, strict=True))
    ))


def order_on(schedule, machine="M"):
    return [o.job for o in schedule.sequences[machine]]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("name", ["ft06.txt", "la01.txt", "mk01.txt"])
def test_every_rule_is_feasible_on_benchmarks(load, name, rule):
    pb = load(name)
    optimum = {"ft06.txt": 55, "la01.txt": 666, "mk01.txt": 40}[name]
    for active in (True, False):
        s = dispatch(pb, rule, active=active)
        assert check(pb, s) == []
        assert s.makespan >= optimum  # no schedule beats the proven optimum


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("problem", [TARDY, PARALLEL], ids=["releases-dues", "setups"])
def test_every_rule_is_feasible_with_releases_and_setups(problem, rule):
    s = dispatch(problem, rule, "tardiness")
    assert check(problem, s) == []


def test_spt_edd_mwkr_on_one_machine():
    # single machine, all released at 0: SPT orders by duration, EDD by due date (ties: SPT)
    pb = one_machine([5, 2, 8, 1], dues=[9, 30, 4, 20])
    assert order_on(dispatch(pb, "SPT")) == ["j3", "j1", "j0", "j2"]
    assert order_on(dispatch(pb, "EDD")) == ["j2", "j0", "j3", "j1"]
    # MWKR on one machine = longest first; SPT gives the minimal total completion (theory)
    assert order_on(dispatch(pb, "MWKR")) == ["j2", "j0", "j1", "j3"]


def test_fifo_follows_release_order_and_waits_for_releases():
    pb = one_machine([3, 3, 3], releases=[4, 0, 2])
    s = dispatch(pb, "FIFO")
    assert order_on(s) == ["j1", "j2", "j0"]
    assert [o.start for o in s.sequences["M"]] == [0, 3, 6]
    assert check(pb, s) == []


def test_active_schedule_does_not_wait_for_a_later_short_job():
    # j0 (long) available at 0, j1 (short) released at 1: both rules must start j0 at 0 in
    # non-delay mode, and the SPT active generator may delay only if j1 could finish before j0
    pb = one_machine([10, 1], releases=[0, 1])
    nd = dispatch(pb, "SPT", active=False)
    assert order_on(nd) == ["j0", "j1"]
    act = dispatch(pb, "SPT", active=True)
    assert order_on(act) == ["j1", "j0"] and act.makespan == 12  # j1 finishes at 2 < 10


@pytest.mark.parametrize("name", ["ft06.txt", "mk01.txt"])
def test_heuristic_improves_on_best_rule_and_stays_feasible(load, name):
    pb = load(name)
    best_rule = min(dispatch(pb, r).makespan for r in RULES)
    s = plan(pb, "makespan", time_limit=3, method="heuristic")
    assert check(pb, s) == []
    assert s.makespan <= best_rule
    assert s.makespan >= {"ft06.txt": 55, "mk01.txt": 40}[name]
    assert s.bound is not None and s.bound <= s.makespan


@pytest.mark.parametrize("objective", ["tardiness", "weighted_sum:1,3"])
def test_heuristic_with_tardiness_objectives_is_feasible(objective):
    for pb in (TARDY, PARALLEL):
        s = plan(pb, objective, time_limit=1, method="heuristic")
        assert check(pb, s) == []
        assert s.objective_value >= s.bound


def test_flatten_heads_and_tails_on_ft06(load):
    flat = flatten(load("ft06.txt"))
    # job 0 of ft06: durations 1 3 6 7 3 6 (sum 26): the last op's head is 20, first tail 25
    assert flat.head[5] == 20 and flat.tail[0] == 25
