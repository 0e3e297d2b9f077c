"""The report's figures: results data → inline images (PNG as base64 ``<img>``, or SVG text).

Every function takes plain data from ``results.json`` and returns an HTML fragment, so the page
needs no files next to it and no network. matplotlib runs on the Agg backend (no display).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence

# Station states in the order of a server's life, with colours that read in grey print too.
STATE_COLOURS = {
    "working": "#2e7d32",
    "setup": "#81c784",
    "blocked": "#ef6c00",
    "starved": "#90a4ae",
    "down": "#c62828",
    "off_shift": "#37474f",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _img(fig, alt: str) -> str:
    """Close ``fig`` and return it as an inline PNG ``<img>``."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="plot" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def state_bars(states: dict[str, dict[str, float]], width: int = 760, row_h: int = 24) -> str:
    """Stacked horizontal bars, one per station: the time fraction spent in each state (SVG)."""
    left, top = 110, 8
    bar_w = width - left - 20
    height = top + row_h * len(states) + 52
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12" role="img" aria-label="station states">'
    ]
    for row, (station, fractions) in enumerate(states.items()):
        y = top + row * row_h
        out.append(
            f'<text x="{left - 6}" y="{y + row_h * 0.68:.1f}" text-anchor="end">'
            f"{html.escape(station)}</text>"
        )
        x = float(left)
        for state, colour in STATE_COLOURS.items():
            f = max(0.0, fractions.get(state) or 0.0)
            w = f * bar_w
            if w <= 0:
                continue
            tip = html.escape(f"{station}: {state} {100 * f:.1f} %")
            out.append(
                f'<rect x="{x:.2f}" y="{y + 3}" width="{w:.2f}" height="{row_h - 6}" '
                f'fill="{colour}"><title>{tip}</title></rect>'
            )
            if w > 34:
                out.append(
                    f'<text x="{x + w / 2:.2f}" y="{y + row_h * 0.68:.1f}" text-anchor="middle" '
                    f'fill="white" font-size="10" pointer-events="none">{100 * f:.0f}%</text>'
                )
            x += w
    axis_y = top + row_h * len(states) + 2
    for pct in range(0, 101, 20):
        x = left + bar_w * pct / 100
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{axis_y}" stroke="#ccc"/>')
        out.append(f'<text x="{x:.1f}" y="{axis_y + 13}" text-anchor="middle">{pct} %</text>')
    lx = left
    for state, colour in STATE_COLOURS.items():
        out.append(f'<rect x="{lx}" y="{axis_y + 24}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{axis_y + 34}">{state.replace("_", "-")}</text>')
        lx += 24 + 8 * len(state)
    out.append("</svg>")
    return "".join(out)


def wip_throughput(
    time: Sequence[float], wip: Sequence[float], completed: Sequence[float],
    time_unit: str, per_hour: float, warmup: float | None,
) -> str:
    """WIP and throughput (parts/h between samples) over one replication."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    a1.step(time, wip, where="post", color="C0")
    a1.set_ylabel("WIP (parts)")
    rate_t, rate = [], []
    for i in range(1, len(time)):
        dt = time[i] - time[i - 1]
        if dt > 0:
            rate_t.append(time[i - 1])
            rate.append((completed[i] - completed[i - 1]) / dt * per_hour)
    a2.step(rate_t, rate, where="post", color="C2", lw=0.9, label="between samples")
    if len(rate) >= 8:  # a moving average shows the level the noisy samples hover around
        k = max(4, len(rate) // 20)
        avg = [sum(rate[max(0, i - k + 1): i + 1]) / len(rate[max(0, i - k + 1): i + 1])
               for i in range(len(rate))]
        a2.plot(rate_t, avg, color="C3", lw=1.6, label=f"moving average ({k} samples)")
    a2.set_ylabel("throughput (parts/h)")
    a2.set_xlabel(f"simulated time ({time_unit})")
    for ax in (a1, a2):
        if warmup:
            ax.axvspan(0, warmup, color="#eee", zorder=0)
        ax.grid(alpha=0.3)
    if warmup:
        a1.text(warmup / 2, a1.get_ylim()[1] * 0.95, "warm-up", ha="center", va="top", fontsize=8)
    a2.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return _img(fig, "WIP and throughput over time")


def history(rows: list[dict], objectives: list[dict], recommended_trial: int | None) -> list[str]:
    """Objective value per trial (feasible dots, infeasible crosses) and the best so far."""
    plt = _plt()
    out = []
    done = [r for r in rows if r.get("values")]
    for i, o in enumerate(objectives):
        fig, ax = plt.subplots(figsize=(8, 3.6))
        xs = [r["trial"] for r in done]
        ys = [r["values"][i] for r in done]
        feas = [bool(r.get("feasible")) for r in done]
        ax.scatter([x for x, f in zip(xs, feas) if f], [y for y, f in zip(ys, feas) if f],
                   s=20, color="C0", label="feasible trial")
        if not all(feas):
            ax.scatter([x for x, f in zip(xs, feas) if not f],
                       [y for y, f in zip(ys, feas) if not f],
                       s=20, marker="x", color="grey", label="violates a constraint")
        best, line = None, []
        for y, f in zip(ys, feas):
            if f and (best is None or (y > best if o["direction"] == "maximize" else y < best)):
                best = y
            line.append(best if best is not None else math.nan)
        ax.step(xs, line, where="post", color="C3", label="best feasible so far")
        rec = [(x, y) for x, y in zip(xs, ys) if x == recommended_trial]
        if rec:
            ax.scatter([rec[0][0]], [rec[0][1]], s=160, marker="*", color="C3", zorder=3,
                       label="recommended")
        ax.set_xlabel("trial")
        ax.set_ylabel(o["kpi"])
        ax.set_title(f"optimisation history ({o['direction']})", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        out.append(_img(fig, f"optimisation history of {o['kpi']}"))
    return out


def pareto(rows: list[dict], front: list[dict], objectives: list[dict],
           recommended_trial: int | None) -> str:
    """Trials in the plane of the first two objectives, the Pareto front and the knee."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 5))
    pts = [r for r in rows if r.get("values") and len(r["values"]) >= 2]
    ax.scatter([r["values"][0] for r in pts], [r["values"][1] for r in pts], s=16,
               color="lightgrey", label="trials")
    fx = sorted((p["values"][0], p["values"][1]) for p in front)
    ax.plot([a for a, _ in fx], [b for _, b in fx], "o-", color="C0", label="Pareto front")
    rec = [p for p in front if p.get("trial") == recommended_trial]
    if rec:
        ax.scatter([rec[0]["values"][0]], [rec[0]["values"][1]], s=180, marker="*", color="C3",
                   zorder=3, label="recommended (knee)")
    ax.set_xlabel(f"{objectives[0]['kpi']} ({objectives[0]['direction']})")
    ax.set_ylabel(f"{objectives[1]['kpi']} ({objectives[1]['direction']})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _img(fig, "Pareto front")


def importances(kpi: str, imp: dict[str, float]) -> str:
    """Horizontal bars: how much of the objective's variance each parameter explains (fANOVA)."""
    plt = _plt()
    names = list(imp)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.45 * len(names)))
    ax.barh(names, [imp[n] for n in names], color="C0")
    ax.set_xlabel(f"importance for {kpi} (fANOVA, sums to 1)")
    ax.set_xlim(0, 1)
    fig.tight_layout()
    return _img(fig, f"parameter importances for {kpi}")


def temperatures(name: str, series: dict, soak_start_s: float | None,
                 set_point_c: float | None) -> str:
    """Core and surface temperature over time of one heat-treatment solve."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    t_min = [t / 60 for t in series["t_s"]]
    ax.plot(t_min, series["surface_c"], color="C3", label="surface")
    ax.plot(t_min, series["core_c"], color="C0", label="core")
    if set_point_c is not None:
        ax.axhline(set_point_c, color="grey", ls=":", lw=1, label=f"furnace {set_point_c:g} °C")
    if soak_start_s is not None:
        ax.axvline(soak_start_s / 60, color="k", ls="--", lw=1,
                   label=f"soak starts {soak_start_s / 60:.1f} min")
    ax.set_xlabel("time (min)")
    ax.set_ylabel("temperature (°C)")
    ax.set_title(name, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return _img(fig, f"core and surface temperature of {name}")


def tradeoff(rows: list[dict], objective: dict, kpi: str, bounds: list[tuple[str, float]],
             recommended_trial: int | None) -> str:
    """Each trial's objective against one constraint KPI, with the bound: what the limit costs."""
    plt = _plt()
    pts = [(r["trial"], r["kpis"][kpi]["mean"], r["kpis"][objective["kpi"]]["mean"],
            bool(r.get("feasible")))
           for r in rows if (r.get("kpis") or {}).get(kpi) and (r.get("kpis") or {}).get(
               objective["kpi"])]
    pts = [p for p in pts if p[1] is not None and p[2] is not None]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.scatter([p[1] for p in pts if p[3]], [p[2] for p in pts if p[3]], s=22, color="C0",
               label="feasible trial")
    ax.scatter([p[1] for p in pts if not p[3]], [p[2] for p in pts if not p[3]], s=22,
               marker="x", color="grey", label="violates a constraint")
    for kind, value in bounds:
        ax.axvline(value, color="C1", ls="--", lw=1.2, label=f"{kind} {value:g}")
    rec = [p for p in pts if p[0] == recommended_trial]
    if rec:
        ax.scatter([rec[0][1]], [rec[0][2]], s=180, marker="*", color="C3", zorder=3,
                   label="recommended")
    ax.set_xlabel(kpi)
    ax.set_ylabel(f"{objective['kpi']} ({objective['direction']})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _img(fig, f"{objective['kpi']} against {kpi}")
