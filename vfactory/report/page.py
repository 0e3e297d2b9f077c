"""The report page: results dict → one self-contained HTML document (inline CSS and images).

One function per section; a section whose data is missing from the results returns "" and is left
out. Every text that comes from the layout or the results goes through :func:`esc`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Set
from pathlib import Path
from typing import Any

from . import figures

# Known KPIs: label and unit ("{t}" is the layout's time unit).
KPI_LABELS: dict[str, tuple[str, str]] = {
    "throughput_per_hour": ("throughput", "parts/h"),
    "wip": ("work in process", "parts"),
    "lead_time.mean": ("lead time, mean", "{t}"),
    "lead_time.p50": ("lead time, median", "{t}"),
    "lead_time.p95": ("lead time, 95th percentile", "{t}"),
    "energy_per_good_part_kwh": ("energy per good part", "kWh"),
    "energy_kwh": ("energy", "kWh"),
    "scrap_rate": ("scrap rate", "fraction"),
    "completed": ("good parts out", "parts"),
    "released": ("parts released", "parts"),
    "scrapped": ("parts scrapped", "parts"),
    "lost": ("arrivals lost", "parts"),
}
MAIN_KPIS = list(KPI_LABELS)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
 background:#fafafa;line-height:1.4}
main{max-width:1000px;margin:0 auto;padding:1em 1.5em 3em;background:#fff}
h1{margin:.2em 0 .1em;font-size:1.7em} h2{border-bottom:2px solid #2e7d32;padding-bottom:.15em;
 margin-top:1.8em} h3{margin-bottom:.3em}
.meta{color:#555;font-size:.92em} .meta span{margin-right:1.2em;display:inline-block}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.92em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f1f5f1} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.good{color:#1b5e20;font-weight:600} .bad{color:#b71c1c;font-weight:600} .muted{color:#777}
.badge{display:inline-block;white-space:nowrap;padding:0 .45em;border-radius:.6em;font-size:.85em;background:#e8f5e9}
.badge.bad{background:#ffebee} img.plot,svg.plot{max-width:100%;height:auto;display:block;
 margin:.4em 0}
.gantt{overflow-x:auto} .row{display:flex;flex-wrap:wrap;gap:.5em} .row img.plot{max-width:49%} code,pre{background:#f4f4f4;padding:.1em .3em;border-radius:3px}
pre{padding:.6em;overflow-x:auto} nav a{margin-right:1em;display:inline-block}
footer{margin-top:3em;color:#888;font-size:.85em}
"""


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def num(x: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; '–' for missing or not finite."""
    if x is None or isinstance(x, bool):
        return "–" if x is None else str(x)
    if isinstance(x, int):
        return f"{x:,}".replace(",", "\u2009")
    if isinstance(x, float):
        if not math.isfinite(x):
            return "–"
        if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3):
            return f"{x:.{digits - 1}e}"
        return f"{x:.{digits}g}" if abs(x) < 10 ** digits else f"{x:.0f}"
    return esc(x)


def ci(c: list | None) -> str:
    if not c or c[0] is None or c[1] is None:
        return "–"
    return f"[{num(c[0])}, {num(c[1])}]"


def label(kpi: str, time_unit: str) -> tuple[str, str]:
    name, unit = KPI_LABELS.get(kpi, (kpi, ""))
    return name, unit.replace("{t}", time_unit)


def _table(head: list[str], rows: list[list[str]], num_cols: Set[int] = frozenset()) -> str:
    """A table; cells are HTML already (escaped by the caller)."""
    h = "".join(f"<th>{c}</th>" for c in head)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="num">{c}</td>' if i in num_cols else f"<td>{c}</td>"
            for i, c in enumerate(r)
        ) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>\n{body}\n</section>\n'


# -- sections ---------------------------------------------------------------------------------


def header(r: dict) -> str:
    lay = r.get("layout") or {}
    base = r.get("baseline") or {}
    opt = r.get("optimization") or {}
    seeds = base.get("seeds") or {}
    items = [
        ("layout", f"{esc(lay.get('file', '?'))} (sha256 {esc(str(lay.get('sha256', ''))[:12])}…)"),
        ("created", esc(r.get("created", "?"))),
        ("vfactory", esc(r.get("vfactory", "?"))),
        ("schema", esc(r.get("schema", "?"))),
    ]
    if base:
        items += [
            ("replications", esc(base.get("replications"))),
            ("base seed", esc(seeds.get("base"))),
            ("run length", f"{num(base.get('run_length'))} {esc(base.get('time_unit', ''))}"
                           f" (warm-up {num(base.get('warmup'))})"),
        ]
    if opt:
        items.append(("re-check replications", esc(opt.get("replications"))))
    meta = "".join(f"<span><b>{k}</b>: {v}</span>" for k, v in items)
    scheme = (f'<p class="meta">Seeding: {esc(seeds["scheme"])}; replications '
              f'{esc(_ranges(seeds.get("replications") or []))}.</p>') if seeds.get("scheme") else ""
    return (f"<header><h1>{esc(lay.get('name', 'vfactory report'))}</h1>"
            f'<p class="meta">{meta}</p>{scheme}</header>')


def _ranges(xs: list[int]) -> str:
    if xs and xs == list(range(xs[0], xs[0] + len(xs))):
        return f"{xs[0]}–{xs[-1]}" if len(xs) > 1 else str(xs[0])
    return ", ".join(map(str, xs))


def nav(sections: list[tuple[str, str]]) -> str:
    return "<nav>" + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in sections) + "</nav>"


def recommendation(r: dict) -> str:
    opt = r.get("optimization")
    if not opt:
        return ""
    tu = (r.get("layout") or {}).get("time_unit", "")
    trials = opt.get("trials") or {}
    rec_params = (opt.get("recommended") or {}).get("params") or {}
    base_params = (opt.get("baseline") or {}).get("params") or {}
    parts = []
    if not opt.get("feasible", True):
        parts.append('<p class="bad">No trial met every constraint: the point shown is the one '
                     "that violates them least.</p>")
    parts.append(
        f"<p>Recommended: trial {esc((opt.get('recommended') or {}).get('trial'))} of "
        f"{esc(trials.get('complete'))} completed ({esc(trials.get('feasible'))} feasible, "
        f"{esc(trials.get('failed', 0))} failed), re-checked against the baseline with "
        f"{esc(opt.get('replications'))} replications and common random numbers (seed "
        f"{esc(opt.get('seed'))}).</p>"
    )
    rows = [[esc(k), num(base_params.get(k)), f"<b>{num(v)}</b>"] for k, v in rec_params.items()]
    parts.append("<h3>Process conditions</h3>" + _table(["variable", "baseline", "recommended"],
                                                         rows, {1, 2}))
    rows = []
    for o in opt.get("objectives") or []:
        name, unit = label(o["kpi"], tu)
        imp = o.get("improvement") or {}
        good = imp.get("better") and imp.get("significant")
        verdict = ("better, significant" if good else
                   "better, within noise" if imp.get("better") else "not better")
        rel = imp.get("relative")
        rows.append([
            f"{esc(name)}<br><span class='muted'>{esc(o['kpi'])}, {esc(o['direction'])}</span>",
            esc(unit),
            f"{num(o['baseline']['mean'])}<br><span class='muted'>{ci(o['baseline']['ci95'])}</span>",
            f"<b>{num(o['recommended']['mean'])}</b><br><span class='muted'>"
            f"{ci(o['recommended']['ci95'])}</span>",
            f"{num(imp.get('mean'))}<br><span class='muted'>{ci(imp.get('ci95'))}</span>",
            "–" if rel is None else f"{100 * rel:+.1f} %",
            f'<span class="badge{"" if good else " bad"}">{verdict}</span>',
        ])
    parts.append(
        "<h3>Objectives (mean and 95 % CI)</h3>"
        + _table(["KPI", "unit", "baseline", "recommended", "difference (paired)", "relative",
                  "verdict"], rows, {2, 3, 4, 5})
        + '<p class="meta">The difference is recommended − baseline per replication (same random '
          "numbers), so its CI is narrower than the two CIs side by side.</p>"
    )
    rows = []
    for c in opt.get("constraints") or []:
        name, unit = label(c["kpi"], tu)
        ok = c.get("satisfied")
        rows.append([
            esc(name) + f"<br><span class='muted'>{esc(c['kpi'])}</span>",
            ("≥ " if c.get("bound") == "min" else "≤ ") + f"{num(c.get('value'))} {esc(unit)}",
            f"<b>{num(c['recommended']['mean'])}</b><br><span class='muted'>"
            f"{ci(c['recommended']['ci95'])}</span>",
            f'<span class="{"good" if ok else "bad"}">{"met" if ok else "violated"}</span>'
            + (" (binding)" if c.get("active") else ""),
        ])
    if rows:
        parts.append("<h3>Constraints at the recommended point</h3>"
                     + _table(["KPI", "bound", "recommended", "status"], rows, {2}))
    return _section("recommendation", "Recommendation", "\n".join(parts))


def baseline_kpis(r: dict) -> str:
    base = r.get("baseline")
    if not base or not base.get("kpis"):
        return ""
    kpis = base["kpis"]
    tu = base.get("time_unit", "")
    rows = []
    for k in MAIN_KPIS:
        e = kpis.get(k)
        if not e:
            continue
        name, unit = label(k, tu)
        rows.append([esc(name), esc(k), esc(unit), num(e.get("mean")), f"± {num(e.get('half_width'))}",
                     ci(e.get("ci95")), esc(e.get("n"))])
    body = _table(["KPI", "key", "unit", "mean", "half-width", "95 % CI", "n"], rows, {3, 4, 5, 6})
    return _section("baseline", "Baseline KPIs (the layout as written)", body)


def bottleneck(r: dict) -> str:
    base = r.get("baseline") or {}
    opt = r.get("optimization") or {}
    if not base.get("bottleneck") and not opt.get("bottleneck"):
        return ""
    parts = []
    if base.get("bottleneck"):
        share = (base.get("bottleneck_share") or {})
        shares = ", ".join(f"{esc(s)} in {100 * v:.0f} %" for s, v in share.items())
        active = (base.get("kpis") or {}).get(f"stations.{base['bottleneck']}.active") or {}
        parts.append(
            f"<p>Baseline bottleneck: <b>{esc(base['bottleneck'])}</b> (the station with the "
            f"longest active time, working + setup + down, in most replications"
            + (f": {shares} of them" if shares else "") + ")"
            + (f"; active {100 * active['mean']:.1f} % of the time" if active.get("mean") is not None
               else "") + ".</p>"
        )
    if opt.get("bottleneck"):
        parts.append(f"<p>At the recommended conditions: <b>{esc(opt['bottleneck'])}</b>.</p>")
    return _section("bottleneck", "Bottleneck", "\n".join(parts))


def station_states(r: dict) -> str:
    base = r.get("baseline") or {}
    kpis = base.get("kpis") or {}
    stations = (r.get("layout") or {}).get("stations") or sorted(
        {k.split(".")[1] for k in kpis if k.startswith("stations.")})
    states = {}
    for s in stations:
        fr = {st: (kpis.get(f"stations.{s}.{st}") or {}).get("mean") for st in figures.STATE_COLOURS}
        if any(v is not None for v in fr.values()):
            states[s] = {k: float(v or 0.0) for k, v in fr.items()}
    if not states:
        return ""
    rows = [[esc(s)] + [f"{100 * fr[st]:.1f}" for st in figures.STATE_COLOURS]
            for s, fr in states.items()]
    body = (figures.state_bars(states)
            + "<details><summary>numbers (% of time, mean over replications)</summary>"
            + _table(["station"] + list(figures.STATE_COLOURS), rows, set(range(1, 7)))
            + "</details>")
    return _section("states", "Station states (baseline)", body)


def timeseries(r: dict) -> str:
    from ..layout import SECONDS_PER

    base = r.get("baseline") or {}
    ts = base.get("timeseries") or {}
    if not ts.get("time"):
        return ""
    tu = base.get("time_unit") or (r.get("layout") or {}).get("time_unit") or "min"
    per_hour = SECONDS_PER["h"] / SECONDS_PER[tu] if tu in SECONDS_PER else 1.0
    img = figures.wip_throughput(ts["time"], ts["wip"], ts["completed"], tu, per_hour,
                                 base.get("warmup"))
    body = (img + '<p class="meta">One replication (replication 0) sampled 200 times; the grey '
            "band is the warm-up, which every statistic above discards.</p>")
    return _section("timeseries", "WIP and throughput over time", body)


def optimisation(r: dict) -> str:
    opt = r.get("optimization")
    if not opt:
        return ""
    objectives = opt.get("objectives") or []
    rec_trial = (opt.get("recommended") or {}).get("trial")
    parts = []
    rows = opt.get("history") or []
    if rows and objectives:
        parts.append("<h3>History</h3>" + "".join(figures.history(rows, objectives, rec_trial)))
    front = opt.get("pareto_front") or []
    if front and len(objectives) >= 2:
        parts.append("<h3>Pareto front</h3>" + figures.pareto(rows, front, objectives, rec_trial))
        frows = [[esc(p.get("trial")), ", ".join(num(v) for v in p["values"]),
                  esc(", ".join(f"{k}={v}" for k, v in p["params"].items()))] for p in front]
        parts.append(_table(["trial", "objectives", "params"], frows))
    elif len(objectives) == 1:
        parts.append('<p class="meta">One objective: no Pareto front; the recommendation is the '
                     "best feasible trial. The plots below show what each constraint costs: the "
                     "objective of every trial against the constrained KPI.</p>")
    bounds: dict[str, list[tuple[str, float]]] = {}
    for c in opt.get("constraints") or []:
        bounds.setdefault(c["kpi"], []).append((c.get("bound", ""), c.get("value")))
    if objectives and any(r.get("kpis") for r in rows):
        imgs = [figures.tradeoff(rows, objectives[0], kpi, b, rec_trial)
                for kpi, b in bounds.items()]
        if imgs:
            parts.append("<h3>Trade-offs against the constraints</h3>"
                         + '<div class="row">' + "".join(imgs) + "</div>")
    for kpi, imp in (opt.get("importances") or {}).items():
        if imp:
            parts.append(f"<h3>Parameter importances for {esc(kpi)}</h3>"
                         + figures.importances(kpi, imp))
    if not parts:
        return ""
    return _section("optimisation", "Optimisation", "\n".join(parts))


def physics(r: dict) -> str:
    ph = r.get("physics")
    if not ph:
        return ""
    parts = []
    solves = ph.get("solves") or {}
    for name, series in (ph.get("series") or {}).items():
        if not series or not series.get("t_s"):
            continue
        s = solves.get(name) or {}
        out = s.get("outputs") or {}
        params = s.get("params") or {}
        parts.append(f"<h3>{esc(name)}</h3>" + figures.temperatures(
            name, series, out.get("soak_start_s"), params.get("ambient_c")))
    if solves:
        rows = []
        for name, s in solves.items():
            outs = ", ".join(f"{esc(k)} = {num(v)}" for k, v in (s.get("outputs") or {}).items())
            rows.append([esc(name), esc(s.get("solver")), outs,
                         "cached" if s.get("cached") else "solved"])
        parts.append("<h3>Solves</h3>" + _table(["model", "solver", "outputs (SI)", ""], rows))
    bindings = ph.get("bindings") or {}
    if bindings:
        rows = [[esc(k), f"<code>{esc(b.get('expression', ''))}</code>", num(b.get("value")),
                 esc(b.get("unit", ""))] for k, b in bindings.items()]
        parts.append("<h3>Bound values (what the physics set in the line)</h3>"
                     + _table(["station field", "expression", "value", "unit"], rows, {2}))
    if not parts:
        return ""
    return _section("physics", "Process physics (baseline conditions)", "\n".join(parts))


def schedule(r: dict) -> str:
    sch = r.get("schedule")
    if not sch or not sch.get("plan"):
        return ""
    plan = sch["plan"]
    parts = [_table(
        ["objective", "value", "makespan", "weighted tardiness", "status", "method", "gap"],
        [[esc(plan.get("objective")), num(plan.get("objective_value")), num(plan.get("makespan")),
          num(plan.get("total_weighted_tardiness")), esc(plan.get("status")),
          esc(plan.get("method")), num(plan.get("gap"))]], {1, 2, 3, 6})]
    try:
        from ..schedule.gantt import gantt_svg
        from ..schedule.solution import Schedule

        parts.append('<div class="gantt">' + gantt_svg(Schedule.from_dict(plan)) + "</div>")
    except (ImportError, KeyError, TypeError, ValueError) as e:  # an older or partial plan
        parts.append(f'<p class="bad">Gantt chart unavailable: {esc(e)}</p>')
    rep = sch.get("replay")
    if rep:
        rows = []
        for k, planned in (rep.get("planned") or {}).items():
            real = (rep.get("schedule") or {}).get(k) or {}
            online = (rep.get("online") or {}).get(k) or {}
            rows.append([esc(k), num(planned), num(real.get("mean")), ci(real.get("ci95")),
                         num(online.get("mean")), ci(online.get("ci95"))])
        policy = rep.get("policy") or {}
        parts.append(
            f"<h3>Replayed in the simulation ({esc(rep.get('replications'))} replications"
            + (", with breakdowns" if policy.get("failures") else "") + ")</h3>"
            + _table(["KPI", "planned", "schedule followed", "95 % CI",
                      f"dispatching rule {esc(policy.get('online', ''))}", "95 % CI"],
                     rows, {1, 2, 3, 4, 5}))
    return _section("schedule", "Schedule", "\n".join(parts))


def tools(r: dict, workdir: Path) -> str:
    opt = r.get("optimization") or {}
    ph = r.get("physics") or {}
    lay = r.get("layout") or {}
    parts = []
    if opt.get("storage"):
        storage = str(opt["storage"])
        if "://" in storage or Path(storage).is_absolute():
            # the user's own database (a URL, or a file outside this folder): named as it is
            url = storage if "://" in storage else f"sqlite:///{storage}"
            commands = (
                f"vfactory dashboard {esc(storage)}\n# or directly:\noptuna-dashboard {esc(url)}"
            )
        else:
            # a file in this folder, named relative to it (SCHEMA.md, "Paths"): the commands
            # stay right wherever the folder is moved or downloaded
            commands = (
                f"# in this folder (127.0.0.1:8080):\nvfactory dashboard {esc(storage)}\n"
                f"# from elsewhere:\nvfactory dashboard &lt;this folder&gt;/{esc(storage)}\n"
                "# or, with the default results folder, from the layout's folder:\n"
                f"vfactory dashboard {esc(lay.get('file', 'LAYOUT.yaml'))}\n"
                f"# or directly, in this folder:\noptuna-dashboard sqlite:///{esc(storage)}"
            )
        parts.append(
            "<h3>The study in optuna-dashboard</h3><p>Every trial, its parameters and KPIs, with "
            f"interactive history, Pareto front, slices and importances:</p><pre>{commands}</pre>"
        )
    if ph.get("xdmf"):
        links = ", ".join(f'<a href="fields/{esc(f)}">fields/{esc(f)}</a>' for f in ph["xdmf"])
        parts.append(
            "<h3>Temperature fields in ParaView</h3><p>ParaView: <i>File → Open</i> "
            f"{links} (choose the <i>XDMF Reader</i>), then <i>Apply</i> and step through time. "
            "The .h5 file next to each .xdmf holds the data and must stay beside it.</p>"
        )
    files = (r.get("artifacts") or {}).get("files") or []
    if files:
        links = "".join(f'<li><a href="{esc(f)}">{esc(f)}</a></li>' for f in files)
        parts.append(f"<h3>Files in this folder</h3><ul>{links}</ul>")
    if not parts:
        return ""
    return _section("tools", "Open in your tools", "\n".join(parts))


def document(results: dict, workdir: Path) -> str:
    """The whole page."""
    sections = [
        ("recommendation", "Recommendation", recommendation(results)),
        ("baseline", "Baseline KPIs", baseline_kpis(results)),
        ("bottleneck", "Bottleneck", bottleneck(results)),
        ("states", "Station states", station_states(results)),
        ("timeseries", "WIP & throughput", timeseries(results)),
        ("optimisation", "Optimisation", optimisation(results)),
        ("physics", "Physics", physics(results)),
        ("schedule", "Schedule", schedule(results)),
        ("tools", "Open in your tools", tools(results, workdir)),
    ]
    present = [(a, t, body) for a, t, body in sections if body]
    name = (results.get("layout") or {}).get("name", "vfactory")
    timings = results.get("timings_s") or {}
    foot = ", ".join(f"{esc(k)} {num(v)} s" for k, v in timings.items())
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(name)} – vfactory report</title><style>{CSS}</style></head>\n<body><main>\n"
        + header(results)
        + nav([(a, t) for a, t, _ in present])
        + "\n"
        + "".join(body for _, _, body in present)
        + f"<footer>vfactory {esc(results.get('vfactory', ''))} · "
        f"{esc(results.get('schema', ''))}" + (f" · timings: {foot}" if foot else "")
        + "</footer>\n</main></body></html>\n"
    )
