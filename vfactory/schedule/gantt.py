"""Gantt charts of a schedule: PNG through matplotlib (Agg) and self-contained HTML (inline SVG).

The HTML needs no network: the chart is an inline SVG with a tooltip (``<title>``) per bar.
"""

from __future__ import annotations

import colorsys
import html
from pathlib import Path

from vfactory.schedule.solution import Schedule


def _colour(i: int, n: int) -> str:
    """Distinct, readable colours: evenly spaced hues (golden-ratio order keeps neighbours apart)."""
    h = (i * 0.618033988749895) % 1.0
    r, g, b = colorsys.hls_to_rgb(h, 0.62, 0.55)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def _jobs(schedule: Schedule) -> list[str]:
    return list(dict.fromkeys(o.job for o in sorted(schedule.operations, key=lambda o: o.start)))


def _title(schedule: Schedule) -> str:
    return schedule.summary()


def gantt_png(schedule: Schedule, path: str | Path, *, dpi: int = 110) -> Path:
    """Write the Gantt chart as a PNG (one row per machine, one colour per job)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    machines = list(schedule.sequences)
    jobs = _jobs(schedule)
    colour = {j: _colour(i, len(jobs)) for i, j in enumerate(jobs)}
    fig, ax = plt.subplots(figsize=(11, 1.0 + 0.45 * len(machines)))
    for row, m in enumerate(machines):
        for o in schedule.sequences[m]:
            ax.barh(row, o.end - o.start, left=o.start, color=colour[o.job], edgecolor="black", lw=0.5)
            if len(jobs) <= 30 and o.end - o.start > 0.03 * max(schedule.makespan, 1e-9):
                ax.text((o.start + o.end) / 2, row, o.job, ha="center", va="center", fontsize=7)
    ax.set_yticks(range(len(machines)), machines)
    ax.invert_yaxis()
    ax.set_xlabel("time")
    ax.set_xlim(0, max(schedule.makespan, 1e-9) * 1.01)
    ax.set_title(_title(schedule), fontsize=9)
    if len(jobs) <= 20:
        ax.legend(
            handles=[Patch(color=colour[j], label=j) for j in jobs],
            bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=7, title="job",
        )
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def gantt_svg(schedule: Schedule, *, width: int = 1000, row_h: int = 26) -> str:
    """The Gantt chart as an SVG string (used inline by :func:`gantt_html`)."""
    machines = list(schedule.sequences)
    jobs = _jobs(schedule)
    colour = {j: _colour(i, len(jobs)) for i, j in enumerate(jobs)}
    left, top, right = 90, 20, 20
    span = max(schedule.makespan, 1e-9)
    scale = (width - left - right) / span
    height = top + row_h * len(machines) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">'
    ]
    for row, m in enumerate(machines):
        y = top + row * row_h
        out.append(f'<text x="{left - 6}" y="{y + row_h * 0.65:.1f}" text-anchor="end">{html.escape(m)}</text>')
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y + row_h}" y2="{y + row_h}" stroke="#ddd"/>')
        for o in schedule.sequences[m]:
            x = left + o.start * scale
            w = max(0.5, (o.end - o.start) * scale)
            tip = html.escape(
                f"job {o.job} op {o.index}"
                + (f" ({o.product})" if o.product else "")
                + f" on {m}: {o.start:g} → {o.end:g}"
            )
            out.append(
                f'<rect x="{x:.2f}" y="{y + 3}" width="{w:.2f}" height="{row_h - 6}" '
                f'fill="{colour[o.job]}" stroke="#333" stroke-width="0.5"><title>{tip}</title></rect>'
            )
            if w > 28:
                out.append(
                    f'<text x="{x + w / 2:.2f}" y="{y + row_h * 0.65:.1f}" text-anchor="middle" '
                    f'pointer-events="none">{html.escape(o.job)}</text>'
                )
    # time axis with about 10 ticks
    axis_y = top + row_h * len(machines)
    step = _nice_step(span / 10)
    t = 0.0
    while t <= span + 1e-9:
        x = left + t * scale
        out.append(f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{axis_y}" y2="{axis_y + 5}" stroke="#333"/>')
        out.append(f'<text x="{x:.2f}" y="{axis_y + 18}" text-anchor="middle">{t:g}</text>')
        t += step
    out.append("</svg>")
    return "\n".join(out)


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    mag = 10 ** int(f"{raw:e}".split("e")[1])
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def gantt_html(schedule: Schedule, path: str | Path) -> Path:
    """Write a self-contained HTML page with the Gantt chart (no scripts, no network)."""
    title = html.escape(_title(schedule))
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(schedule.problem_name or 'schedule')} – Gantt</title>"
        "<style>body{font-family:sans-serif;margin:1em} rect:hover{opacity:.7}</style></head><body>"
        f"<h3>{title}</h3>\n{gantt_svg(schedule)}\n</body></html>\n"
    )
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
