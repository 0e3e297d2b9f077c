"""The calibration report: data quality, discovery, measured KPIs, input analysis with Q-Q and
histogram plots (as the input analysers of commercial simulators show them), and the twin table."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np

from .calibration import Calibration
from .fit import Fit, _frozen
from .twin import table


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, default=_default) + "\n", encoding="utf-8")


def _default(o):
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return str(o)


def plot_fit(values, f: Fit, title: str, path: Path) -> None:
    """Histogram with the fitted densities, and a Q-Q plot of the best-ranked candidate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # densities at 0 of shape < 1 fits are infinite
        _plot_fit(plt, values, f, title, path)


def _plot_fit(plt, values, f: Fit, title: str, path: Path) -> None:
    x = np.sort(np.asarray(values, dtype=float))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.hist(
        x,
        bins=max(5, min(40, int(math.sqrt(len(x))) + 1)),
        density=True,
        color="#bbbbbb",
        edgecolor="white",
        label=f"observed (n={len(x)})",
    )
    grid = np.linspace(max(0.0, x.min() - 0.1 * np.ptp(x)), x.max() + 0.1 * np.ptp(x) + 1e-12, 200)
    for c in f.candidates[:3]:
        ax1.plot(
            grid,
            _frozen(c.family, c.params).pdf(grid),
            label=f"{c.family} (AIC {c.aic:.1f}, KS p {c.ks_p:.2f})",
        )
    ax1.set_title(title)
    ax1.set_xlabel("duration")
    ax1.legend(fontsize=7)
    if f.candidates:
        best = next((c for c in f.candidates if c.family == f.chosen), f.candidates[0])
        probs = (np.arange(1, len(x) + 1) - 0.5) / len(x)
        q = _frozen(best.family, best.params).ppf(probs)
        ax2.plot(q, x, "o", ms=3)
        lo, hi = min(q.min(), x.min()), max(q.max(), x.max())
        ax2.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax2.set_title(f"Q-Q: {best.family}")
        ax2.set_xlabel("fitted quantile")
        ax2.set_ylabel("observed quantile")
    else:
        ax2.text(0.5, 0.5, "too few values for a fit", ha="center", va="center")
        ax2.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_wip(series: list[tuple[float, int]], window: float, unit: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s[0] for s in series] + [window]
    n = [s[1] for s in series] + [series[-1][1]]
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.step(t, n, where="post")
    ax.set_xlabel(f"time in run ({unit})")
    ax.set_ylabel("orders in the line")
    ax.set_title("WIP over time (measured)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(cal: Calibration, out_dir: str | Path, plots: bool = True) -> Path:
    """Write the report files into ``out_dir``; return the path of report.md."""
    d = Path(out_dir)
    (d / "plots").mkdir(parents=True, exist_ok=True)
    unit = cal.log.unit
    _json(d / "quality.json", cal.log.quality.to_dict())
    _json(d / "discovery.json", cal.discovery.to_dict())
    _json(d / "measured.json", cal.measured.to_dict())
    _json(d / "fits.json", {k: f.to_dict() for k, f in cal.fits.items()})
    _json(d / "twin.json", {"time_unit": unit, "rows": [r.to_dict() for r in cal.twin]})
    (d / "layout.yaml").write_text(cal.built.yaml, encoding="utf-8")
    lines = [f"# Calibration report: {cal.log.source}", ""]
    q = cal.log.quality
    lines += [
        "## Data quality",
        "",
        f"{q.rows_in} rows read, {q.rows_used} used after filtering.",
        "",
        "| rule | count | unit | action | why |",
        "|---|---:|---|---|---|",
    ]
    for k, v in q.to_dict()["rules"].items():
        lines.append(f"| {k} | {v['count']} | {v['unit']} | {v['action']} | {v['why']} |")
    disc = cal.discovery
    lines += ["", "## Discovery", "", f"Stations (line order): {', '.join(disc.stations)}", ""]
    for b, i in disc.buffers.items():
        lines.append(
            f"- buffer {b} before {i['before']}: {i['visits']} visits, "
            f"at most {i['max_parts']} parts at once"
        )
    lines += ["", "| product | route | orders |", "|---|---|---:|"]
    for p, rs in disc.routes.items():
        for r, n in rs:
            lines.append(f"| {p} | {' → '.join(r)} | {n} |")
    how = (
        "the log's start/finish events"
        if cal.log.explicit_start
        else "entry into and exit from the station location (the whole stay counts as work)"
    )
    lines += [
        "",
        "## Measured KPIs",
        "",
        f"Run window {cal.measured.window:.4g} {unit}. Completed orders only. Utilisation = busy "
        f"time / (servers × run window), busy time = sum over visits of the time between {how}. "
        "Lead time = departure from the last station − release (first event in the run). "
        "Loading = sum of the handling after the wait for a free server, before processing "
        "(the stations' load_time in stochastic mode) / (servers × run window).",
        "",
    ]
    lines += [f"- {k}: {v:.4g}" for k, v in cal.measured.kpis.items()]
    if plots:
        plot_wip(cal.measured.wip_series, cal.measured.window, unit, d / "plots" / "wip.png")
        lines += ["", "![WIP](plots/wip.png)"]
    lines += [
        "",
        "## Input analysis",
        "",
        "| input | n | mean | cv | chosen | layout | mean 95 % CI | cv 95 % CI |",
        "|---|---:|---:|---:|---|---|---|---|",
    ]
    for k, f in cal.fits.items():
        mci = "–" if f.mean_ci is None else f"[{f.mean_ci[0]:.4g}, {f.mean_ci[1]:.4g}]"
        cci = "–" if f.cv_ci is None else f"[{f.cv_ci[0]:.3g}, {f.cv_ci[1]:.3g}]"
        lay = {
            a: (round(b, 4) if isinstance(b, float) else b)
            for a, b in f.layout.items()
            if a != "values"
        }
        lines.append(
            f"| {k} | {f.n} | {f.sample_mean:.4g} | {f.sample_cv:.3g} | {f.chosen} | "
            f"{lay} | {mci} | {cci} |"
        )
    if plots:
        for k, f in cal.fits.items():
            if len(f.values) >= 2:
                name = _safe(k) + ".png"
                plot_fit(f.values, f, k, d / "plots" / name)
                lines += ["", f"### {k}", "", f"{f.reason}", "", f"![{k}](plots/{name})"]
    lines += [
        "",
        "## Twin validation",
        "",
        table(cal.twin, unit) if cal.twin else "(not simulated)",
    ]
    path = d / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
