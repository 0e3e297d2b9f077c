"""Tabu search on machine sequences: the improvement heuristic behind warm starts and fallbacks.

Neighbourhood (Nowicki & Smutnicki 1996, extended): on the critical path to the jobs that make the
objective, swap the first two and the last two operations of every block of consecutive
operations on one machine; for operations with alternative machines, also move a critical
operation to another eligible machine, inserted where its current start time fits.  Each
neighbour is decoded into earliest start times (releases and setups included).  A short tabu list
forbids undoing a move; a move that beats the best schedule so far is always allowed.  When the
search stalls, it restarts from the best schedule after a few random swaps.
"""

from __future__ import annotations

import random
import time

from vfactory.schedule._flat import Flat, decode, makespan_twt, sequences_from_starts
from vfactory.schedule.solution import Objective

_EPS = 1e-9


def _critical_path(flat: Flat, mach: list[int], seqs: list[list[int]], start: list[float], end_op: int) -> list[int]:
    """Operations on one critical path ending at ``end_op``, in time order."""
    mprev = {}
    for seq in seqs:
        for a, b in zip(seq, seq[1:], strict=False):
            mprev[b] = a
    path = [end_op]
    o = end_op
    while True:
        s = start[o]
        q = mprev.get(o, -1)
        p = flat.prev_op[o]
        # prefer the machine predecessor: it keeps blocks long, which is where moves live
        if q >= 0 and abs(start[q] + flat.dur[q][mach[q]] + flat.setup_time(mach[o], q, o) - s) < _EPS:
            o = q
        elif p >= 0 and abs(start[p] + flat.dur[p][mach[p]] - s) < _EPS:
            o = p
        else:
            break
        path.append(o)
    path.reverse()
    return path


def _target_jobs(flat: Flat, mach: list[int], start: list[float], coef: tuple[float, float]) -> list[int]:
    """Last operations of the jobs whose completion drives the objective."""
    ends = []
    for j, ops in enumerate(flat.job_ops):
        last = ops[-1]
        c = start[last] + flat.dur[last][mach[last]]
        ends.append((c, j, last))
    targets = []
    if coef[0]:
        cmax = max(e[0] for e in ends)
        targets += [e[2] for e in ends if e[0] >= cmax - _EPS][:2]
    if coef[1]:
        tardy = sorted(
            ((flat.weight[j] * (c - flat.due[j]), last) for c, j, last in ends if c > flat.due[j] + _EPS),
            reverse=True,
        )
        targets += [last for _, last in tardy[:3]]
    return list(dict.fromkeys(targets))


def _moves(flat: Flat, mach, seqs, start, coef):
    """Candidate moves: ("swap", k, i) swaps seqs[k][i], seqs[k][i+1]; ("move", o, k2, i)."""
    pos = {}
    for k, seq in enumerate(seqs):
        for i, o in enumerate(seq):
            pos[o] = i
    moves = []
    seen = set()
    for last in _target_jobs(flat, mach, start, coef):
        path = _critical_path(flat, mach, seqs, start, last)
        # blocks: maximal runs of consecutive path ops on the same machine, adjacent in sequence
        blocks: list[list[int]] = []
        for o in path:
            if blocks and mach[blocks[-1][-1]] == mach[o] and pos[blocks[-1][-1]] + 1 == pos[o]:
                blocks[-1].append(o)
            else:
                blocks.append([o])
        for b in blocks:
            if len(b) >= 2:
                k = mach[b[0]]
                for i in {pos[b[0]], pos[b[-2]]}:
                    mv = ("swap", k, i)
                    if mv not in seen:
                        seen.add(mv)
                        moves.append(mv)
        for o in path:
            if len(flat.alts[o]) > 1:
                for k2, _ in flat.alts[o]:
                    if k2 == mach[o]:
                        continue
                    seq2 = seqs[k2]
                    i = 0
                    while i < len(seq2) and start[seq2[i]] <= start[o]:
                        i += 1
                    for ins in {i, max(0, i - 1)}:
                        mv = ("move", o, k2, ins)
                        if mv not in seen:
                            seen.add(mv)
                            moves.append(mv)
    return moves


def _apply(mach, seqs, mv):
    """Return (new mach, new seqs, tabu attribute) for a move; the inputs are not modified."""
    if mv[0] == "swap":
        _, k, i = mv
        seq = list(seqs[k])
        a, b = seq[i], seq[i + 1]
        seq[i], seq[i + 1] = b, a
        new = list(seqs)
        new[k] = seq
        return mach, new, ("arc", a, b)  # forbid putting a before b again
    _, o, k2, ins = mv
    k1 = mach[o]
    new = list(seqs)
    new[k1] = [x for x in seqs[k1] if x != o]
    s2 = list(seqs[k2])
    s2.insert(ins, o)
    new[k2] = s2
    m2 = list(mach)
    m2[o] = k2
    return m2, new, ("mach", o, k1)  # forbid moving o back to k1


def _is_tabu(tabu: dict, it: int, mv, mach, seqs) -> bool:
    if mv[0] == "swap":
        _, k, i = mv
        b, a = seqs[k][i], seqs[k][i + 1]  # after the swap a comes before b
        return tabu.get(("arc", a, b), -1) > it
    _, o, k2, _ = mv
    return tabu.get(("mach", o, k2), -1) > it


def tabu_search(
    flat: Flat,
    mach: list[int],
    start: list[float],
    objective: Objective,
    *,
    time_limit: float = 5.0,
    max_iter: int = 1_000_000,
    lower_bound: float = 0.0,
    tenure: int = 8,
    stall: int = 400,
    seed: int = 0,
) -> tuple[list[int], list[float], float]:
    """Improve a feasible schedule; returns (machine of each op, start times, objective value)."""
    rng = random.Random(seed)
    coef = objective.coefficients
    t_end = time.perf_counter() + time_limit
    seqs = sequences_from_starts(flat, mach, start)
    start = decode(flat, mach, seqs) or start
    value = objective.value(*makespan_twt(flat, mach, start))
    best = (list(mach), list(start), value)
    tabu: dict = {}
    since_best = 0
    for it in range(max_iter):
        if best[2] <= lower_bound + _EPS or time.perf_counter() > t_end:
            break
        moves = _moves(flat, mach, seqs, start, coef)
        chosen = None
        for mv in moves:
            m2, s2, attr = _apply(mach, seqs, mv)
            st = decode(flat, m2, s2)
            if st is None:
                continue
            v = objective.value(*makespan_twt(flat, m2, st))
            if _is_tabu(tabu, it, mv, mach, seqs) and v >= best[2] - _EPS:
                continue
            # random tie-breaking keeps the search from cycling on plateaus
            score = (v, rng.random())
            if chosen is None or score < chosen[0]:
                chosen = (score, m2, s2, st, attr)
        if chosen is None or since_best > stall:
            # perturb the best schedule: random adjacent swaps on machines
            mach = list(best[0])
            seqs = sequences_from_starts(flat, mach, best[1])
            for _ in range(rng.randint(2, 6)):
                k = rng.randrange(flat.n_machines)
                if len(seqs[k]) >= 2:
                    i = rng.randrange(len(seqs[k]) - 1)
                    trial = list(seqs)
                    trial[k] = list(seqs[k])
                    trial[k][i], trial[k][i + 1] = trial[k][i + 1], trial[k][i]
                    if decode(flat, mach, trial) is not None:
                        seqs = trial
            start = decode(flat, mach, seqs)
            assert start is not None
            tabu.clear()
            since_best = 0
            continue
        (v, _), mach, seqs, start, attr = chosen
        tabu[attr] = it + tenure + rng.randint(0, 3)
        if v < best[2] - _EPS:
            best = (list(mach), list(start), v)
            since_best = 0
        else:
            since_best += 1
    return best
