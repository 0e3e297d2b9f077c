"""One replication of a line: builds stations, sources and crews from a ``Factory`` and runs it."""

from __future__ import annotations

import math

import numpy as np
import simpy

from ..layout import SECONDS_PER, Factory
from .failure import shifts
from .part import Part
from .random import Sampler, stream
from .server import DOWN, LOADING, OFF_SHIFT, SETUP, STATE_NAMES, WORKING
from .station import Station
from .stats import TimeAverage


class Line:
    """The running model of one replication; ``run()`` returns a flat dict of KPIs."""

    def __init__(
        self, factory: Factory, replication: int, seed: int | None = None, trace: bool = False
    ):
        fs = factory.factory
        self.factory = factory
        self.replication = replication
        self.seed = fs.seed if seed is None else seed
        self.unit = fs.time_unit
        self.warmup = fs.warmup
        self.end = fs.run_length
        self.env = simpy.Environment()
        self.trace: list | None = [] if trace else None
        self.crews = {
            name: simpy.Resource(self.env, capacity=c.size)
            for name, c in factory.repair_crews.items()
        }
        self.stations = {
            name: Station(self, name, spec, i)
            for i, (name, spec) in enumerate(factory.stations.items())
        }
        self.routes = {
            p: tuple(self.stations[s] for s in prod.route) for p, prod in factory.products.items()
        }
        self.wip = TimeAverage(self.warmup)
        self.n_in_system = 0
        self.next_id = 0
        self.released = 0
        self.completed = 0
        self.scrapped = 0
        self.lost = 0
        self.lead_times: list[float] = []
        self.exits = 0  # every exit, warm-up included (for time series)
        self.series: dict[str, list[float]] | None = None

    def stream(self, source: str) -> np.random.Generator:
        return stream(self.seed, self.replication, source)

    # -- parts entering and leaving ------------------------------------------------------------
    def release(self, product: str, at: Station | None = None) -> Part:
        now = self.env.now
        part = Part(self.next_id, product, self.routes[product], now)
        self.next_id += 1
        if now >= self.warmup:
            self.released += 1
        self.n_in_system += 1
        self.wip.set(now, self.n_in_system)
        if self.trace is not None:
            self.trace.append((now, part.id, product, "", "release"))
            if at is not None:
                self.trace.append((now, part.id, product, at.name, "enter"))
        return part

    def exit(self, part: Part, station: Station) -> None:
        now = self.env.now
        self.exits += 1
        self.n_in_system -= 1
        self.wip.set(now, self.n_in_system)
        if now >= self.warmup:
            self.completed += 1
            self.lead_times.append(now - part.released)
        if self.trace is not None:
            self.trace.append((now, part.id, part.product, station.name, "exit"))

    def scrap(self, part: Part, station: Station) -> None:
        now = self.env.now
        self.n_in_system -= 1
        self.wip.set(now, self.n_in_system)
        if now >= self.warmup:
            self.scrapped += 1
            station.scrapped += 1
        if self.trace is not None:
            self.trace.append((now, part.id, part.product, station.name, "scrap"))

    def _arrivals(self, product: str, arrival):
        env = self.env
        first = self.routes[product][0]
        balk = arrival.when_full == "balk"
        if arrival.times is not None:
            times = iter(arrival.times)

            def wait():
                return max(next(times) + arrival.start - env.now, 0.0)

            limit = len(arrival.times) if arrival.limit is None else min(arrival.limit, len(arrival.times))
        else:
            wait = Sampler(arrival.interarrival, self.stream(f"arrival/{product}"), self.unit)
            limit = arrival.limit
            if arrival.start > 0:
                yield env.timeout(arrival.start)
        releases = 0
        while limit is None or releases < limit:
            releases += 1
            yield env.timeout(wait())
            for _ in range(arrival.lot_size):
                if balk and first.full():
                    if env.now >= self.warmup:
                        self.lost += 1
                    continue
                ev = first.admit()
                if ev is not None:
                    yield ev  # the release waits for room in the first buffer
                first.put(self.release(product))

    def _monitor(self, every: float):
        s = self.series
        while True:
            s["time"].append(self.env.now)
            s["wip"].append(self.n_in_system)
            s["completed"].append(self.exits)
            yield self.env.timeout(every)

    # -- run -------------------------------------------------------------------------------------
    def run(self) -> dict:
        env = self.env
        for product, spec in self.factory.products.items():
            if spec.arrival == "saturated":
                self.routes[product][0].supply = product
            else:
                env.process(self._arrivals(product, spec.arrival))
        for st in self.stations.values():
            st.start()
        sh = self.factory.factory.shifts
        if sh is not None:
            servers = [s for st in self.stations.values() for s in st.servers]
            env.process(shifts(env, servers, sh.period, sh.working))
        if self.series is not None:
            env.process(self._monitor(self.end / 200))
        env.run(until=self.end)
        return self._kpis()

    def _kpis(self) -> dict:
        end, span = self.end, self.end - self.warmup
        hours_per_unit = SECONDS_PER[self.unit] / 3600.0
        k: dict = {}
        k["throughput"] = self.completed / span
        k["throughput_per_hour"] = k["throughput"] / hours_per_unit
        k["wip"] = self.wip.mean(end)
        lt = self.lead_times
        if lt:
            arr = np.asarray(lt)
            k["lead_time.mean"] = float(arr.mean())
            k["lead_time.p50"] = float(np.percentile(arr, 50))
            k["lead_time.p95"] = float(np.percentile(arr, 95))
        else:
            k["lead_time.mean"] = k["lead_time.p50"] = k["lead_time.p95"] = math.nan
        k["released"] = float(self.released)
        k["completed"] = float(self.completed)
        k["scrapped"] = float(self.scrapped)
        k["lost"] = float(self.lost)
        done = self.completed + self.scrapped
        k["scrap_rate"] = self.scrapped / done if done else 0.0
        energy = 0.0
        best, best_active = None, -1.0
        for name, st in self.stations.items():
            st.flush(end)
            n = len(st.servers)
            tot = [sum(s.acc[i] for s in st.servers) / (n * span) for i in range(6)]
            pre = f"stations.{name}."
            loading = None
            if st.spec.load_time is not None:
                # loading is setup among the six states, reported alone as well
                loading = sum(s.acc[LOADING] for s in st.servers) / (n * span)
                changeover = tot[SETUP]
                tot[SETUP] = changeover + loading
                k[pre + "loading"] = loading
            for i, sname in enumerate(STATE_NAMES):
                k[pre + sname] = tot[i]
            scheduled = 1.0 - tot[OFF_SHIFT]
            k[pre + "utilisation"] = tot[WORKING] / scheduled if scheduled > 0 else 0.0
            active = tot[WORKING] + tot[SETUP] + tot[DOWN]
            k[pre + "active"] = active
            if active > best_active + 1e-12:
                best, best_active = name, active
            k[pre + "buffer_wip"] = st.queue_len.mean(end)
            k[pre + "wait.mean"] = st.wait_sum / st.n_started if st.n_started else math.nan
            k[pre + "p_wait"] = st.n_waited / st.n_started if st.n_started else math.nan
            k[pre + "processed"] = float(st.processed)
            k[pre + "scrapped"] = float(st.scrapped)
            k[pre + "failures"] = float(sum(s.failures_count for s in st.servers))
            pw = st.spec.power_kw
            setup_kw = pw.working if pw.setup is None else pw.setup
            by_state = (pw.working, setup_kw, pw.idle, pw.idle, pw.down, 0.0)
            if loading is None:
                kwh = sum(tot[i] * by_state[i] for i in range(6)) * n * span * hours_per_unit
            else:  # loading draws idle power, changeover the setup power
                fr = list(tot)
                fr[SETUP] = changeover
                kwh = (
                    (sum(fr[i] * by_state[i] for i in range(6)) + loading * pw.idle)
                    * n
                    * span
                    * hours_per_unit
                )
            k[pre + "energy_kwh"] = kwh
            energy += kwh
        k["energy_kwh"] = energy
        k["energy_per_good_part_kwh"] = energy / self.completed if self.completed else math.nan
        k["bottleneck"] = best
        return k


def timeseries(factory: Factory, replication: int = 0, seed: int | None = None) -> dict[str, list[float]]:
    """WIP, output and station queues sampled 200 times over one replication (for plots)."""
    line = Line(factory, replication, seed)
    line.series = {"time": [], "wip": [], "completed": []}
    line.run()
    return line.series


def simulate_replication(
    factory: Factory, replication: int, seed: int | None = None, trace: bool = False
):
    """KPIs of one replication (and the event trace if asked for)."""
    line = Line(factory, replication, seed, trace)
    kpis = line.run()
    return (kpis, line.trace) if trace else kpis
