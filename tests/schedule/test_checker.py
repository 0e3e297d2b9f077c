"""The independent checker accepts a hand-made feasible schedule and rejects each kind of error."""

from __future__ import annotations

import dataclasses

import pytest

from vfactory.schedule.checker import InfeasibleScheduleError, check, check_or_raise
from vfactory.schedule.problem import Job, Operation, Problem
from vfactory.schedule.solution import Schedule
from vfactory.schedule.solution import ScheduledOperation as Op

# Two jobs, two machines; job B may use M1 or M2 for its first operation; a setup of 2 on M1
# between products p and q; job B released at 1, due at 6.
PROBLEM = Problem(
    jobs=(
        Job("A", (Operation((("M1", 3.0),)), Operation((("M2", 2.0),))), product="p"),
        Job("B", (Operation((("M1", 2.0), ("M2", 4.0))), Operation((("M1", 1.0),))),
            product="q", release=1.0, due=6.0, weight=3.0),
    ),
    setups={"M1": {("p", "q"): 2.0, ("q", "p"): 2.0}},
)

# Feasible by hand: A0 on M1 [0,3]; A1 on M2 [3,5]; B0 on M1 after setup [5,7]; B1 on M1 [7,8].
GOOD = [Op("A", 0, "M1", 0, 3, "p"), Op("A", 1, "M2", 3, 5, "p"),
        Op("B", 0, "M1", 5, 7, "q"), Op("B", 1, "M1", 7, 8, "q")]


def sched(ops, makespan=None, twt=None):
    mk = max(o.end for o in ops) if makespan is None else makespan
    if twt is None:
        twt = 3.0 * max(0.0, max(o.end for o in ops if o.job == "B") - 6.0)
    return Schedule(operations=list(ops), objective="makespan", objective_value=mk, makespan=mk,
                    total_weighted_tardiness=twt, status="feasible", method="hand")


def replace(ops, i, **kw):
    out = list(ops)
    out[i] = dataclasses.replace(out[i], **kw)
    return out


def test_hand_made_feasible_schedule_passes():
    assert check(PROBLEM, sched(GOOD)) == []
    check_or_raise(PROBLEM, sched(GOOD))
    # B on the alternative machine M2 [1,5] is also feasible, A1 then waits: [5,7]
    alt = [Op("A", 0, "M1", 0, 3), Op("B", 0, "M2", 1, 5), Op("A", 1, "M2", 5, 7), Op("B", 1, "M1", 5, 6)]
    assert check(PROBLEM, sched(alt)) == []


@pytest.mark.parametrize(
    ("ops", "needle"),
    [
        # overlap on M2: B0 moved to M2 at [3,7] while A1 runs [3,5]
        (replace(replace(GOOD, 2, machine="M2", start=3, end=7), 3, start=7, end=8), "overlaps"),
        # precedence: A1 starts before A0 ends
        (replace(GOOD, 1, start=2, end=4), "before operation 0 of the job ends"),
        # eligibility: A1 on M1 (only M2 allowed)
        (replace(replace(GOOD, 1, machine="M1", start=8, end=10), 2, start=3, end=5), "eligible"),
        # duration: B1 lasts 2 instead of 1
        (replace(GOOD, 3, end=9), "lasts 2, expected 1"),
        # setup: B0 right after A0 on M1 with no room for the 2-unit setup
        (replace(replace(GOOD, 2, start=3, end=5), 3, start=5, end=6), "no room for the setup"),
        # release: B0 at time 0 on M2 although B is released at 1
        ([GOOD[0], Op("B", 0, "M2", 0, 4), Op("A", 1, "M2", 4, 6), Op("B", 1, "M1", 4, 5)], "before its release"),
        # an operation missing
        (GOOD[:3], "is not scheduled"),
        # an operation twice
        (GOOD + [Op("B", 1, "M1", 9, 10)], "scheduled 2 times"),
    ],
    ids=["overlap", "precedence", "eligibility", "duration", "setup", "release", "missing", "twice"],
)
def test_each_violation_is_reported(ops, needle):
    errors = check(PROBLEM, sched(ops))
    assert any(needle in e for e in errors), errors
    with pytest.raises(InfeasibleScheduleError):
        check_or_raise(PROBLEM, sched(ops))


def test_wrong_reported_kpis_are_reported():
    assert any("reported makespan" in e for e in check(PROBLEM, sched(GOOD, makespan=7)))
    # B ends at 8, due 6, weight 3: weighted tardiness 6
    assert any("weighted tardiness" in e for e in check(PROBLEM, sched(GOOD, twt=5.0)))
    assert check(PROBLEM, sched(GOOD, twt=6.0)) == []
