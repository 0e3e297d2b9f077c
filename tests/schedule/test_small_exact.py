"""Small instances whose optimum is found here by brute-force enumeration, independently of the
solver: weighted tardiness in a job shop, and parallel machines with sequence-dependent setups."""

from __future__ import annotations

import itertools
import math

import pytest

from vfactory.schedule._flat import flatten
from vfactory.schedule.checker import check
from vfactory.schedule.dispatch import best_rule
from vfactory.schedule.planner import plan
from vfactory.schedule.problem import Job, Operation, Problem
from vfactory.schedule.solution import Objective


def earliest_starts(problem, assign, sequences):
    """Semi-active starts by fixed-point iteration; None when the sequences contradict routes."""
    ops = [(j.id, i) for j in problem.jobs for i in range(len(j.operations))]
    job = {j.id: j for j in problem.jobs}
    dur = {(jid, i): dict(job[jid].operations[i].alternatives)[assign[(jid, i)]] for jid, i in ops}
    start = {o: job[o[0]].release for o in ops}
    for _ in range(len(ops) + 2):
        changed = False
        for jid, i in ops:
            s = job[jid].release
            if i > 0:
                s = max(s, start[(jid, i - 1)] + dur[(jid, i - 1)])
            start_new = s
            for m, seq in sequences.items():
                if (jid, i) in seq:
                    k = seq.index((jid, i))
                    if k > 0:
                        prev = seq[k - 1]
                        setup = problem.setups.get(m, {}).get((job[prev[0]].product, job[jid].product), 0.0)
                        start_new = max(start_new, start[prev] + dur[prev] + setup)
            if start_new != start[(jid, i)]:
                start[(jid, i)] = start_new
                changed = True
        if not changed:
            return start, dur
    return None  # a cycle keeps pushing starts up


def objective_values(problem, start, dur):
    comp = {}
    for (jid, i), s in start.items():
        comp[jid] = max(comp.get(jid, 0.0), s + dur[(jid, i)])
    cmax = max(comp.values())
    twt = sum(j.weight * max(0.0, comp[j.id] - j.due) for j in problem.jobs if j.due is not None)
    return cmax, twt


def brute_force(problem, f):
    """min f(cmax, twt) over every assignment and every sequence on every machine."""
    ops = [(j.id, i) for j in problem.jobs for i in range(len(j.operations))]
    choices = [[m for m, _ in problem.job(jid).operations[i].alternatives] for jid, i in ops]
    best = math.inf
    for machines in itertools.product(*choices):
        assign = dict(zip(ops, machines, strict=True))
        groups = {m: [o for o in ops if assign[o] == m] for m in problem.machines}
        perms = [list(itertools.permutations(groups[m])) for m in problem.machines]
        for seqs in itertools.product(*perms):
            res = earliest_starts(problem, assign, dict(zip(problem.machines, seqs, strict=True)))
            if res is not None:
                best = min(best, f(*objective_values(problem, *res)))
    return best


def op(*alts):
    return Operation(tuple((m, float(d)) for m, d in alts))


# 4 jobs x 2 machines job shop, releases, due dates and weights chosen so that sequencing matters
TARDY = Problem(
    jobs=(
        Job("a", (op(("M1", 3)), op(("M2", 2))), release=0, due=6, weight=1),
        Job("b", (op(("M2", 4)), op(("M1", 2))), release=0, due=7, weight=3),
        Job("c", (op(("M1", 2)), op(("M2", 3))), release=2, due=8, weight=2),
        Job("d", (op(("M2", 1)), op(("M1", 4))), release=1, due=9, weight=4),
    ),
    name="tardy4",
)

# parallel (unrelated) machines, one-operation jobs, setups between products that obey the
# triangle inequality (setup = distance between products on a line), releases and due dates
POS = {"red": 0, "green": 2, "blue": 5}
SETUPS = {m: {(a, b): float(f * abs(POS[a] - POS[b])) for a in POS for b in POS if a != b}
          for m, f in (("P1", 1), ("P2", 2))}
PARALLEL = Problem(
    jobs=tuple(
        Job(jid, (op(("P1", d1), ("P2", d2)),), product=prod, release=r, due=due, weight=w)
        for jid, prod, d1, d2, r, due, w in [
            ("j1", "red", 4, 3, 0, 6, 1),
            ("j2", "blue", 3, 5, 0, 7, 2),
            ("j3", "red", 2, 2, 3, 8, 1),
            ("j4", "green", 5, 4, 1, 9, 3),
            ("j5", "blue", 2, 3, 2, 10, 2),
        ]
    ),
    setups=SETUPS,
    name="parallel5",
)


@pytest.mark.parametrize(
    ("objective", "f"),
    [
        ("tardiness", lambda c, t: t),
        ("makespan", lambda c, t: c),
        ("weighted_sum:1,2", lambda c, t: c + 2 * t),
    ],
)
@pytest.mark.parametrize("problem", [TARDY, PARALLEL], ids=["jobshop", "parallel-setups"])
def test_milp_matches_brute_force(problem, objective, f):
    expected = brute_force(problem, f)
    s = plan(problem, objective, time_limit=30, method="milp")
    assert check(problem, s) == []
    assert s.status == "optimal"
    assert s.objective_value == pytest.approx(expected)
    assert s.bound == pytest.approx(expected)


def test_brute_force_instances_are_not_trivial():
    """Optima are positive and, on the parallel-machine instance, better than every dispatching
    rule: the exact tests above would catch a solver that only returns its warm start."""
    assert brute_force(TARDY, lambda c, t: t) > 0
    for objective, f in (("tardiness", lambda c, t: t), ("makespan", lambda c, t: c)):
        rule_value = best_rule(flatten(PARALLEL), Objective.parse(objective))[3]
        assert rule_value > brute_force(PARALLEL, f)
    assert SETUPS["P1"][("red", "blue")] == SETUPS["P1"][("red", "green")] + SETUPS["P1"][("green", "blue")]
