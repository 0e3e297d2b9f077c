"""Parameter sweeps: a design of scenarios (full factorial, Latin hypercube, Sobol) → KPIs with CIs.

Each point is one task (physics + replications inside the worker), fanned out on a ``cluster``
executor. The result is a tidy table, one row per point: the parameters, then for every KPI its
mean, CI bounds and half-width, ready for pandas, a spreadsheet or a plot.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .layout import Factory, override, to_dict
from .optimize.evaluate import evaluate_task

DEFAULT_KPIS = (
    "throughput_per_hour",
    "wip",
    "lead_time.mean",
    "lead_time.p95",
    "scrap_rate",
    "energy_per_good_part_kwh",
)


def sweep(
    factory: Factory,
    points: list[dict[str, Any]],
    kpis: list[str] | None = None,
    replications: int | None = None,
    executor=None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Simulate every point (a dict of layout path -> value) and return the tidy KPI table."""
    kpis = list(kpis or DEFAULT_KPIS)
    # Checked before anything runs: a point the layout refuses (a value out of range, a
    # furnace colder than its soak level) becomes that point's error; a mistake shared by
    # every point (a misspelt path) refuses the sweep, naming the first point.
    refused: dict[int, str] = {}
    for i, p in enumerate(points):
        try:
            override(factory, p)
        except ValueError as exc:
            refused[i] = f"point {i} {_describe(p)}: {exc}"
    if points and len(refused) == len(points):
        raise SweepError(f"every point is refused; the first: {refused[0]}")
    data = to_dict(factory)
    data.pop("study", None)
    reps = replications or factory.factory.replications
    items = [
        {"layout": data, "overrides": p, "replications": reps, "seed": factory.factory.seed, "kpis": kpis}
        for p in points
    ]
    rows: list[dict | None] = [None] * len(points)
    for i, msg in refused.items():
        rows[i] = _row(points[i], None, msg, kpis)
    todo = [i for i in range(len(points)) if i not in refused]
    done = len(refused)
    if executor is None:
        for i in todo:
            try:
                rows[i] = _row(points[i], evaluate_task(items[i]), None, kpis)
            except Exception as exc:  # that point's failure (as on a worker): the rest go on
                rows[i] = _row(points[i], None, f"{type(exc).__name__}: {exc}", kpis)
            done += 1
            if progress:
                progress(done, len(items))
    else:
        for res in executor.map(evaluate_task, [items[i] for i in todo]):
            i = todo[res.index]
            err = None if res.error is None else str(res.error)
            rows[i] = _row(points[i], res.value, err, kpis)
            done += 1
            if progress:
                progress(done, len(items))
    df = pd.DataFrame(rows)
    df.insert(0, "point", range(len(points)))
    df["replications"] = reps
    df["seed"] = factory.factory.seed
    return df


class SweepError(ValueError):
    """A sweep that cannot run at all (every point refused by the layout)."""


def _describe(point: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in point.items()) + ")"


def _row(point: dict, out: dict | None, error: str | None, kpis: list[str]) -> dict:
    row: dict[str, Any] = dict(point)
    for k in kpis:
        est = (out or {}).get(k)
        mean = est["mean"] if est else None
        hw = est["half_width"] if est else None
        row[k] = mean
        row[f"{k}.ci_low"] = None if mean is None or hw is None else mean - hw
        row[f"{k}.ci_high"] = None if mean is None or hw is None else mean + hw
    row["error"] = error
    return row


def plot(df: pd.DataFrame, params: list[str], kpi: str, path: Path) -> Path:
    """KPI against the first parameter with 95 % CI bars, one line per value of the others."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = params[0]
    others = params[1:]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    groups = df.groupby(others) if others else [((), df)]
    for key, g in list(groups)[:8]:
        g = g[g[kpi].notna()].sort_values(x)  # failed points have no value: left out
        if g.empty:
            continue
        err = [g[kpi] - g[f"{kpi}.ci_low"], g[f"{kpi}.ci_high"] - g[kpi]]
        label = ", ".join(f"{o}={v}" for o, v in zip(others, key if isinstance(key, tuple) else (key,))) or None
        ax.errorbar(g[x], g[kpi], yerr=err, marker="o", capsize=3, label=label)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{kpi} (95 % CI)")
    if others:
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
