"""The public entry of scheduling: ``plan(problem, objective, time_limit, method) -> Schedule``.

Methods:

* ``"milp"`` (default): best dispatching rule → tabu search → Pyomo/HiGHS MILP warm-started from
  it.  The MILP's status, bound and gap are reported; if it finds nothing better in time, or
  fails, the heuristic schedule is returned with status ``fallback`` (bound still reported).
* ``"heuristic"``: best dispatching rule improved by tabu search.
* ``"dispatch:RULE"`` with RULE in FIFO, SPT, EDD, CR, ATC, MWKR (``dispatch:RULE:nondelay`` for
  a non-delay schedule); ``"dispatch"`` alone tries them all and keeps the best.
"""

from __future__ import annotations

import math
import time

from vfactory.schedule import model
from vfactory.schedule._flat import flatten, makespan_twt, to_operations
from vfactory.schedule.bounds import objective_lower_bound
from vfactory.schedule.dispatch import RULES, best_rule, generate
from vfactory.schedule.improve import improve
from vfactory.schedule.problem import Problem
from vfactory.schedule.solution import Objective, Schedule, relative_gap

MAX_DISJUNCTIONS = 20_000  # pairs of operations that share a machine, the MILP's size driver


def _disjunctions(problem: Problem) -> int:
    per_machine: dict[str, int] = {}
    for job in problem.jobs:
        for op in job.operations:
            for machine, _ in op.alternatives:
                per_machine[machine] = per_machine.get(machine, 0) + 1
    return sum(n * (n - 1) // 2 for n in per_machine.values())


def plan(
    problem: Problem,
    objective: str | Objective = "makespan",
    time_limit: float = 30.0,
    method: str = "milp",
    *,
    heuristic_share: float = 0.5,
    seed: int = 0,
) -> Schedule:
    """Schedule ``problem`` minimising ``objective`` within about ``time_limit`` seconds.

    ``heuristic_share`` is the fraction of the time given to the tabu search before the MILP
    (the search stops earlier when it reaches the lower bound).
    """
    t0 = time.perf_counter()
    obj = Objective.parse(objective)
    if time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
    flat = flatten(problem)
    coef = obj.coefficients
    lower = objective_lower_bound(flat, coef)
    integral = problem.is_integral and all(float(c).is_integer() for c in coef) and all(
        float(j.weight).is_integer() for j in problem.jobs
    )
    if integral:
        lower = math.ceil(lower - 1e-9)
    notes: list[str] = []

    meth = method.lower()
    if meth.startswith("dispatch"):
        parts = method.split(":")
        if len(parts) == 1:
            rule, mach, start, _ = best_rule(flat, obj)
        else:
            rule = parts[1].upper()
            if rule not in RULES:
                raise ValueError(f"unknown dispatching rule {parts[1]!r}; choose one of {RULES}")
            active = not (len(parts) > 2 and parts[2].lower() == "nondelay")
            mach, start = generate(flat, rule, active=active)
            rule += "" if active else ":nondelay"
        return _schedule(problem, flat, obj, mach, start, "feasible", f"dispatch:{rule}", lower, t0, notes)

    if meth not in ("milp", "heuristic"):
        raise ValueError(f"unknown method {method!r}; use 'milp', 'heuristic' or 'dispatch:RULE'")
    if meth == "milp":
        model.check_solver()  # fail before spending time on the heuristic

    # the rules get at most a quarter of the time (large order books: each rule is O(n^2))
    rule, mach, start, value = best_rule(flat, obj, deadline=t0 + 0.25 * time_limit)
    notes.append(f"best dispatching rule {rule}: {value:g}")
    ts_end = t0 + time_limit * (heuristic_share if meth == "milp" else 1.0)
    # restart the search (new seed, from the best schedule) while it keeps improving
    for run in range(1000):
        left = ts_end - time.perf_counter()
        if left <= 0 or value <= lower + 1e-9:
            break
        mach, start, new_value = improve(flat, mach, start, obj, time_limit=left,
                                         lower_bound=lower, seed=seed + run)
        improved = new_value < value - 1e-9
        value = min(value, new_value)
        if not improved:
            break
    notes.append(f"tabu search: {value:g}")
    if meth == "heuristic" or value <= lower + 1e-9:
        status = "optimal" if value <= lower + 1e-9 else "feasible"
        if meth == "milp":
            notes.append("heuristic reached the lower bound: optimal without the MILP")
        return _schedule(problem, flat, obj, mach, start, status, meth, lower, t0, notes)

    pairs = _disjunctions(problem)
    if pairs > MAX_DISJUNCTIONS:
        # building the big-M model alone would overrun the time limit: keep the heuristic
        notes.append(f"MILP skipped: {pairs} machine-sharing pairs (limit {MAX_DISJUNCTIONS}) "
                     "cannot be modelled within the time limit")
        return _schedule(problem, flat, obj, mach, start, "feasible", "milp", lower, t0, notes)
    remaining = max(1.0, time_limit - (time.perf_counter() - t0))
    res = model.solve(flat, obj, time_limit=remaining, warm=(mach, start), lower=lower,
                      integral=integral, seed=seed)
    bound = max(lower, res.bound) if res.bound is not None else lower
    notes.append(f"MILP: {res.status} ({res.message}), objective {res.objective}, bound {res.bound}")
    if res.mach is None or res.start is None or res.objective is None or res.objective > value + 1e-9:
        # the MILP gave nothing better than its warm start: return the heuristic, say so
        status = "optimal" if value <= bound + 1e-9 else "fallback"
        return _schedule(problem, flat, obj, mach, start, status, "milp", bound, t0, notes)
    status = res.status
    if res.objective <= bound + 1e-9:
        status = "optimal"
    return _schedule(problem, flat, obj, res.mach, res.start, status, "milp", bound, t0, notes)


def _schedule(problem, flat, obj, mach, start, status, method, bound, t0, notes) -> Schedule:
    cmax, twt = makespan_twt(flat, mach, start)
    value = obj.value(cmax, twt)
    bound = min(bound, value) if bound is not None else None
    gap = relative_gap(value, bound)
    if status == "optimal":
        gap = 0.0
    return Schedule(
        operations=to_operations(flat, mach, start),
        objective=str(obj),
        objective_value=value,
        makespan=cmax,
        total_weighted_tardiness=twt,
        status=status,
        method=method,
        bound=bound,
        gap=gap,
        solve_time_s=time.perf_counter() - t0,
        problem_name=problem.name,
        machines=problem.machines,
        notes=notes,
    )
