"""Pyomo disjunctive MILP of the (flexible) job shop, solved by HiGHS through highspy.

Variables: start ``s[o]`` of each operation, assignment ``x[o,k]`` (only for operations with
alternative machines), order ``y[a,b]`` (1: a before b) for each pair of operations of different
jobs that share an eligible machine, makespan ``cmax`` and tardiness ``t[j]``.  Disjunctions are
written with big-M constants tightened per pair from the variables' bounds (heads, tails and the
horizon).  Sequence-dependent setups enter the pair constraints; the pairwise model is exact when
setups obey the triangle inequality (otherwise it may over-count setups and return a feasible but
not optimal schedule).

Valid inequalities that make the LP bound useful: every operation's completion plus the minimum
work after it is ≤ cmax; per machine, the load it receives plus the smallest head and tail of its
operations is ≤ cmax; and cmax ≥ a combinatorial lower bound (Jackson's preemptive one-machine
bound).  With them, instances whose optimum equals a machine bound (la01, la05) are proven at the
root.

The heuristic schedule is passed to HiGHS as a MIP start (Pyomo's APPSI HiGHS interface); for
the makespan it also sets the horizon, so every big-M shrinks with a good warm start.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from vfactory.schedule._flat import Flat, decode, makespan_twt
from vfactory.schedule.bounds import makespan_lower_bound, tardiness_lower_bound
from vfactory.schedule.solution import Objective


class SolverUnavailableError(RuntimeError):
    """The MILP solver (HiGHS via highspy, through Pyomo) cannot be used here."""


@dataclass
class MilpResult:
    status: str  # "optimal", "time-limit", "feasible", "infeasible", "error"
    mach: list[int] | None
    start: list[float] | None
    objective: float | None
    bound: float | None
    solve_time_s: float
    message: str = ""


def _highs():
    try:
        import highspy  # noqa: F401
        from pyomo.contrib.appsi.solvers.highs import Highs
    except ImportError as exc:
        raise SolverUnavailableError(
            f"the MILP needs HiGHS through highspy and Pyomo ({exc}); install them with "
            "'pip install highspy pyomo', or use a dispatching rule (method='dispatch:SPT')"
        ) from None
    opt = Highs()
    if not opt.available():
        raise SolverUnavailableError(
            "HiGHS is not available to Pyomo (highspy import failed or is too old); "
            "install it with 'pip install highspy'"
        )
    return opt


def check_solver() -> None:
    """Raise :class:`SolverUnavailableError` with a clear message when HiGHS cannot be used."""
    _highs()


def horizon(flat: Flat) -> float:
    """Upper bound on the makespan of any semi-active schedule (no unforced idle time)."""
    total = max(flat.release)
    for o in range(flat.n_ops):
        total += max(d for _, d in flat.alts[o])
    if flat.setup is not None:
        smax = max((max(max(r) for r in mk) for mk in flat.setup), default=0.0)
        total += smax * flat.n_ops
    return total


def build(flat: Flat, objective: Objective, upper: float | None, lower: float):
    """The Pyomo model; ``upper`` bounds the objective when known (from a heuristic)."""
    import pyomo.environ as pyo

    a_coef, b_coef = objective.coefficients
    H = horizon(flat)
    if a_coef > 0 and upper is not None and math.isfinite(upper):
        # some optimal schedule has a*cmax + b*twt <= upper, hence cmax <= upper / a
        H = min(H, upper / a_coef)
    n = flat.n_ops
    mind = [min(d for _, d in flat.alts[o]) for o in range(n)]
    lo = [flat.head[o] for o in range(n)]
    hi = [max(lo[o], H - flat.tail[o] - mind[o]) for o in range(n)]

    m = pyo.ConcreteModel()
    m.O = pyo.RangeSet(0, n - 1)
    m.s = pyo.Var(m.O, within=pyo.NonNegativeReals, bounds=lambda _, o: (lo[o], hi[o]))
    flex = [(o, k) for o in range(n) if len(flat.alts[o]) > 1 for k, _ in flat.alts[o]]
    m.x = pyo.Var(flex, within=pyo.Binary)

    def xv(o, k):
        return m.x[o, k] if len(flat.alts[o]) > 1 else 1

    def p(o):
        if len(flat.alts[o]) == 1:
            return flat.alts[o][0][1]
        return sum(d * m.x[o, k] for k, d in flat.alts[o])

    m.assign = pyo.Constraint(
        [o for o in range(n) if len(flat.alts[o]) > 1],
        rule=lambda _, o: sum(m.x[o, k] for k, _ in flat.alts[o]) == 1,
    )
    m.prec = pyo.Constraint(
        [o for o in range(n) if flat.next_op[o] >= 0],
        rule=lambda _, o: m.s[flat.next_op[o]] >= m.s[o] + p(o),
    )

    # pairs of operations (different jobs) sharing at least one machine
    by_machine: list[list[int]] = [[] for _ in range(flat.n_machines)]
    for o in range(n):
        for k, _ in flat.alts[o]:
            by_machine[k].append(o)
    pairs: dict[tuple[int, int], list[int]] = {}
    for k, ops in enumerate(by_machine):
        for i, a in enumerate(ops):
            for b in ops[i + 1 :]:
                if flat.job_of[a] != flat.job_of[b]:
                    pairs.setdefault((a, b), []).append(k)
    m.y = pyo.Var(list(pairs), within=pyo.Binary)
    m.disj = pyo.ConstraintList()
    for (a, b), ks in pairs.items():
        for k in ks:
            sab = flat.setup_time(k, a, b)
            sba = flat.setup_time(k, b, a)
            da, db = flat.dur[a][k], flat.dur[b][k]
            m_ab = max(0.0, hi[a] + da + sab - lo[b])  # violation bound of "a before b"
            m_ba = max(0.0, hi[b] + db + sba - lo[a])
            both = (2 - xv(a, k) - xv(b, k)) if (len(flat.alts[a]) > 1 or len(flat.alts[b]) > 1) else 0
            m.disj.add(m.s[b] >= m.s[a] + da + sab - m_ab * (1 - m.y[a, b]) - m_ab * both)
            m.disj.add(m.s[a] >= m.s[b] + db + sba - m_ba * m.y[a, b] - m_ba * both)
    # same-job operations that may meet on one machine still need the setup between them
    if flat.setup is not None:
        for ops in flat.job_ops:
            for i, a in enumerate(ops):
                for b in ops[i + 1 :]:
                    for k in set(flat.dur[a]) & set(flat.dur[b]):
                        st = flat.setup_time(k, a, b)
                        if st > 0:
                            big = max(0.0, hi[a] + flat.dur[a][k] + st - lo[b])
                            m.disj.add(
                                m.s[b] >= m.s[a] + flat.dur[a][k] + st - big * (2 - xv(a, k) - xv(b, k))
                            )

    terms = []
    if a_coef > 0:
        m.cmax = pyo.Var(within=pyo.NonNegativeReals, bounds=(0, H))
        # completion + minimum remaining work <= cmax, for every operation
        m.tailcut = pyo.Constraint(m.O, rule=lambda _, o: m.cmax >= m.s[o] + p(o) + flat.tail[o])
        m.loadcut = pyo.ConstraintList()
        for k, ops in enumerate(by_machine):
            if ops:
                m.loadcut.add(
                    m.cmax
                    >= min(flat.head[o] for o in ops)
                    + sum(flat.dur[o][k] * xv(o, k) for o in ops)
                    + min(flat.tail[o] for o in ops)
                )
        m.cmax_lb = pyo.Constraint(expr=m.cmax >= makespan_lower_bound(flat))
        terms.append(a_coef * m.cmax)
    if b_coef > 0:
        jobs = [j for j in range(len(flat.job_ops)) if math.isfinite(flat.due[j])]
        m.t = pyo.Var(jobs, within=pyo.NonNegativeReals)
        m.tard = pyo.Constraint(
            jobs,
            rule=lambda _, j: m.t[j]
            >= m.s[flat.job_ops[j][-1]] + p(flat.job_ops[j][-1]) - flat.due[j],
        )
        terms.append(b_coef * sum(flat.weight[j] * m.t[j] for j in jobs))
        if jobs:
            m.twt_lb = pyo.Constraint(
                expr=sum(flat.weight[j] * m.t[j] for j in jobs) >= tardiness_lower_bound(flat)
            )
    m.obj = pyo.Objective(expr=sum(terms) if terms else 0, sense=pyo.minimize)
    if lower > 0 and terms:
        m.obj_lb = pyo.Constraint(expr=m.obj.expr >= lower)
    m._pairs = pairs
    m._flex = flex
    return m


def _load_warm_start(m, flat: Flat, mach: list[int], start: list[float], objective: Objective) -> None:
    a_coef, b_coef = objective.coefficients
    for o in range(flat.n_ops):
        m.s[o].set_value(min(max(start[o], m.s[o].lb), m.s[o].ub))
    for o, k in m._flex:
        m.x[o, k].set_value(1 if mach[o] == k else 0)
    for a, b in m._pairs:
        m.y[a, b].set_value(1 if (start[a], a) <= (start[b], b) else 0)
    cmax, _ = makespan_twt(flat, mach, start)
    if a_coef > 0:
        m.cmax.set_value(cmax)
    if b_coef > 0:
        for j in m.t:
            last = flat.job_ops[j][-1]
            m.t[j].set_value(max(0.0, start[last] + flat.dur[last][mach[last]] - flat.due[j]))


def solve(
    flat: Flat,
    objective: Objective,
    *,
    time_limit: float = 30.0,
    warm: tuple[list[int], list[float]] | None = None,
    lower: float = 0.0,
    integral: bool = False,
    threads: int = 1,
    seed: int = 0,
) -> MilpResult:
    """Solve the MILP with HiGHS within ``time_limit`` seconds (model building included)."""
    t0 = time.perf_counter()
    opt = _highs()
    upper = None
    if warm is not None:
        upper = objective.value(*makespan_twt(flat, *warm))
    m = build(flat, objective, upper, lower)
    if warm is not None:
        _load_warm_start(m, flat, warm[0], warm[1], objective)
    remaining = max(1.0, time_limit - (time.perf_counter() - t0))
    opt.config.time_limit = remaining
    opt.config.mip_gap = 0.0
    opt.config.load_solution = False
    opt.config.warmstart = warm is not None
    opt.highs_options = {
        "threads": threads,
        "random_seed": seed,
        # with integer data the objective is an integer: a gap below 1 proves optimality
        "mip_abs_gap": 1.0 - 1e-6 if integral else 1e-6,
    }
    try:
        res = opt.solve(m)
    except Exception as exc:  # the solver crashed: the caller falls back to the heuristic
        return MilpResult("error", None, None, None, None, time.perf_counter() - t0, str(exc))
    from pyomo.contrib.appsi.base import TerminationCondition as TC

    elapsed = time.perf_counter() - t0
    tc = res.termination_condition
    bound = res.best_objective_bound
    if bound is not None and not math.isfinite(bound):
        bound = None
    if bound is not None and integral:
        # the optimal objective is an integer: round the bound up, minus the solver's tolerance
        bound = math.ceil(bound - 1e-6)
    if res.best_feasible_objective is None:
        status = "infeasible" if tc == TC.infeasible else "error"
        return MilpResult(status, None, None, None, bound, elapsed, str(tc))
    res.solution_loader.load_vars()
    # Read the assignment and the order from the MILP, then recompute the earliest starts: this
    # removes the solver's tolerance noise and any slack the MILP left in the start times.
    mach: list[int] = []
    for o in range(flat.n_ops):
        if len(flat.alts[o]) == 1:
            mach.append(flat.alts[o][0][0])
        else:
            values = {k: m.x[o, k].value or 0.0 for k, _ in flat.alts[o]}
            mach.append(max(values, key=values.__getitem__))
    svals = [m.s[o].value or 0.0 for o in range(flat.n_ops)]
    seqs: list[list[int]] = [[] for _ in range(flat.n_machines)]
    for o in sorted(range(flat.n_ops), key=lambda o: (round(svals[o], 6), flat.job_of[o], o)):
        seqs[mach[o]].append(o)
    start = decode(flat, mach, seqs)
    if start is None:  # cannot happen for a feasible MILP solution; keep the solver's values
        start = svals
    value = objective.value(*makespan_twt(flat, mach, start))
    if tc == TC.optimal:
        status = "optimal"
        if integral:
            # proven within an absolute gap < 1 on an integer objective: the gap is zero
            bound = value
    elif tc == TC.maxTimeLimit:
        status = "time-limit"
    else:
        status = "feasible"
    return MilpResult(status, mach, start, value, bound, elapsed, str(tc))
