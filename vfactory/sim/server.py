"""One server of a station (a machine, an operator) and its time-weighted state clock.

States, time-weighted and summing to 1 per server: working, setup, blocked, starved, down
(failed, waiting for or under repair), off-shift. ``base`` is what the server is doing; holds
(a time-dependent failure, the end of a shift) override it while they last.

Loading a part (a station's ``load_time``) is setup among the six states; its clock is kept apart
(``LOADING``, a seventh slot of ``acc``) only so that results can report it and price it at idle
power, and is folded into setup when states are reported.
"""

from __future__ import annotations

WORKING, SETUP, BLOCKED, STARVED, DOWN, OFF_SHIFT = range(6)
LOADING = 6  # reported as part of SETUP
STATE_NAMES = ("working", "setup", "blocked", "starved", "down", "off_shift")


class Server:
    __slots__ = (
        "env", "index", "warmup", "base", "state", "since", "acc",
        "down", "off", "available", "proc", "in_work", "last_product", "failures_count",
    )  # fmt: skip

    def __init__(self, env, index: int, warmup: float):
        self.env = env
        self.index = index
        self.warmup = warmup
        self.base = STARVED
        self.state = STARVED
        self.since = 0.0
        self.acc = [0.0] * 7  # the six states + LOADING
        self.down = 0  # active failure holds
        self.off = 0  # active off-shift holds
        self.available = None  # event the server waits on while held
        self.proc = None
        self.in_work = False  # inside an interruptible work step
        self.last_product = None
        self.failures_count = 0

    def _switch(self, new: int) -> None:
        if new == self.state:
            return
        now = self.env.now
        w = self.warmup
        if now > w:
            t0 = self.since if self.since > w else w
            self.acc[self.state] += now - t0
        self.state = new
        self.since = now

    def set(self, base: int) -> None:
        """The server starts doing ``base`` (working, setup, loading, blocked, starved)."""
        self.base = base
        if not (self.down or self.off):
            self._switch(base)

    def hold(self, kind: int) -> None:
        """A failure (DOWN) or the end of a shift (OFF_SHIFT) stops this server."""
        if kind == DOWN:
            self.down += 1
        else:
            self.off += 1
        self._switch(DOWN if self.down else OFF_SHIFT)
        if self.in_work:
            self.in_work = False  # one interrupt per work step
            self.proc.interrupt()

    def release(self, kind: int) -> None:
        if kind == DOWN:
            self.down -= 1
        else:
            self.off -= 1
        if self.down:
            return
        if self.off:
            self._switch(OFF_SHIFT)
            return
        self._switch(self.base)
        ev = self.available
        if ev is not None:
            self.available = None
            ev.succeed()

    @property
    def held(self) -> bool:
        return bool(self.down or self.off)

    def flush(self, end: float) -> list[float]:
        """State times up to ``end`` (after warm-up)."""
        w = self.warmup
        t0 = self.since if self.since > w else w
        if end > t0:
            self.acc[self.state] += end - t0
        self.since = end
        return self.acc
