"""Lower bounds computed from the data alone, valid for any feasible schedule.

Used to report a bound for heuristic schedules, to stop the local search early when it reaches the
bound, and as cuts in the MILP.
"""

from __future__ import annotations

import heapq
import math

from vfactory.schedule._flat import Flat


def jackson_preemptive(heads: list[float], durations: list[float], tails: list[float]) -> float:
    """Optimal value of the preemptive one-machine problem max(C_i + q_i) (Jackson's rule).

    A relaxation of one machine of a job shop (heads = earliest starts, tails = work that must
    follow), hence a lower bound on the makespan.
    """
    order = sorted(range(len(heads)), key=lambda i: heads[i])
    left = list(durations)
    heap: list[tuple[float, int]] = []  # (-tail, i): run the largest tail first
    t = 0.0
    best = 0.0
    k = 0
    n = len(order)
    while k < n or heap:
        if not heap:
            t = max(t, heads[order[k]])
        while k < n and heads[order[k]] <= t:
            i = order[k]
            heapq.heappush(heap, (-tails[i], i))
            k += 1
        negq, i = heapq.heappop(heap)
        # run i until it finishes or the next release (which may preempt it)
        until = t + left[i]
        if k < n and heads[order[k]] < until:
            run = heads[order[k]] - t
            left[i] -= run
            t += run
            heapq.heappush(heap, (negq, i))
        else:
            t = until
            left[i] = 0.0
            best = max(best, t - negq)
    return best


def makespan_lower_bound(flat: Flat) -> float:
    """max of: longest job (release + minimum work), total minimum work / machines, and per machine
    the preemptive one-machine bound over the operations that can only run on that machine."""
    lb = 0.0
    for ops in flat.job_ops:
        last = ops[-1]
        lb = max(lb, flat.head[last] + min(d for _, d in flat.alts[last]))
    total = sum(min(d for _, d in a) for a in flat.alts)
    lb = max(lb, min(flat.release) + total / max(1, flat.n_machines))
    for k in range(flat.n_machines):
        ops = [o for o in range(flat.n_ops) if len(flat.alts[o]) == 1 and flat.alts[o][0][0] == k]
        if ops:
            lb = max(
                lb,
                jackson_preemptive(
                    [flat.head[o] for o in ops],
                    [flat.alts[o][0][1] for o in ops],
                    [flat.tail[o] for o in ops],
                ),
            )
    return lb


def tardiness_lower_bound(flat: Flat) -> float:
    """Σ w_j · max(0, earliest completion_j − d_j): each job alone on an empty shop."""
    total = 0.0
    for j, ops in enumerate(flat.job_ops):
        last = ops[-1]
        c = flat.head[last] + min(d for _, d in flat.alts[last])
        if math.isfinite(flat.due[j]) and c > flat.due[j]:
            total += flat.weight[j] * (c - flat.due[j])
    return total


def objective_lower_bound(flat: Flat, coefficients: tuple[float, float]) -> float:
    a, b = coefficients
    lb = 0.0
    if a:
        lb += a * makespan_lower_bound(flat)
    if b:
        lb += b * tardiness_lower_bound(flat)
    return lb
