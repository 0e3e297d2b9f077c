"""Dispatching rules (FIFO, SPT, EDD, CR, ATC, MWKR) in a Giffler–Thompson schedule generator.

At each step the generator looks at the next operation of every job, on every eligible machine,
with the job's release, the machine's availability and the setup from the machine's previous
product.  *Active* mode (the default, Giffler & Thompson 1960) takes the machine where some
operation can finish earliest (c*) and lets the rule choose among the operations that could start
on it before c*; *non-delay* mode lets the rule choose among those that can start at the earliest
possible start time.  Every schedule produced is feasible by construction.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from vfactory.schedule._flat import Flat, flatten, makespan_twt, to_operations
from vfactory.schedule.problem import Problem
from vfactory.schedule.solution import Objective, Schedule

RULES = ("FIFO", "SPT", "EDD", "CR", "ATC", "MWKR")
"""FIFO: first come (job ready time); SPT: shortest processing time; EDD: earliest due date;
CR: critical ratio (time to due date / remaining work); ATC: apparent tardiness cost
(Vepsalainen & Morton 1987); MWKR: most work remaining."""


def _rule_key(rule: str, flat: Flat, atc_k: float) -> Callable[..., tuple]:
    """Key (smaller = dispatched first) of candidate (op, machine, est, job_ready, rem_work)."""
    pbar = sum(min(d for _, d in a) for a in flat.alts) / max(1, flat.n_ops) or 1.0

    def fifo(o, k, est, ready, rem):
        return (ready, flat.job_of[o])

    def spt(o, k, est, ready, rem):
        return (flat.dur[o][k], flat.job_of[o])

    def edd(o, k, est, ready, rem):
        return (flat.due[flat.job_of[o]], flat.dur[o][k], flat.job_of[o])

    def cr(o, k, est, ready, rem):
        d = flat.due[flat.job_of[o]]
        ratio = (d - est) / rem if rem > 0 else -math.inf
        return (ratio, flat.job_of[o])

    def atc(o, k, est, ready, rem):
        j = flat.job_of[o]
        p = flat.dur[o][k] or 1e-9
        slack = max(flat.due[j] - est - rem, 0.0)
        index = flat.weight[j] / p * math.exp(-slack / (atc_k * pbar)) if slack < math.inf else 0.0
        return (-index, p, j)

    def mwkr(o, k, est, ready, rem):
        return (-rem, flat.job_of[o])

    return {"FIFO": fifo, "SPT": spt, "EDD": edd, "CR": cr, "ATC": atc, "MWKR": mwkr}[rule]


def generate(
    flat: Flat, rule: str = "SPT", *, active: bool = True, atc_k: float = 2.0
) -> tuple[list[int], list[float]]:
    """Build one schedule; returns (machine of each operation, start of each operation)."""
    rule = rule.upper()
    if rule not in RULES:
        raise ValueError(f"unknown dispatching rule {rule!r}; choose one of {RULES}")
    key = _rule_key(rule, flat, atc_k)
    n_jobs = len(flat.job_ops)
    # remaining work per operation (this op and the rest of its job), with mean durations
    mean_d = [sum(d for _, d in a) / len(a) for a in flat.alts]
    rem_after = [0.0] * flat.n_ops
    for ops in flat.job_ops:
        acc = 0.0
        for o in reversed(ops):
            acc += mean_d[o]
            rem_after[o] = acc
    nxt = [0] * n_jobs
    job_ready = list(flat.release)
    mfree = [0.0] * flat.n_machines
    mlast = [-1] * flat.n_machines
    mach = [-1] * flat.n_ops
    start = [0.0] * flat.n_ops
    for _ in range(flat.n_ops):
        cands = []  # (o, k, est, ect)
        for j in range(n_jobs):
            if nxt[j] >= len(flat.job_ops[j]):
                continue
            o = flat.job_ops[j][nxt[j]]
            for k, p in flat.alts[o]:
                est = max(job_ready[j], mfree[k] + flat.setup_time(k, mlast[k], o))
                cands.append((o, k, est, est + p))
        if active:
            _, _, _, cstar = min(cands, key=lambda c: (c[3], c[2], c[1]))
            kstar = min((c for c in cands if c[3] == cstar), key=lambda c: (c[2], c[1]))[1]
            conflict = [c for c in cands if c[1] == kstar and c[2] < cstar]
        else:
            sstar = min(c[2] for c in cands)
            kstar = min((c for c in cands if c[2] == sstar), key=lambda c: (c[3], c[1]))[1]
            conflict = [c for c in cands if c[1] == kstar and c[2] == sstar]
        o, k, est, ect = min(
            conflict, key=lambda c: key(c[0], c[1], c[2], job_ready[flat.job_of[c[0]]], rem_after[c[0]])
        )
        j = flat.job_of[o]
        mach[o] = k
        start[o] = est
        mfree[k] = ect
        mlast[k] = o
        job_ready[j] = ect
        nxt[j] += 1
    return mach, start


def dispatch(
    problem: Problem,
    rule: str = "SPT",
    objective: str | Objective = "makespan",
    *,
    active: bool = True,
) -> Schedule:
    """Schedule ``problem`` with one dispatching rule."""
    t0 = time.perf_counter()
    obj = Objective.parse(objective)
    flat = flatten(problem)
    mach, start = generate(flat, rule, active=active)
    cmax, twt = makespan_twt(flat, mach, start)
    return Schedule(
        operations=to_operations(flat, mach, start),
        objective=str(obj),
        objective_value=obj.value(cmax, twt),
        makespan=cmax,
        total_weighted_tardiness=twt,
        status="feasible",
        method=f"dispatch:{rule.upper()}" + ("" if active else ":nondelay"),
        solve_time_s=time.perf_counter() - t0,
        problem_name=problem.name,
        machines=problem.machines,
    )


def best_rule(
    flat: Flat, objective: Objective, rules: tuple[str, ...] = RULES, deadline: float | None = None
) -> tuple[str, list[int], list[float], float]:
    """Try every rule in active and non-delay mode; return the best (rule, mach, start, value).

    ``deadline`` (time.perf_counter()): stop trying more rules once it has passed (one always runs).
    """
    import time

    best: tuple[str, list[int], list[float], float] | None = None
    for rule in rules:
        for active in (True, False):
            if best is not None and deadline is not None and time.perf_counter() > deadline:
                return best
            mach, start = generate(flat, rule, active=active)
            v = objective.value(*makespan_twt(flat, mach, start))
            if best is None or v < best[3] - 1e-9:
                best = (rule + ("" if active else ":nondelay"), mach, start, v)
    assert best is not None
    return best
