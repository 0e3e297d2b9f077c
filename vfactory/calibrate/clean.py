"""Cleaning a raw event log into station visits per order, with a data-quality report.

Each rule counts what it dropped or repaired and why (``DataQuality``). The rules, in order:

- ``not_part`` / ``unknown_event`` / ``unknown_location``: rows about another item (a component),
  with an event word or a location the mapping does not know: set aside.
- ``exact_duplicate``: a row equal to an earlier one in every mapped column: dropped.
- ``outside_run``: events outside the run window (the mapping's ``run_window``, or the longest
  stretch of events without a pause longer than ``run_gap_s``; the whole log if neither): dropped.
- ``out_of_order``: a row stamped earlier than a row before it in the file (recording order):
  repaired by sorting each order's events by time.
- ``negative_duration``: an entry/exit pair at one location whose exit is stamped before its entry
  in file order: the two stamps are swapped (the recording order is trusted over the clock).
- ``duplicate_event``: an entry into the location the part is already in, or a second exit from
  the location it just left (location tags read twice): dropped.
- ``missing_exit``: an entry elsewhere while the part is still at a location: the exit is taken as
  that entry's time (repaired). ``missing_entry``: an exit from a location never entered: the entry
  is taken as the part's previous event (repaired), or the exit is dropped if there is none.
- ``tag_bounce``: the part seen again at the same location within ``bounce_window_s`` of leaving it
  (the tag flickered between neighbouring zones): the visits are merged and the excursion dropped.
- ``revisit``: a station visited more than once after merging: the longest visit is kept.
- ``overlap``: a single-server station holding two parts at once: the later part's start is moved
  to the earlier part's departure (repaired), or its visit dropped if nothing is left.
- ``no_part_events`` / ``incomplete_order``: orders with no event of the flowing part, or whose
  station visits do not end with a departure: left out of KPIs and of the layout.

Times are in the mapping's time unit, relative to the start of the run window.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..layout import SECONDS_PER
from .errors import LogError
from .mapping import Mapping

RULES: dict[str, tuple[str, str]] = {
    # name: (action, why)
    "not_part": ("set aside", "row describes another item than the flowing part (part_filter)"),
    "unknown_event": ("dropped", "event word not in the mapping"),
    "unknown_location": ("dropped", "location matches no pattern of the mapping"),
    "exact_duplicate": ("dropped", "identical to an earlier row"),
    "outside_run": ("dropped", "timestamp outside the detected production run"),
    "out_of_order": ("repaired", "row stamped earlier than a row before it in the file; sorted"),
    "negative_duration": ("repaired", "exit stamped before its entry; the two stamps swapped"),
    "duplicate_event": ("dropped", "entry into the current location or second exit (tag re-read)"),
    "missing_exit": ("repaired", "no exit before the next entry; exit set to that entry's time"),
    "missing_entry": ("repaired", "exit without entry; entry set to the part's previous event"),
    "unmatched_exit": ("dropped", "exit without entry and no earlier event to repair it"),
    "unmatched_event": ("dropped", "start/finish at a location the part is not in"),
    "tag_bounce": ("repaired", "re-read at the same location within the bounce window; merged"),
    "revisit": ("dropped", "station visited again after merging; the longest visit kept"),
    "overlap": ("repaired", "single-server station holding two parts; later start moved"),
    "overlap_dropped": ("dropped", "visit wholly inside another part's visit at a single server"),
    "no_part_events": ("dropped", "order without any event of the flowing part"),
    "incomplete_order": ("dropped", "order without a departure from its last station"),
}
ORDER_LEVEL = {"no_part_events", "incomplete_order"}
_TIE_RANK = {"finish": 0, "leave": 1, "exit": 1, "scrap": 1, "release": 2, "enter": 3, "start": 4}


@dataclass
class DataQuality:
    """Counts per cleaning rule (events, visits or orders, as the rule says)."""

    rows_in: int = 0
    rows_used: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RULES, 0))
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, rule: str, n: int = 1, example: str | None = None) -> None:
        self.counts[rule] += n
        if example is not None and len(self.examples.setdefault(rule, [])) < 5:
            self.examples[rule].append(example)

    def to_dict(self) -> dict:
        return {
            "rows_in": self.rows_in,
            "rows_used": self.rows_used,
            "rules": {
                k: {
                    "count": v,
                    "unit": "orders"
                    if k in ORDER_LEVEL
                    else "visits"
                    if k in ("tag_bounce", "revisit", "overlap", "overlap_dropped")
                    else "events",
                    "action": RULES[k][0],
                    "why": RULES[k][1],
                    "examples": self.examples.get(k, []),
                }
                for k, v in self.counts.items()
            },
        }


@dataclass
class Visit:
    """A part's stay at one location: arrive ≤ start ≤ finish ≤ depart (time units)."""

    location: str
    cls: str
    arrive: float
    start: float | None = None
    finish: float | None = None
    depart: float | None = None

    @property
    def t_start(self) -> float:
        return self.arrive if self.start is None else self.start

    @property
    def t_finish(self) -> float:
        if self.finish is not None:
            return self.finish
        return self.depart  # type: ignore[return-value]

    @property
    def process_time(self) -> float:
        return self.t_finish - self.t_start


@dataclass
class Order:
    case: str
    product: str
    release: float
    visits: list[Visit]  # every location, in time order
    stations: list[Visit]  # station visits only, in time order
    complete: bool

    @property
    def exit(self) -> float:
        return self.stations[-1].depart  # type: ignore[return-value]

    @property
    def route(self) -> tuple[str, ...]:
        return tuple(v.location for v in self.stations)


@dataclass
class CleanLog:
    t0: pd.Timestamp  # start of the run window (UTC)
    t1: pd.Timestamp
    unit: str
    orders: dict[str, Order]
    quality: DataQuality
    explicit_start: bool  # the log has start/finish events (process time ≠ station stay)
    servers: dict[str, int]
    source: str = ""

    @property
    def window(self) -> float:
        return (self.t1 - self.t0).total_seconds() / SECONDS_PER[self.unit]

    @property
    def completed(self) -> list[Order]:
        return [o for o in self.orders.values() if o.complete]


def run_window(times: pd.Series, gap_s: float) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The longest-lasting stretch of events without a pause longer than ``gap_s``."""
    t = np.sort(times.to_numpy(dtype="datetime64[us]").astype("int64")) / 1e6
    cuts = np.flatnonzero(np.diff(t) > gap_s)
    starts = np.concatenate(([0], cuts + 1))
    ends = np.concatenate((cuts, [len(t) - 1]))
    best = int(np.argmax(t[ends] - t[starts] + 1e-9 * (ends - starts)))
    lo, hi = t[starts[best]], t[ends[best]]
    return (
        pd.Timestamp(int(lo * 1e6), unit="us", tz="UTC"),
        pd.Timestamp(int(hi * 1e6), unit="us", tz="UTC"),
    )


def clean(events: pd.DataFrame, mapping: Mapping, source: str = "") -> CleanLog:
    """Apply the cleaning rules; return orders with their station visits and the quality report."""
    q = DataQuality(rows_in=len(events))
    ev = events.copy()
    # recording order of the whole log (all items): a row stamped before an earlier row
    t_all = ev["time"].to_numpy(dtype="datetime64[us]").astype("int64")
    late = t_all[1:] < np.maximum.accumulate(t_all)[:-1]
    for r in ev["row"].to_numpy()[1:][late][:5]:
        q.examples.setdefault("out_of_order", []).append(f"row {r}")
    q.add("out_of_order", int(late.sum()))
    if mapping.part_filter is not None and "part" in ev:
        import fnmatch

        other = ~ev["part"].map(lambda p: fnmatch.fnmatchcase(p, mapping.part_filter))
        q.add("not_part", int(other.sum()))
        cases_with_part = set(ev.loc[~other, "case"])
        for c in sorted(set(ev["case"]) - cases_with_part):
            q.add("no_part_events", 1, c)
        ev = ev[~other]
    unknown = ev["kind"].isna()
    for r in ev.loc[unknown, "row"][:5]:
        q.examples.setdefault("unknown_event", []).append(f"row {r}")
    q.add("unknown_event", int(unknown.sum()))
    ev = ev[~unknown]
    badloc = ev["cls"].isna()
    q.add("unknown_location", int(badloc.sum()))
    for loc in sorted(set(ev.loc[badloc, "location"]))[:5]:
        q.examples.setdefault("unknown_location", []).append(loc)
    ev = ev[~badloc]
    keycols = [c for c in ("case", "product", "location", "word", "time", "part") if c in ev]
    dup = ev.duplicated(keycols, keep="first")
    for r in ev.loc[dup, "row"][:5]:
        q.examples.setdefault("exact_duplicate", []).append(f"row {r}")
    q.add("exact_duplicate", int(dup.sum()))
    ev = ev[~dup]

    if ev.empty:
        dropped = ", ".join(f"{k} {v}" for k, v in q.counts.items() if v)
        raise LogError(
            source or "<log>",
            f"no usable event left ({dropped}); check the mapping's part_filter, event words "
            "and location patterns",
        )
    # run window
    if mapping.run_window is not None:
        t0, t1 = (_mapping_time(x, mapping.timezone) for x in mapping.run_window)
    elif mapping.run_gap_s is not None:
        t0, t1 = run_window(ev["time"], mapping.run_gap_s)
    else:
        t0, t1 = ev["time"].min(), ev["time"].max()
    outside = (ev["time"] < t0) | (ev["time"] > t1)
    for r in ev.loc[outside, "row"][:5]:
        q.examples.setdefault("outside_run", []).append(f"row {r}")
    q.add("outside_run", int(outside.sum()))
    ev = ev[~outside]
    q.rows_used = len(ev)

    scale = SECONDS_PER[mapping.time_unit]
    ev = ev.assign(t=(ev["time"] - t0).dt.total_seconds() / scale)
    explicit_start = bool((ev["kind"] == "start").any())

    orders: dict[str, Order] = {}
    by_case: dict[str, list[tuple]] = {}
    for rec in zip(
        ev["t"].tolist(),
        ev["kind"].map(_TIE_RANK).tolist(),
        ev["row"].tolist(),
        ev["kind"].tolist(),
        ev["location"].tolist(),
        ev["cls"].tolist(),
        ev["product"].tolist(),
        ev["case"].tolist(),
    ):
        by_case.setdefault(rec[7], []).append(rec)
    for case, recs in by_case.items():
        _file_order_checks(recs, q)
        recs.sort(key=lambda r: (r[0], r[1], r[2]))
        visits, release = _walk(recs, q, case)
        visits = _merge_bounces(visits, mapping.bounce_window_s / scale, q, case)
        stations = _keep_longest(visits, q, case)
        product = Counter(r[6] for r in recs).most_common(1)[0][0]
        complete = bool(stations) and all(v.depart is not None for v in stations)
        rel = min(release if release is not None else np.inf, recs[0][0])
        orders[str(case)] = Order(str(case), str(product), rel, visits, stations, complete)

    servers = _servers(orders, mapping, explicit_start)
    _repair_overlaps(orders, servers, q)
    for o in orders.values():
        o.complete = bool(o.stations) and all(v.depart is not None for v in o.stations)
        if not o.complete:
            q.add("incomplete_order", 1, o.case)
    return CleanLog(t0, t1, mapping.time_unit, orders, q, explicit_start, servers, source)


def _mapping_time(text: str, tz: str) -> pd.Timestamp:
    try:
        t = pd.Timestamp(text)
        t = t.tz_localize(tz) if t.tzinfo is None else t
        return t.tz_convert("UTC")
    except (ValueError, TypeError) as exc:
        raise LogError(
            "<mapping>", f"bad run_window time {text!r}: {exc}", column="run_window"
        ) from None


def _file_order_checks(recs: list[tuple], q: DataQuality) -> None:
    """Entry/exit pairs (file order) whose exit is stamped before the entry: swap the stamps."""
    last_enter: dict[str, int] = {}
    for i, (t_, _, row, kind, loc, *_) in enumerate(recs):
        if kind in ("enter", "release") and loc:
            last_enter[loc] = i
        elif kind in ("leave", "exit") and loc in last_enter:
            j = last_enter.pop(loc)
            if t_ < recs[j][0]:
                q.add("negative_duration", 1, f"row {row}")
                recs[i], recs[j] = (recs[j][0], *recs[i][1:]), (t_, *recs[j][1:])


def _walk(recs: list[tuple], q: DataQuality, case) -> tuple[list[Visit], float | None]:
    """Follow one part through its time-sorted events; repair missing entries and exits."""
    visits: list[Visit] = []
    cur: Visit | None = None
    release: float | None = None
    last_t: float | None = None
    for t, _, row, kind, loc, cls, *_ in recs:
        if kind == "release":
            release = t if release is None else min(release, t)
            if loc and cls != "ignore" and (cur is None or cur.location != loc):
                if cur is not None:
                    cur.depart = t
                    visits.append(cur)
                cur = Visit(loc, cls, t)
            last_t = t
            continue
        if cls == "ignore":
            continue
        if kind in ("enter", "start"):
            if cur is not None and cur.location == loc:
                if kind == "start" and cur.start is None:
                    cur.start = t
                else:
                    q.add("duplicate_event", 1, f"row {row}")
            else:
                if cur is not None:
                    cur.depart = t
                    visits.append(cur)
                    q.add("missing_exit", 1, f"row {row}")
                cur = Visit(loc, cls, t, start=t if kind == "start" else None)
        elif kind == "finish":
            if cur is not None and cur.location == loc:
                cur.finish = t
            else:
                q.add("unmatched_event", 1, f"row {row}")
        else:  # leave, exit, scrap
            if cur is not None and cur.location == loc:
                cur.depart = t
                visits.append(cur)
                cur = None
            elif cur is None and visits and visits[-1].location == loc:
                q.add("duplicate_event", 1, f"row {row}")
            elif cur is None and last_t is not None:
                visits.append(Visit(loc, cls, last_t, depart=t))
                q.add("missing_entry", 1, f"row {row}")
            else:
                q.add("unmatched_exit", 1, f"row {row}")
        last_t = t
    if cur is not None:
        visits.append(cur)  # still open: no departure seen
    return visits, release


def _merge_bounces(visits: list[Visit], window: float, q: DataQuality, case) -> list[Visit]:
    out: list[Visit] = []
    for v in visits:
        merged = False
        for p in range(len(out) - 1, -1, -1):
            prev = out[p]
            if prev.depart is None or v.arrive - prev.depart > window:
                break
            if prev.location == v.location:
                prev.depart = v.depart
                if v.finish is not None:
                    prev.finish = v.finish
                q.add("tag_bounce", 1, f"{case} at {v.location}")
                del out[p + 1 :]
                merged = True
                break
        if not merged:
            out.append(v)
    return out


def _keep_longest(visits: list[Visit], q: DataQuality, case) -> list[Visit]:
    best: dict[str, Visit] = {}
    for v in visits:
        if v.cls != "station":
            continue
        b = best.get(v.location)
        if b is None:
            best[v.location] = v
            continue
        q.add("revisit", 1, f"{case} at {v.location}")
        dv = (v.depart if v.depart is not None else v.arrive) - v.arrive
        db = (b.depart if b.depart is not None else b.arrive) - b.arrive
        if dv > db:
            best[v.location] = v
    return sorted(best.values(), key=lambda v: v.arrive)


def _servers(orders: dict[str, Order], mapping: Mapping, explicit_start: bool) -> dict[str, int]:
    """Parallel servers per station: the mapping's, else the most parts seen in process at once
    (logs with start/finish), else one."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for o in orders.values():
        for v in o.stations:
            if v.depart is not None:
                spans.setdefault(v.location, []).append((v.t_start, v.t_finish))
    out = {}
    for st, iv in spans.items():
        n = mapping.servers_for(st)
        if n is None:
            n = _max_concurrency(iv) if explicit_start else 1
        out[st] = max(n, 1)
    return out


def _max_concurrency(intervals: list[tuple[float, float]]) -> int:
    marks = sorted(
        [(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda m: (m[0], m[1])
    )  # a departure frees its slot before an arrival
    n = best = 0
    for _, d in marks:
        n += d
        best = max(best, n)
    return best


def _repair_overlaps(orders: dict[str, Order], servers: dict[str, int], q: DataQuality) -> None:
    by_station: dict[str, list[tuple[Order, Visit]]] = {}
    for o in orders.values():
        for v in o.stations:
            if v.depart is not None:
                by_station.setdefault(v.location, []).append((o, v))
    for st, items in by_station.items():
        if servers.get(st, 1) != 1:
            continue
        items.sort(key=lambda ov: (ov[1].t_start, ov[1].depart))
        free_at = -np.inf
        for o, v in items:
            depart = float(v.depart)  # type: ignore[arg-type]
            if v.t_start < free_at:
                if depart <= free_at:  # wholly inside the previous stay: a stray tag read
                    o.stations.remove(v)
                    o.visits.remove(v)
                    q.add("overlap_dropped", 1, f"{o.case} at {st}")
                    continue
                if v.start is not None:
                    v.start = free_at
                else:
                    v.arrive = free_at
                if v.finish is not None and v.finish < free_at:
                    v.finish = free_at
                q.add("overlap", 1, f"{o.case} at {st}")
            free_at = max(free_at, depart)
