"""Samples for input modelling, taken from cleaned orders: process times, transfer gaps, releases.

A *transfer gap* is the time between a part's departure from its previous station (or its release)
and its arrival at the next station: transport, handling and waiting in the buffer in between. Its
*handling* part is what remains after the wait for the station to be free:
``arrive − max(previous departure, time a server of the station became free)``.

The *load* time of a visit is the handling after the wait, while the part already holds the
server (the layout's ``load_time``): ``start − max(ready, time a server became free)``, where the
part is *ready* when it arrives in the station's queue if the log shows that (a visit with its own
start event), else when it left the previous station (the queue is hidden in the gap, and the
arrival at the station is the start). Without start events the load time is the handling above.
Its *transport* part is the time between leaving the previous station and arriving in a visible
queue (zero when the queue is hidden in the gap).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from .clean import CleanLog


@dataclass(frozen=True)
class Gap:
    case: str
    product: str
    station: str
    begin: float  # departure from the previous station (or release)
    end: float  # arrival at the station
    handling: float
    load: float = 0.0  # server held before processing, after the wait for it
    transport: float = 0.0  # departure → arrival in a visible queue


    @property
    def length(self) -> float:
        return self.end - self.begin


def process_times(log: CleanLog) -> dict[tuple[str, str], list[tuple[float, float, str]]]:
    """(station, product) -> [(start, process time, case)] of completed orders, in start order."""
    out: dict[tuple[str, str], list[tuple[float, float, str]]] = {}
    for o in log.completed:
        for v in o.stations:
            out.setdefault((v.location, o.product), []).append((v.t_start, v.process_time, o.case))
    for obs in out.values():
        obs.sort()
    return out


def gaps(log: CleanLog) -> list[Gap]:
    """Transfer gaps of completed orders, with the handling, load and transport parts of each."""
    done = log.completed
    # when did a server of each station become free for the part starting at a given time?
    starts: dict[str, list[tuple[float, float, str]]] = {}
    for o in done:
        for v in o.stations:
            starts.setdefault(v.location, []).append((v.t_start, v.depart, o.case))  # type: ignore[arg-type]
    free_for: dict[tuple[str, str], float] = {}
    for st, items in starts.items():
        items.sort()
        k = log.servers.get(st, 1)
        departs: list[float] = []  # kept sorted
        for _, d, case in items:
            free_for[(st, case)] = departs[-k] if len(departs) >= k else -np.inf
            bisect.insort(departs, d)
    out = []
    for o in done:
        prev = o.release
        for v in o.stations:
            f = free_for[(v.location, o.case)]
            handling = max(v.arrive - max(prev, f), 0.0)
            queue_seen = v.start is not None
            ready = v.arrive if queue_seen else prev
            load = max(v.t_start - max(ready, f), 0.0)
            transport = max(v.arrive - prev, 0.0) if queue_seen else 0.0
            out.append(
                Gap(o.case, o.product, v.location, prev, v.arrive, handling, load, transport)
            )
            prev = v.depart  # type: ignore[assignment]
    return out


def interarrivals(releases: list[float]) -> list[float]:
    r = sorted(releases)
    return [b - a for a, b in zip(r, r[1:])]


def max_parts(intervals: list[tuple[float, float]]) -> int:
    """Most intervals [begin, end) open at once."""
    marks = sorted(
        [(a, 1) for a, b in intervals if b > a] + [(b, -1) for a, b in intervals if b > a]
    )
    n = best = 0
    for _, d in marks:
        n += d
        best = max(best, n)
    return best
