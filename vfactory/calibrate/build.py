"""Writing the calibrated layout YAML, commented with where each number came from.

Two modes:

- ``replay`` (trace-driven): every completed order is released at its observed time
  (``arrival.times``) and every station replays its observed process times per product in FIFO
  order (``dist: sequence``). Orders of one product that took another route become a product
  variant ``<product>-r2`` … (in both modes). Where the log shows time between stations (a buffer, transport), a
  *transfer* station named after the buffer replays those gaps as a delay with enough servers that
  no part ever waits for it. The replay reproduces the log, so it validates the model structure.
- ``stochastic``: fitted distributions (``fit``) for process times, interarrival times and the
  handling part of the transfer gaps; the waiting in buffers is left to the simulation. The
  handling is the station's ``load_time`` (``handling='load'``, the default: the part waits for a
  free server, which then holds it for the handling before processing, as in the DASCEN logs, where
  the operator fetches the next car once the previous one has left; utilisation does not count it),
  a delay before the station's queue (``handling='transfer'``: the handling overlaps the wait,
  which shortens lead times), or is added to the station's process time (``handling='station'``:
  right lead times, but utilisation counts the fetching as work).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .clean import CleanLog
from .discover import Discovery
from .fit import Fit, fit
from .samples import Gap, gaps, interarrivals, max_parts, process_times

GAP_TOLERANCE_S = 0.5  # gaps below this (timestamp resolution) mean "no transfer time"


@dataclass
class Built:
    yaml: str
    mode: str
    products: dict[str, str]  # layout product -> observed product
    stations: list[str]  # real stations (transfer stations excluded)
    transfers: dict[str, str]  # transfer station -> station it feeds
    fits: dict[str, Fit] = field(default_factory=dict)  # "what" -> fit


def _num(x: float) -> str:
    r = round(float(x), 9)
    return repr(0.0 if r == 0 else r)


def _dist(d: dict) -> str:
    parts = []
    for k, v in d.items():
        if k == "values":
            parts.append("values: [" + ", ".join(_num(x) for x in v) + "]")
        elif isinstance(v, str):
            parts.append(f"{k}: {v}")
        else:
            parts.append(f"{k}: {_num(v)}")
    return "{" + ", ".join(parts) + "}"


def _q(name: str) -> str:
    return json.dumps(name)


def build(
    log: CleanLog,
    disc: Discovery,
    mode: str = "replay",
    buffers: str = "unlimited",
    name: str | None = None,
    replications: int | None = None,
    min_samples: int = 20,
    seed: int = 1,
    fits: dict[str, Fit] | None = None,
    arrivals: str = "default",
    handling: str = "load",
) -> Built:
    """The layout text for ``mode`` ('replay' or 'stochastic').

    ``buffers``: 'unlimited' or 'observed' (the most parts seen waiting); ``arrivals``: 'observed'
    release times or 'fitted' interarrival distributions (default: observed for replay, fitted for
    stochastic); ``handling``: 'load', 'transfer' or 'station' (stochastic mode, see the module
    docstring);
    ``fits``: input fits already made, reused when their sample matches.
    """
    if mode not in ("replay", "stochastic"):
        raise ValueError(f"mode must be 'replay' or 'stochastic', not {mode!r}")
    if arrivals not in ("default", "observed", "fitted"):
        raise ValueError(f"arrivals must be 'observed' or 'fitted', not {arrivals!r}")
    if handling not in ("load", "transfer", "station"):
        raise ValueError(f"handling must be 'load', 'transfer' or 'station', not {handling!r}")
    # stochastic with handling at the station: no transfer delays; the handling time is added to
    # the station's process time (the server moves the part in before working on it)
    at_station = mode == "stochastic" and handling == "station"
    # stochastic with load times: the handling after the wait becomes the station's load_time;
    # transfer delays remain only for transport into a queue the log shows (start events)
    at_load = mode == "stochastic" and handling == "load"
    if buffers not in ("unlimited", "observed"):
        raise ValueError(f"buffers must be 'unlimited' or 'observed', not {buffers!r}")
    unit = log.unit
    scale_s = {"s": 1.0, "min": 60.0, "h": 3600.0}[unit]
    done = log.completed
    if not done:
        raise ValueError("no completed order left after cleaning; nothing to calibrate")
    gap_list = gaps(log)
    if at_load:
        use_transfers = any(g.transport * scale_s > GAP_TOLERANCE_S for g in gap_list)
    else:
        use_transfers = not at_station and any(
            g.length * scale_s > GAP_TOLERANCE_S for g in gap_list
        )
    handling_of = {(g.case, g.station): g.handling for g in gap_list}

    # products of the layout: (observed product, route) -> layout product
    variant: dict[tuple[str, tuple[str, ...]], str] = {}
    for p, rs in disc.routes.items():
        for i, (route, _) in enumerate(rs):
            variant[(p, route)] = p if i == 0 else f"{p}-r{i + 1}"
    layout_product = {o.case: variant[(o.product, o.route)] for o in done}
    products: dict[str, str] = {}
    routes: dict[str, tuple[str, ...]] = {}
    for (p, route), lp in variant.items():
        products[lp] = p
        routes[lp] = route

    transfer_of = {}  # station -> transfer station name
    if use_transfers:
        taken = set(disc.stations)
        for st in disc.stations:
            feeding = [(b, i["visits"]) for b, i in disc.buffers.items() if i["before"] == st]
            nm = max(feeding, key=lambda bi: bi[1])[0] if feeding else f"{st}-in"
            if nm in taken:
                nm = f"{st}-in"
            taken.add(nm)
            transfer_of[st] = nm

    known = dict(fits or {})
    fits = {}

    def fitted(key: str, values: list[float]) -> Fit:
        f = known.get(key)
        if f is None or f.values != [float(v) for v in values]:
            f = fit(values, min_samples=min_samples)
        fits[key] = f
        return f

    lines: list[str] = []
    w = lines.append
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    w(f"# Calibrated by `vfactory calibrate` ({mode} mode) on {stamp}")
    w(f"# from {log.source or 'an event log'}")
    w(
        f"# Run window: {log.t0.isoformat()} to {log.t1.isoformat()} (UTC), "
        f"{log.window:.4f} {unit}; every time below is relative to its start, in {unit}."
    )
    w(
        f"# {len(done)} completed orders of {len(log.orders)} (see the data-quality report for "
        "what cleaning dropped or repaired)."
    )
    if mode == "replay":
        w("# Trace-driven replay: observed release times and observed process times in FIFO order.")
    else:
        w(
            "# Stochastic: distributions fitted by maximum likelihood (scipy.stats), ranked by AIC "
            "among fits the KS test does not reject; empirical below "
            f"{min_samples} observations."
        )
    w("")
    w("factory:")
    w(f"  name: {_q(name or 'calibrated-line')}")
    w(f"  time_unit: {unit}")
    last_exit = max(o.exit for o in done)
    run_length = max(log.window, last_exit + 1e-6)
    w(f"  run_length: {_num(run_length)}   # the observed run window")
    w("  warmup: 0   # the log covers one run from an empty line")
    reps = replications if replications is not None else (1 if mode == "replay" else 20)
    w(f"  replications: {reps}" + ("   # deterministic replay" if mode == "replay" else ""))
    w(f"  seed: {seed}")
    w("")
    w("products:")
    for lp, route in routes.items():
        p = products[lp]
        cases = [o for o in done if layout_product[o.case] == lp]
        n_route = sum(n for r, n in disc.routes[p] if r == route)
        n_all = sum(n for _, n in disc.routes[p])
        full_route = []
        for st in route:
            if st in transfer_of:
                full_route.append(transfer_of[st])
            full_route.append(st)
        w(f"  {_q(lp)}:")
        w(
            f"    # observed product {p!r}: route seen for {n_route} of {n_all} completed orders"
            + ("" if lp == p else " (a route variant)")
        )
        w("    route: [" + ", ".join(_q(s) for s in full_route) + "]")
        w("    arrival:")
        rel = sorted(o.release for o in cases)
        observed = arrivals == "observed" or (arrivals == "default" and mode == "replay")
        if observed or len(rel) < 2:
            w("      # observed release times (each order's first event in the run)")
            w("      times: [" + ", ".join(_num(t) for t in rel) + "]")
        else:
            f = fitted(f"interarrival/{lp}", interarrivals(rel))
            mean_ia = f.sample_mean
            w(f"      # fitted to {len(rel) - 1} observed interarrival times: {f.reason}")
            w(f"      interarrival: {_dist(f.layout)}")
            w(f"      start: {_num(max(rel[0] - mean_ia, 0.0))}   # first release ≈ observed first")
            w(f"      limit: {len(rel)}   # as many releases as observed orders")
    w("")
    w("stations:")
    pt = process_times(log)
    by_station_gaps: dict[str, list[Gap]] = {}
    for g in gap_list:
        by_station_gaps.setdefault(g.station, []).append(g)
    used = {s for r in routes.values() for s in r}
    for st in disc.stations:
        if st not in used:
            continue
        sgaps = by_station_gaps.get(st, [])
        if st in transfer_of:
            tn = transfer_of[st]
            concurrent = max_parts([(g.begin, g.end) for g in sgaps])
            w(f"  {_q(tn)}:")
            w(
                f"    # transfer into {st}: the time between leaving the previous station (or release)"
            )
            if mode == "replay":
                w(
                    "    # and entering it, buffer wait included, replayed as a delay; servers = most"
                )
                w("    # parts seen in transfer at once + 1, so no part waits for this delay.")
            elif at_load:
                w("    # and arriving in its queue (transport; loading is the station's load_time):")
                w("    # a delay with more servers than parts ever in transfer.")
            else:
                w("    # and entering it, minus the wait for a free server (the simulation makes")
                w("    # that wait itself): a delay with more servers than parts ever in transfer.")
            w(f"    servers: {concurrent + 1 if mode == 'replay' else 2 * concurrent + 2}")
            w("    process_time:")
            for lp in routes:
                if st not in routes[lp]:
                    continue
                if mode == "replay":
                    mine = [g for g in sgaps if layout_product[g.case] == lp]
                    mine.sort(key=lambda g: (g.begin, g.end))
                    vals = [g.length for g in mine]
                    w(
                        f"      {_q(lp)}: {_dist({'dist': 'sequence', 'values': vals})}"
                        f"   # n={len(vals)}, FIFO order"
                    )
                else:  # one fit per observed product, shared by its route variants
                    p = products[lp]
                    vals = [
                        g.transport if at_load else g.handling
                        for g in sgaps
                        if products[layout_product[g.case]] == p
                    ]
                    f = fitted(f"transfer/{st}/{p}", vals)
                    w(f"      {_q(lp)}: {_dist(f.layout)}   # n={len(vals)}: {f.reason}")
        servers = log.servers.get(st, 1)
        w(f"  {_q(st)}:")
        src = (
            "the mapping"
            if log.explicit_start is False
            else "the log (most parts in process at once) or the mapping"
        )
        w(f"    servers: {servers}   # from {src}")
        if buffers == "observed":
            cap = (
                max_parts([(g.begin, g.end) for g in sgaps])
                if use_transfers
                else max_parts(
                    [(v.arrive, v.t_start) for o in done for v in o.stations if v.location == st]
                )
            )
            w(f"    buffer: {cap}   # most parts seen waiting for {st} at once (observed maximum)")
        else:
            w("    buffer: null   # capacity not in the log: unlimited")
        how = (
            "finish − start events"
            if log.explicit_start
            else "exit − entry at the station location"
        )
        if at_station:
            how += " + handling (arrival − max(previous departure, server free))"
        w(f"    process_time:   # observed {how}")
        for lp in routes:
            if st not in routes[lp]:
                continue
            p = products[lp]
            obs = [
                (t, d, c)
                for t, d, c in pt.get((st, p), [])
                if mode != "replay" or layout_product[c] == lp
            ]
            vals = [d + (handling_of[(c, st)] if at_station else 0.0) for _, d, c in obs]
            if mode == "replay":
                w(
                    f"      {_q(lp)}: {_dist({'dist': 'sequence', 'values': vals})}"
                    f"   # n={len(vals)}, FIFO order"
                )
            else:
                f = fitted(f"process/{st}/{p}", vals)
                w(f"      {_q(lp)}: {_dist(f.layout)}   # n={len(vals)}: {f.reason}")
        if at_load and any(g.load * scale_s > GAP_TOLERANCE_S for g in sgaps):
            w(
                "    load_time:   # observed handling after the wait: start − max(ready, server "
                "free); the server holds the part"
            )
            for lp in routes:  # one fit per observed product, shared by its route variants
                if st not in routes[lp]:
                    continue
                p = products[lp]
                vals = [g.load for g in sgaps if products[layout_product[g.case]] == p]
                f = fitted(f"load/{st}/{p}", vals)
                w(f"      {_q(lp)}: {_dist(f.layout)}   # n={len(vals)}: {f.reason}")
    text = "\n".join(lines) + "\n"
    return Built(
        text,
        mode,
        products,
        [s for s in disc.stations if s in used],
        {v: k for k, v in transfer_of.items()},
        fits,
    )


def finite(x: float) -> bool:
    return x is not None and math.isfinite(x)
