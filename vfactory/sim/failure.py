"""Failures and repairs: time-dependent failure clocks and the repair itself (with a crew).

Operation-dependent failures are counted down inside the station's work steps (see
``Station._busy``); time-dependent ones run a clock process per server and failure mode.
"""

from __future__ import annotations

from .server import DOWN, OFF_SHIFT


def repair(env, server, mttr, crew):
    """Hold the server down for a repair; waiting for a crew member counts as down."""
    server.hold(DOWN)
    server.failures_count += 1
    if crew is None:
        yield env.timeout(mttr())
    else:
        with crew.request() as req:
            yield req
            yield env.timeout(mttr())
    server.release(DOWN)


def time_failures(env, server, mtbf, mttr, crew):
    """Clock always runs: fail after mtbf, whatever the server is doing; repair; repeat."""
    while True:
        yield env.timeout(mtbf())
        yield from repair(env, server, mttr, crew)


def shifts(env, servers, period: float, windows):
    """Off-shift holds on every server outside the working windows of each period."""
    # transitions within one period: (time, +1 off / -1 on)
    edges = []
    t = 0.0
    for start, end in windows:
        if start > t:
            edges.append((t, start))  # off from t to start
        t = end
    if t < period:
        edges.append((t, period))
    if not edges:
        return
    base = 0.0

    while True:
        for off_start, off_end in edges:
            at = base + off_start
            if at > env.now:
                yield env.timeout(at - env.now)
            for s in servers:
                s.hold(OFF_SHIFT)
            yield env.timeout(base + off_end - env.now)
            for s in servers:
                s.release(OFF_SHIFT)
        base += period
        if base > env.now:
            yield env.timeout(base - env.now)


def work(env, server, duration: float, op_failures: list):
    """Spend ``duration`` of operating time on ``server``, pausing for failures and off-shift.

    ``op_failures`` holds one ``[operating time left to failure, mtbf, mttr, crew]`` per
    operation-dependent failure mode; time-dependent failures and shift ends arrive as
    interrupts (``Server.hold``), which end the current step early.
    """
    from simpy import Interrupt

    remaining = duration
    while remaining > 0:
        if server.down or server.off:
            ev = server.available = env.event()
            yield ev
            continue
        step, due = remaining, None
        for f in op_failures:
            if f[0] < step:
                step, due = f[0], f
        start = env.now
        server.in_work = True
        try:
            yield env.timeout(step)
            server.in_work = False
        except Interrupt:
            step = env.now - start  # a time-dependent failure or the end of a shift
            due = None
        remaining -= step
        for f in op_failures:
            f[0] -= step
        if due is not None:
            yield from repair(env, server, due[2], due[3])
            due[0] = due[1]()
