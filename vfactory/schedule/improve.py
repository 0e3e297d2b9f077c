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
    for seq in seqs:
        for i, o in enumerate(seq):
            pos[o] = i
    moves: list[tuple] = []
    seen: set[tuple] = set()
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
                    for ins in {max(0, i - 1), i, min(len(seq2), i + 1)}:
                        move = ("move", o, k2, ins)
                        if move not in seen:
                            seen.add(move)
                            moves.append(move)
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
    patience: int | None = None,
    seed: int = 0,
) -> tuple[list[int], list[float], float]:
    """Improve a feasible schedule; returns (machine of each op, start times, objective value).

    Any objective, flexible machines and setups; see :func:`improve` for the dispatcher.

    Stops at ``time_limit`` seconds, after ``max_iter`` iterations, when the value reaches
    ``lower_bound``, or after ``patience`` iterations without a new best (default
    ``max(3000, 100 × operations)``).
    """
    if patience is None:
        patience = max(3000, 100 * flat.n_ops)
    rng = random.Random(seed)
    coef = objective.coefficients
    t_end = time.perf_counter() + time_limit
    seqs = sequences_from_starts(flat, mach, start)
    start = decode(flat, mach, seqs) or start
    value = objective.value(*makespan_twt(flat, mach, start))
    best = (list(mach), list(start), value)
    tabu: dict = {}
    since_best = 0
    last_best_it = 0
    for it in range(max_iter):
        if best[2] <= lower_bound + _EPS or time.perf_counter() > t_end or it - last_best_it > patience:
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
            restarted = decode(flat, mach, seqs)
            assert restarted is not None  # only acyclic swaps were kept
            start = restarted
            tabu.clear()
            since_best = 0
            continue
        (v, _), mach, seqs, start, attr = chosen
        tabu[attr] = it + tenure + rng.randint(0, 3)
        if v < best[2] - _EPS:
            best = (list(mach), list(start), v)
            since_best = 0
            last_best_it = it
        else:
            since_best += 1
    return best


def tabu_search_jobshop(
    flat: Flat,
    mach: list[int],
    start: list[float],
    *,
    time_limit: float = 5.0,
    max_iter: int = 10_000_000,
    lower_bound: float = 0.0,
    tenure: int = 8,
    stall: int = 800,
    patience: int | None = None,
    seed: int = 0,
) -> tuple[list[int], list[float], float]:
    """Makespan tabu search for the classic job shop (fixed machines, no setups).

    Same N5 neighbourhood as :func:`tabu_search`, but moves are ranked by the estimate of
    Taillard (1994) from heads and tails, so an iteration costs two passes over the graph instead
    of one decode per neighbour.  Swapping two adjacent critical operations never creates a cycle,
    so every move is feasible.
    """
    if patience is None:
        patience = max(5_000, 300 * flat.n_ops)
    rng = random.Random(seed)
    n = flat.n_ops
    p = [flat.dur[o][mach[o]] for o in range(n)]
    rel = [flat.release[flat.job_of[o]] for o in range(n)]
    jp, js = flat.prev_op, flat.next_op
    seqs = sequences_from_starts(flat, mach, start)
    mp = [-1] * n
    ms = [-1] * n

    def link() -> None:
        for seq in seqs:
            for i, o in enumerate(seq):
                mp[o] = seq[i - 1] if i > 0 else -1
                ms[o] = seq[i + 1] if i + 1 < len(seq) else -1

    def heads_tails():
        indeg = [(jp[o] >= 0) + (mp[o] >= 0) for o in range(n)]
        stack = [o for o in range(n) if indeg[o] == 0]
        order = []
        r = [0.0] * n
        while stack:
            o = stack.pop()
            order.append(o)
            ro = rel[o]
            a = jp[o]
            if a >= 0 and r[a] + p[a] > ro:
                ro = r[a] + p[a]
            a = mp[o]
            if a >= 0 and r[a] + p[a] > ro:
                ro = r[a] + p[a]
            r[o] = ro
            for b in (js[o], ms[o]):
                if b >= 0:
                    indeg[b] -= 1
                    if indeg[b] == 0:
                        stack.append(b)
        q = [0.0] * n
        for o in reversed(order):
            qo = 0.0
            b = js[o]
            if b >= 0 and q[b] + p[b] > qo:
                qo = q[b] + p[b]
            b = ms[o]
            if b >= 0 and q[b] + p[b] > qo:
                qo = q[b] + p[b]
            q[o] = qo
        return r, q

    def critical_blocks(r, q, cmax):
        # start at a critical operation with no critical predecessor and walk forward
        o = min((o for o in range(n) if r[o] + p[o] + q[o] >= cmax - _EPS), key=lambda o: r[o])
        path = [o]
        while True:
            nxt = -1
            for b in (ms[o], js[o]):  # machine successor first: longer blocks
                if b >= 0 and abs(r[b] - r[o] - p[o]) < _EPS and r[b] + p[b] + q[b] >= cmax - _EPS:
                    nxt = b
                    break
            if nxt < 0:
                break
            path.append(nxt)
            o = nxt
        blocks: list[list[int]] = []
        for o in path:
            if blocks and ms[blocks[-1][-1]] == o:
                blocks[-1].append(o)
            else:
                blocks.append([o])
        return [b for b in blocks if len(b) >= 2]

    def estimate(u, v, r, q):
        a, b = mp[u], ms[v]
        rv = rel[v]
        if jp[v] >= 0:
            rv = max(rv, r[jp[v]] + p[jp[v]])
        if a >= 0:
            rv = max(rv, r[a] + p[a])
        ru = rel[u]
        if jp[u] >= 0:
            ru = max(ru, r[jp[u]] + p[jp[u]])
        ru = max(ru, rv + p[v])
        qu = 0.0
        if js[u] >= 0:
            qu = q[js[u]] + p[js[u]]
        if b >= 0:
            qu = max(qu, q[b] + p[b])
        qv = 0.0
        if js[v] >= 0:
            qv = q[js[v]] + p[js[v]]
        qv = max(qv, qu + p[u])
        return max(rv + p[v] + qv, ru + p[u] + qu)

    def swap(u, v) -> None:
        seq = seqs[mach[u]]
        i = seq.index(u)
        seq[i], seq[i + 1] = v, u
        a, b = mp[u], ms[v]
        if a >= 0:
            ms[a] = v
        if b >= 0:
            mp[b] = u
        mp[v], ms[v] = a, u
        mp[u], ms[u] = v, b

    link()
    r, q = heads_tails()
    cmax = max(r[o] + p[o] + q[o] for o in range(n))
    best_val = cmax
    best_seqs = [list(s) for s in seqs]
    tabu: dict[tuple[int, int], int] = {}
    t_end = time.perf_counter() + time_limit
    last_best = 0
    since = 0
    for it in range(max_iter):
        if best_val <= lower_bound + _EPS or it - last_best > patience:
            break
        if it % 64 == 0 and time.perf_counter() > t_end:
            break
        blocks = critical_blocks(r, q, cmax)
        moves = set()
        for blk in blocks:
            moves.add((blk[0], blk[1]))
            moves.add((blk[-2], blk[-1]))
        chosen = None
        for u, v in moves:
            est = estimate(u, v, r, q)
            if tabu.get((u, v), -1) > it and est >= best_val - _EPS:
                continue  # putting v before u again was made tabu
            score = (est, rng.random())
            if chosen is None or score < chosen[0]:
                chosen = (score, u, v)
        if chosen is None or since > stall:
            # restart from the best schedule after a few random critical swaps
            seqs[:] = [list(s) for s in best_seqs]
            link()
            for _ in range(rng.randint(2, 8)):
                r, q = heads_tails()
                c = max(r[o] + p[o] + q[o] for o in range(n))
                blks = critical_blocks(r, q, c)
                if not blks:
                    break
                blk = rng.choice(blks)
                i = rng.randrange(len(blk) - 1)
                swap(blk[i], blk[i + 1])
            tabu.clear()
            since = 0
        else:
            _, u, v = chosen
            swap(u, v)
            tabu[(v, u)] = it + tenure + rng.randint(0, tenure // 2)  # forbid u after v reverting
        r, q = heads_tails()
        cmax = max(r[o] + p[o] + q[o] for o in range(n))
        if cmax < best_val - _EPS:
            best_val = cmax
            best_seqs = [list(s) for s in seqs]
            last_best = it
            since = 0
        else:
            since += 1
    start_best = decode(flat, mach, best_seqs)
    assert start_best is not None
    return list(mach), start_best, float(best_val)


def improve(
    flat: Flat,
    mach: list[int],
    start: list[float],
    objective: Objective,
    *,
    time_limit: float = 5.0,
    lower_bound: float = 0.0,
    seed: int = 0,
) -> tuple[list[int], list[float], float]:
    """Best available local search: the fast job-shop tabu search for the makespan of a classic
    job shop, the general one otherwise."""
    classic = all(len(a) == 1 for a in flat.alts) and flat.setup is None
    if classic and objective.coefficients == (1.0, 0.0):
        return tabu_search_jobshop(flat, mach, start, time_limit=time_limit,
                                   lower_bound=lower_bound, seed=seed)
    return tabu_search(flat, mach, start, objective, time_limit=time_limit,
                       lower_bound=lower_bound, seed=seed)
