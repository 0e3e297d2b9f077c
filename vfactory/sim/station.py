"""A station: its input buffer, its servers, and the life of one server as one generator.

Blocking after service: a finished part stays on its server (which is *blocked*) until the next
station admits it. A station admits a part when one of its ``buffer + servers × batch_size`` slots
is free; the part keeps the slot until it leaves the station. ``buffer`` counts only the slots
between stations, not parts in service (Gershwin's N = B + 2 for two machines).

A station with a ``load_time`` keeps the part's server busy loading it after taking it from the
queue and before processing (state setup, see ``server``); the part's wait ends when its server
takes it, and the trace's ``start`` marks the end of loading.

Same-time events resolve in a fixed order: SimPy's event order (first scheduled, first processed),
servers created in layout order, the longest-blocked upstream server admitted first, idle servers
served first-come-first-served.
"""

from __future__ import annotations

from collections import deque

from .failure import time_failures, work
from .part import Part
from .random import Sampler, Uniforms, stream
from .server import BLOCKED, DOWN, LOADING, SETUP, STARVED, WORKING, Server
from .stats import TimeAverage


class Station:
    def __init__(self, line, name: str, spec, index: int):
        env = line.env
        self.line = line
        self.env = env
        self.name = name
        self.spec = spec
        self.index = index
        self.batch = spec.batch_size
        self.queue: deque = deque()  # parts waiting in the input buffer
        self.idle: deque = deque()  # (event, product filter) of servers waiting for a part
        self.admission: deque = deque()  # events of upstream servers blocked on this station
        self.capacity = (
            None if spec.buffer is None else spec.buffer + spec.servers * spec.batch_size
        )
        self.occupied = 0
        self.supply: str | None = None  # saturated product, if any
        self.queue_len = TimeAverage(line.warmup)
        self.servers = [Server(env, i, line.warmup) for i in range(spec.servers)]
        # per-station counters (after warm-up)
        self.n_started = 0
        self.n_waited = 0
        self.wait_sum = 0.0
        self.scrapped = 0
        self.processed = 0
        self._process: dict[str, Sampler] = {}
        self._setup: dict[tuple, Sampler | None] = {}
        # samplers (and streams) exist only where a load time does: without one, no stream is
        # created and no number drawn, so every other stream stays as it was (bit for bit)
        self._load: dict[str, Sampler | None] | None = None if spec.load_time is None else {}
        self._scrap = Uniforms(line.stream(f"scrap/{name}")) if spec.scrap > 0 else None
        self._interruptible = bool(spec.failures) or line.factory.factory.shifts is not None

    # -- material flow ------------------------------------------------------------------------
    def admit(self):
        """Claim a slot for an incoming part: None if granted now, else an event to wait for."""
        if self.capacity is None or self.occupied < self.capacity:
            self.occupied += 1
            return None
        ev = self.env.event()
        self.admission.append(ev)
        return ev

    def full(self) -> bool:
        return self.capacity is not None and self.occupied >= self.capacity

    def _leave(self) -> None:
        """A part leaves: its slot goes to the longest-blocked upstream server, if any."""
        if self.admission:
            self.admission.popleft().succeed()
        else:
            self.occupied -= 1

    def put(self, part: Part) -> None:
        """A part that holds a slot here joins the queue (or goes straight to an idle server)."""
        now = self.env.now
        part.t_queue = now
        tr = self.line.trace
        if tr is not None:
            tr.append((now, part.id, part.product, self.name, "enter"))
        idle = self.idle
        if idle:
            for i, (ev, want) in enumerate(idle):
                if want is None or want == part.product:
                    del idle[i]
                    ev.succeed(part)
                    return
        self.queue.append(part)
        self.queue_len.set(now, len(self.queue))

    def _take(self, product: str | None):
        """Next part from the queue (of ``product`` if given), waiting while there is none."""
        q = self.queue
        if q:
            if product is None:
                part = q.popleft()
            else:
                part = next((p for p in q if p.product == product), None)
                if part is not None:
                    q.remove(part)
            if part is not None:
                self.queue_len.set(self.env.now, len(q))
                return part
        if product is None and self.supply is not None:
            self.occupied += 1
            return self.line.release(self.supply, self)
        ev = self.env.event()
        self.idle.append((ev, product))
        part = yield ev
        return part

    # -- random times ----------------------------------------------------------------------------
    def process_sampler(self, product: str) -> Sampler:
        s = self._process.get(product)
        if s is None:
            d = self.spec.process_time_for(product)
            s = self._process[product] = Sampler(
                d, self.line.stream(f"process/{self.name}/{product}"), self.line.unit
            )
        return s

    def load_sampler(self, product: str) -> Sampler | None:
        """Load times of ``product`` here (own stream ``load/<station>/<product>``), or None."""
        loads = self._load
        if loads is None:
            return None
        if product not in loads:
            d = self.spec.load_time_for(product)
            loads[product] = (
                None
                if d is None
                else Sampler(d, self.line.stream(f"load/{self.name}/{product}"), self.line.unit)
            )
        return loads[product]

    def setup_sampler(self, prev: str, nxt: str) -> Sampler | None:
        key = (prev, nxt)
        if key not in self._setup:
            st = self.spec.setup
            d = None
            if st is not None:
                d = st.changeover.get(prev, {}).get(nxt, st.default)
            self._setup[key] = (
                None
                if d is None
                else Sampler(d, self.line.stream(f"setup/{self.name}/{prev}/{nxt}"), self.line.unit)
            )
        return self._setup[key]

    # -- the life of one server -------------------------------------------------------------------
    def start(self) -> None:
        env, line = self.env, self.line
        for server in self.servers:
            op_failures = []
            for fl in self.spec.failures:
                key = f"failure/{self.name}/{fl.name}/{server.index}"
                mtbf = Sampler(fl.mtbf, line.stream(key + "/ttf"), line.unit)
                mttr = Sampler(fl.mttr, line.stream(key + "/ttr"), line.unit)
                crew = line.crews.get(fl.crew) if fl.crew else None
                if fl.mode == "time":
                    env.process(time_failures(env, server, mtbf, mttr, crew))
                else:
                    op_failures.append([mtbf(), mtbf, mttr, crew])
            server.proc = env.process(self._serve(server, op_failures))

    def _serve(self, server: Server, op_failures: list):
        """Wait for a part → maybe load it → maybe set up → work → wait for room downstream →
        release."""
        env, line = self.env, self.line
        warmup = line.warmup
        q = self.queue
        batch_size = self.batch
        interruptible = self._interruptible
        while True:
            # wait for a part (or a full batch of one product)
            if q:
                part = q.popleft()
                self.queue_len.set(env.now, len(q))
            else:
                server.set(STARVED)
                part = yield from self._take(None)
            batch = [part]
            while len(batch) < batch_size:
                server.set(STARVED)
                batch.append((yield from self._take(part.product)))
            now = env.now
            if now >= warmup:
                for p in batch:
                    w = now - p.t_queue
                    self.n_started += 1
                    self.wait_sum += w
                    if w > 0:
                        self.n_waited += 1
            product = part.product
            # loading: the server holds the part(s) but does not process yet
            if self._load is not None:
                load = self.load_sampler(product)
                duration = 0.0 if load is None else load()
                if duration > 0:  # a zero load time changes nothing, not even event order
                    server.set(LOADING)
                    if interruptible:  # operation-dependent failure clocks do not run
                        yield from self._busy(server, duration, [])
                    else:
                        yield env.timeout(duration)
            tr = line.trace
            if tr is not None:
                now = env.now
                for p in batch:
                    tr.append((now, p.id, p.product, self.name, "start"))
            # changeover
            if server.last_product is not None and server.last_product != product:
                setup = self.setup_sampler(server.last_product, product)
                if setup is not None:
                    server.set(SETUP)
                    yield from self._busy(server, setup(), op_failures)
            server.last_product = product
            # work
            server.set(WORKING)
            if interruptible:
                yield from self._busy(server, self.process_sampler(product)(), op_failures)
            else:
                yield env.timeout(self.process_sampler(product)())
            if tr is not None:
                for p in batch:
                    tr.append((env.now, p.id, p.product, self.name, "finish"))
            if env.now >= warmup:
                self.processed += len(batch)
            # hand the parts on, one by one; the server is blocked while the next station is full
            for p in batch:
                if self._scrap is not None and self._scrap() < self.spec.scrap:
                    self._leave()
                    line.scrap(p, self)
                    continue
                p.step += 1
                if p.step == len(p.route):
                    self._leave()
                    line.exit(p, self)
                    continue
                nxt = p.route[p.step]
                ev = nxt.admit()
                if ev is not None:
                    server.set(BLOCKED)
                    yield ev
                self._leave()
                if tr is not None:
                    tr.append((env.now, p.id, p.product, self.name, "leave"))
                nxt.put(p)

    def _busy(self, server: Server, duration: float, op_failures: list):
        """Spend ``duration`` of operating time, pausing for failures and off-shift periods."""
        return work(self.env, server, duration, op_failures)

    def flush(self, end: float) -> None:
        for s in self.servers:
            s.flush(end)


__all__ = ["Station", "DOWN", "stream"]
