"""KPIs measured straight from a cleaned log, defined as the simulator defines them.

- throughput: completed orders / run window (orders whose last station departure lies in the run).
- utilisation of a station: busy time / (servers × run window). Busy time is the sum over the
  cleaned visits of (finish − start), where start/finish are the log's start/finish events when it
  has them, else the entry into and exit from the station location: a part is counted as being
  processed for its whole stay at the station. Overlaps at single-server stations are repaired in
  cleaning, so this sum equals the time the station held at least one part.
- loading of a station: load time / (servers × run window), summed over the visits' load times
  (``samples.gaps``: the handling after the wait for a free server, before processing), as the
  simulator reports the share of a station's time spent loading (its ``load_time``).
- lead time of an order: departure from its last station − release (its first event in the run).
- WIP: orders released and not yet departed, time-averaged over the run (and as a step series).
Only completed orders count, the same set the calibrated layout releases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layout import SECONDS_PER
from .clean import CleanLog
from .samples import gaps


@dataclass
class Measured:
    window: float
    unit: str
    kpis: dict[str, float]
    lead_times: dict[str, float]  # order -> lead time
    wip_series: list[tuple[float, int]]  # (time, orders in the line from then on)

    def to_dict(self) -> dict:
        return {
            "window": self.window,
            "time_unit": self.unit,
            "kpis": self.kpis,
            "lead_times": self.lead_times,
            "wip_series": self.wip_series,
        }


def measure(log: CleanLog) -> Measured:
    W = log.window
    if not W > 0:
        raise ValueError("the run window has no length: the log needs events at two times")
    done = log.completed
    k: dict[str, float] = {}
    k["throughput"] = len(done) / W
    k["throughput_per_hour"] = k["throughput"] * 3600.0 / SECONDS_PER[log.unit]
    k["completed"] = float(len(done))
    lt = {o.case: o.exit - o.release for o in done}
    arr = np.asarray(list(lt.values()), dtype=float)
    for name, f in (
        ("mean", np.mean),
        ("p50", lambda a: np.percentile(a, 50)),
        ("p95", lambda a: np.percentile(a, 95)),
    ):
        k[f"lead_time.{name}"] = float(f(arr)) if len(arr) else float("nan")
    busy: dict[str, float] = {}
    for o in done:
        for v in o.stations:
            busy[v.location] = busy.get(v.location, 0.0) + v.process_time
    for s, b in sorted(busy.items()):
        k[f"stations.{s}.utilisation"] = b / (log.servers.get(s, 1) * W)
    loading: dict[str, float] = dict.fromkeys(busy, 0.0)
    for g in gaps(log):
        loading[g.station] = loading.get(g.station, 0.0) + g.load
    for s, b in sorted(loading.items()):
        k[f"stations.{s}.loading"] = b / (log.servers.get(s, 1) * W)
    marks = sorted(
        [(o.release, 1) for o in done] + [(o.exit, -1) for o in done], key=lambda m: (m[0], m[1])
    )
    series: list[tuple[float, int]] = [(0.0, 0)]
    n = 0
    for t, d in marks:
        n += d
        if series[-1][0] == t:
            series[-1] = (t, n)
        else:
            series.append((t, n))
    area = sum(n_ * (t2 - t1) for (t1, n_), (t2, _) in zip(series, series[1:] + [(W, 0)]))
    k["wip"] = area / W
    return Measured(W, log.unit, k, lt, series)
