"""Twin validation: the calibrated layout's simulated KPIs beside the KPIs measured from the log.

Two ranges per KPI: the 95 % confidence interval of the simulated *mean* (over replications), and
the 2.5–97.5 % range of single replications. A log is one run, so the question "could the real run
have come from this model?" is answered by the second (``plausible``); the first says how
precisely the model's mean is known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .measure import Measured

COMPARED = ("throughput", "lead_time.mean", "lead_time.p95", "wip")


@dataclass
class Row:
    kpi: str
    measured: float
    simulated: float
    ci_low: float | None
    ci_high: float | None
    diff: float
    rel_diff: float
    inside_ci: bool | None
    run_low: float | None = None  # 2.5 % quantile of single replications
    run_high: float | None = None
    plausible: bool | None = None  # measured value within [run_low, run_high]

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def compare(measured: Measured, result, stations: list[str]) -> list[Row]:
    """One row per KPI: measured, simulated mean with its 95 % CI, difference (sim − measured)."""
    names = list(COMPARED) + [
        f"stations.{s}.{kpi}" for kpi in ("utilisation", "loading") for s in stations
    ]  # loading only where the layout has a load_time (the simulator reports it there)
    rows = []
    for k in names:
        if k not in measured.kpis or k not in result.kpis:
            continue
        m = measured.kpis[k]
        e = result[k]
        d = e.mean - m
        reps = [r[k] for r in getattr(result, "per_replication", []) if k in r]
        reps = [float(x) for x in reps if x is not None and not math.isnan(float(x))]
        lo = hi = None
        if len(reps) >= 2:
            lo, hi = (float(q) for q in np.percentile(reps, [2.5, 97.5]))
        rows.append(
            Row(
                k,
                m,
                e.mean,
                e.low,
                e.high,
                d,
                d / m if m else math.nan,
                None if e.half_width is None else e.contains(m),
                lo,
                hi,
                None if lo is None or hi is None else bool(lo - 1e-12 <= m <= hi + 1e-12),
            )
        )
    return rows


def table(rows: list[Row], unit: str) -> str:
    """A Markdown table of the comparison."""
    out = [
        "| KPI | measured | simulated | 95 % CI of mean | single runs 95 % | difference | relative |",
        "|---|---:|---:|---|---|---:|---:|",
    ]
    for r in rows:
        ci = "–" if r.ci_low is None else f"[{r.ci_low:.4g}, {r.ci_high:.4g}]"
        rr = "–" if r.run_low is None else f"[{r.run_low:.4g}, {r.run_high:.4g}]"
        rr += "" if r.plausible is None else (" ✓" if r.plausible else " ✗")
        out.append(
            f"| {r.kpi} | {r.measured:.4g} | {r.simulated:.4g} | {ci} | {rr} | {r.diff:+.3g} | "
            f"{100 * r.rel_diff:+.2f} % |"
        )
    out.append(
        f"\nTimes in {unit}; throughput per {unit}. The CI is that of the simulated mean over "
        "replications; 'single runs' is the range of one replication (✓: the measured run lies "
        "in it). A deterministic replay has neither. Loading: share of a station's time its "
        "servers hold a part before processing it (the layout's load_time)."
    )
    return "\n".join(out)
