"""Index-based view of a :class:`Problem` shared by the dispatcher, the local search and the MILP.

Operations are numbered 0…N−1 job by job; machines and products by their position.  A solution
is an assignment (machine of each operation) plus a sequence per machine; :func:`decode` turns it
into the earliest (semi-active) start times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vfactory.schedule.problem import Problem
from vfactory.schedule.solution import Objective, ScheduledOperation, kpis


@dataclass
class Flat:
    problem: Problem
    n_ops: int
    n_machines: int
    job_of: list[int]
    pos_of: list[int]
    prev_op: list[int]  # -1 for the first operation of a job
    next_op: list[int]  # -1 for the last
    job_ops: list[list[int]]
    alts: list[list[tuple[int, float]]]  # (machine index, duration)
    dur: list[dict[int, float]]  # machine index -> duration
    product_of_job: list[int]
    release: list[float]
    due: list[float]  # +inf when absent
    weight: list[float]
    setup: list[list[list[float]]] | None  # setup[k][prev product][next product]
    head: list[float]  # earliest possible start (release + min durations of predecessors)
    tail: list[float]  # min durations of the successors (excluding the operation itself)

    def setup_time(self, k: int, prev_op: int, op: int) -> float:
        if self.setup is None or prev_op < 0:
            return 0.0
        return self.setup[k][self.product_of_job[self.job_of[prev_op]]][
            self.product_of_job[self.job_of[op]]
        ]


def flatten(problem: Problem) -> Flat:
    machines = {m: k for k, m in enumerate(problem.machines)}
    products: dict[str, int] = {}
    for j in problem.jobs:
        products.setdefault(j.product or f"__job_{j.id}", len(products))
    job_of: list[int] = []
    pos_of: list[int] = []
    prev_op: list[int] = []
    next_op: list[int] = []
    alts: list[list[tuple[int, float]]] = []
    dur: list[dict[int, float]] = []
    job_ops: list[list[int]] = []
    head: list[float] = []
    tail: list[float] = []
    for ji, j in enumerate(problem.jobs):
        ids = []
        t = j.release
        for pi, op in enumerate(j.operations):
            o = len(job_of)
            ids.append(o)
            job_of.append(ji)
            pos_of.append(pi)
            prev_op.append(o - 1 if pi > 0 else -1)
            next_op.append(o + 1 if pi < len(j.operations) - 1 else -1)
            a = [(machines[m], float(d)) for m, d in op.alternatives]
            alts.append(a)
            dur.append(dict(a))
            head.append(t)
            t += op.min_duration
        rest = 0.0
        tails = []
        for op in reversed(j.operations):
            tails.append(rest)
            rest += op.min_duration
        tail.extend(reversed(tails))
        job_ops.append(ids)
    setup = None
    if problem.has_setups:
        P = len(products)
        setup = [[[0.0] * P for _ in range(P)] for _ in problem.machines]
        for m, table in problem.setups.items():
            k = machines[m]
            for (pa, pb), t in table.items():
                if pa in products and pb in products:
                    setup[k][products[pa]][products[pb]] = float(t)
    return Flat(
        problem=problem,
        n_ops=len(job_of),
        n_machines=len(problem.machines),
        job_of=job_of,
        pos_of=pos_of,
        prev_op=prev_op,
        next_op=next_op,
        job_ops=job_ops,
        alts=alts,
        dur=dur,
        product_of_job=[products[j.product or f"__job_{j.id}"] for j in problem.jobs],
        release=[float(j.release) for j in problem.jobs],
        due=[math.inf if j.due is None else float(j.due) for j in problem.jobs],
        weight=[float(j.weight) for j in problem.jobs],
        setup=setup,
        head=head,
        tail=tail,
    )


def decode(flat: Flat, mach: list[int], seqs: list[list[int]]) -> list[float] | None:
    """Earliest start times for the given machine sequences; None if the sequences form a cycle."""
    n = flat.n_ops
    start = [0.0] * n
    indeg = [0] * n
    mprev = [-1] * n
    mnext = [-1] * n
    for seq in seqs:
        for a, b in zip(seq, seq[1:], strict=False):
            mprev[b] = a
            mnext[a] = b
    for o in range(n):
        indeg[o] = (flat.prev_op[o] >= 0) + (mprev[o] >= 0)
    ready = [o for o in range(n) if indeg[o] == 0]
    prev_op, next_op, job_of, release, dur = flat.prev_op, flat.next_op, flat.job_of, flat.release, flat.dur
    has_setup = flat.setup is not None
    done = 0
    while ready:
        o = ready.pop()
        done += 1
        s = release[job_of[o]]
        p = prev_op[o]
        if p >= 0:
            e = start[p] + dur[p][mach[p]]
            if e > s:
                s = e
        q = mprev[o]
        if q >= 0:
            e = start[q] + dur[q][mach[q]]
            if has_setup:
                e += flat.setup_time(mach[o], q, o)
            if e > s:
                s = e
        start[o] = s
        for nx in (next_op[o], mnext[o]):
            if nx >= 0:
                indeg[nx] -= 1
                if indeg[nx] == 0:
                    ready.append(nx)
    if done < n:
        return None
    return start


def evaluate(flat: Flat, mach: list[int], start: list[float], objective: Objective) -> float:
    cmax, twt = makespan_twt(flat, mach, start)
    return objective.value(cmax, twt)


def makespan_twt(flat: Flat, mach: list[int], start: list[float]) -> tuple[float, float]:
    cmax = 0.0
    twt = 0.0
    for j, ops in enumerate(flat.job_ops):
        last = ops[-1]
        c = start[last] + flat.dur[last][mach[last]]
        cmax = max(cmax, c)
        if c > flat.due[j]:
            twt += flat.weight[j] * (c - flat.due[j])
    return cmax, twt


def sequences_from_starts(flat: Flat, mach: list[int], start: list[float]) -> list[list[int]]:
    seqs: list[list[int]] = [[] for _ in range(flat.n_machines)]
    for o in sorted(range(flat.n_ops), key=lambda o: (start[o], start[o] + flat.dur[o][mach[o]], o)):
        seqs[mach[o]].append(o)
    return seqs


def to_operations(flat: Flat, mach: list[int], start: list[float]) -> list[ScheduledOperation]:
    pb = flat.problem
    out = []
    for o in range(flat.n_ops):
        job = pb.jobs[flat.job_of[o]]
        s = start[o]
        out.append(
            ScheduledOperation(
                job=job.id,
                index=flat.pos_of[o],
                machine=pb.machines[mach[o]],
                start=s,
                end=s + flat.dur[o][mach[o]],
                product=job.product,
            )
        )
    return out


def operations_kpis(flat: Flat, mach: list[int], start: list[float]) -> dict[str, float]:
    return kpis(flat.problem, to_operations(flat, mach, start))
