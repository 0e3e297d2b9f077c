"""The main job: layout (+ data) → physics → baseline simulation → optimisation → schedule →
results.json, report.html, the study database (optuna-dashboard) and XDMF fields (ParaView).

``run`` is the one entry that the CLI (``vfactory recommend``), the API worker and the training
notebooks call. Each stage reports progress as ``progress(stage, fraction)``. Paths in the results
are relative to the results folder (``vfactory.report.paths``), so the folder can be moved.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from .layout import Factory, load
from .report.paths import relative_paths

RESULTS_SCHEMA = "vfactory.results/1"
STAGES = ("physics", "baseline", "optimize", "schedule", "report")

Progress = Callable[[str, float], None]


def _noop(stage: str, fraction: float) -> None:
    pass


def run(
    layout_path: str | Path,
    workdir: str | Path | None = None,
    *,
    executor=None,
    replications: int | None = None,
    trials: int | None = None,
    orders: str | Path | None = None,
    progress: Progress | None = None,
    report: bool = True,
) -> dict:
    """Run every stage that the layout asks for and write ``workdir`` (default results/<name>/).

    Returns the results dict that is also written to ``workdir/results.json``.
    """
    progress = progress or _noop
    layout_path = Path(layout_path)
    factory = load(layout_path)
    workdir = Path(workdir) if workdir is not None else Path("results") / factory.name
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    results: dict[str, Any] = {
        "schema": RESULTS_SCHEMA,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "vfactory": __version__,
        "layout": {
            "file": layout_path.name,
            "sha256": hashlib.sha256(layout_path.read_bytes()).hexdigest(),
            "name": factory.name,
            "time_unit": factory.time_unit,
            "stations": list(factory.stations),
            "products": list(factory.products),
        },
        "physics": None,
        "baseline": None,
        "optimization": None,
        "schedule": None,
        "artifacts": {},
    }

    # 1. physics: bound solves (cached), fields for ParaView, curves for the report
    progress("physics", 0.0)
    t = time.monotonic()
    resolved = factory
    if factory.physics or factory.bindings:
        from .physics import resolve

        res = resolve(factory, xdmf_dir=workdir / "fields")
        resolved = res.factory
        results["physics"] = {
            **_jsonable(res.to_dict()),
            "series": _physics_series(factory),
            "xdmf": sorted(p.name for p in (workdir / "fields").glob("*.xdmf")),
        }
    timings["physics"] = time.monotonic() - t
    progress("physics", 1.0)

    # 2. the baseline line simulation
    from . import sim

    t = time.monotonic()
    base = sim.run(
        resolved, replications=replications, executor=executor,
        progress=lambda d, n: progress("baseline", d / n),
    )
    results["baseline"] = {**base.to_dict(), "timeseries": sim.timeseries(resolved)}
    timings["baseline"] = time.monotonic() - t

    # 3. optimisation and recommendation
    if factory.study is not None:
        from .optimize import recommend, run_study
        from .optimize.plots import write_plots

        t = time.monotonic()
        spec = factory.study
        # No storage in the layout: run_study keeps the study in workdir/study.db. The spec is left
        # without a path, so the study's fingerprint (checked on resume) does not depend on where
        # the folder lies.
        budget = trials or spec.budget.trials

        def trial_progress(stage_done: int) -> None:
            progress("optimize", min(stage_done / budget, 1.0) if budget else 0.5)

        study = run_study(factory, spec, executor=executor, workdir=workdir, max_trials=trials,
                          progress=False, on_trial=trial_progress)
        rec = recommend(factory, study, spec, executor=executor)
        rec["history"] = _history(study)
        stored = spec.storage or "study.db"
        if "://" not in stored:  # a file: absolute here, relative to workdir below when inside it
            stored = str((workdir / stored if spec.storage is None else Path(stored)).resolve())
        rec["storage"] = stored
        plots = write_plots(study, rec, spec, workdir / "plots")
        rec["plots"] = [str(p.relative_to(workdir)) for p in plots]
        results["optimization"] = rec
        timings["optimize"] = time.monotonic() - t
        progress("optimize", 1.0)

    # 4. schedule the order book on the (recommended) line and replay it
    if orders is not None:
        t = time.monotonic()
        results["schedule"] = _schedule(resolved, results.get("optimization"), Path(orders), workdir)
        timings["schedule"] = time.monotonic() - t
        progress("schedule", 1.0)

    results["timings_s"] = {k: round(v, 2) for k, v in timings.items()}
    results["timings_s"]["total"] = round(time.monotonic() - t0, 2)
    results["artifacts"] = _artifacts(workdir)
    results = relative_paths(results, workdir, layout_path.parent)
    _write_json(workdir / "results.json", results)
    if report:
        from .report import write_report

        progress("report", 0.0)
        path = write_report(results, workdir)
        results["artifacts"]["report"] = path.name
        _write_json(workdir / "results.json", results)
        progress("report", 1.0)
    return results


def _physics_series(factory: Factory) -> dict:
    """Core and surface temperature over time for every heat-treatment solve (cached)."""
    from .physics.binding import solve_params
    from .physics.cache import cached_solve

    out = {}
    for name, params in solve_params(factory).items():
        if factory.physics[name].solver != "heat_treatment":
            continue
        r = cached_solve("heat_treatment", {**params, "time_series": True})
        if "series" in r:
            out[name] = r["series"]
    return out


def _history(study) -> list[dict]:
    rows = []
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        rows.append({
            "trial": t.number,
            "state": t.state.name,
            "params": dict(t.params),
            "values": list(t.values) if t.values else None,
            "feasible": all(c <= 0 for c in t.user_attrs.get("constraints", [])),
            "memo_of": t.user_attrs.get("memo_of"),
            # report: objective and constraint KPIs per trial ({kpi: {mean, half_width}})
            "kpis": t.user_attrs.get("kpis"),
        })
    return rows


def _schedule(factory: Factory, optimization: dict | None, orders: Path, workdir: Path) -> dict:
    from .layout import override
    from .schedule import plan
    from .schedule.from_layout import problem_from_layout
    from .schedule.gantt import gantt_html, gantt_png

    line = factory
    if optimization is not None:
        line = override(factory, optimization["recommended"]["params"])
        from .physics import resolve

        line = resolve(line).factory
    problem = problem_from_layout(line, orders)
    schedule = plan(problem, objective="tardiness", time_limit=20.0)
    out = workdir / "schedule"
    out.mkdir(exist_ok=True)
    schedule.to_json(out / "schedule.json")
    schedule.to_csv(out / "schedule.csv")
    gantt_png(schedule, out / "gantt.png")
    gantt_html(schedule, out / "gantt.html")
    result = {"plan": schedule.to_dict(), "files": ["schedule/schedule.json", "schedule/schedule.csv",
                                                    "schedule/gantt.png", "schedule/gantt.html"]}
    try:
        from .schedule.replay import replay

        result["replay"] = replay(line, problem, schedule).to_dict()
    except ImportError:
        pass
    return result


def _artifacts(workdir: Path) -> dict:
    files = sorted(str(p.relative_to(workdir)) for p in workdir.rglob("*") if p.is_file())
    return {"files": files}


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_jsonable(data), indent=2, default=str) + "\n")
    tmp.replace(path)


# -- job kinds for the API worker: fn(job_dir, layout_path, options, progress(stage, percent)) --
_WEIGHTS = {"physics": (0, 15), "baseline": (15, 30), "optimize": (30, 85), "schedule": (85, 95), "report": (95, 100)}


def _api_progress(progress: Callable[[str, float], None]) -> Progress:
    def report(stage: str, fraction: float) -> None:
        lo, hi = _WEIGHTS.get(stage, (0, 100))
        progress(stage, lo + (hi - lo) * max(0.0, min(fraction, 1.0)))

    return report


def _with_executor(options: dict, fn: Callable[[Any], dict], layout_path: Path) -> dict:
    spec = options.get("cluster")  # set by the worker's operator, never by a tenant
    if not spec:
        return fn(None)
    from .execution import open_executor

    # workers are prepared for the layout's physics (studies solve it in every trial)
    with open_executor(spec, load(layout_path)) as executor:
        return fn(executor)


def _attachment(job_dir: Path, layout_path: Path, name: str | None) -> Path | None:
    if not name:
        return None
    path = (layout_path.parent / name).resolve()
    if layout_path.parent.resolve() not in path.parents or not path.is_file():
        raise ValueError(f"options.orders: no attachment named {name!r} in the upload")
    return path


def recommend_kind(job_dir: Path, layout_path: Path, options: dict, progress) -> dict:
    """The full pipeline. Options: replications, trials, orders (the name of an attachment)."""
    orders = _attachment(job_dir, layout_path, options.get("orders"))
    return _with_executor(options, lambda ex: run(
        layout_path, job_dir, executor=ex, replications=options.get("replications"),
        trials=options.get("trials"), orders=orders, progress=_api_progress(progress),
    ), layout_path)


def optimize_kind(job_dir: Path, layout_path: Path, options: dict, progress) -> dict:
    """Baseline + optimisation + report (no schedule). Options: replications, trials."""
    return _with_executor(options, lambda ex: run(
        layout_path, job_dir, executor=ex, replications=options.get("replications"),
        trials=options.get("trials"), progress=_api_progress(progress),
    ), layout_path)


def physics_kind(job_dir: Path, layout_path: Path, options: dict, progress) -> dict:
    """The layout's bound solves, their outputs and XDMF fields (for ParaView)."""
    from .physics import resolve

    factory = load(layout_path)
    progress("physics", 0.0)
    res = resolve(factory, xdmf_dir=Path(job_dir) / "fields")
    progress("physics", 100.0)
    out = {"schema": RESULTS_SCHEMA, "physics": res.to_dict(),
           "xdmf": sorted(p.name for p in (Path(job_dir) / "fields").glob("*.xdmf"))}
    return _jsonable(relative_paths(out, job_dir, layout_path.parent))


def schedule_kind(job_dir: Path, layout_path: Path, options: dict, progress) -> dict:
    """Plan an order book (option orders: an attachment) on the line and replay it."""
    orders = _attachment(job_dir, layout_path, options.get("orders"))
    if orders is None:
        raise ValueError("kind 'schedule' needs options.orders, the name of an orders CSV/YAML attachment")
    factory = load(layout_path)
    if factory.physics or factory.bindings:
        from .physics import resolve

        factory = resolve(factory).factory
    progress("schedule", 0.0)
    out = _schedule(factory, None, orders, Path(job_dir))
    progress("schedule", 100.0)
    return _jsonable({"schema": RESULTS_SCHEMA, "schedule": out})


def calibrate_kind(job_dir: Path, layout_path: Path, options: dict, progress) -> dict:
    """Event log (option log: an attachment) + column mapping (the upload) → calibrated layout,
    data-quality report, fits and the twin comparison. Options: log, mode (replay|stochastic)."""
    from .calibrate import calibrate
    from .calibrate import report as calibration_report
    from .calibrate.mapping import load as load_mapping

    log = _attachment(job_dir, layout_path, options.get("log"))
    if log is None:
        raise ValueError("kind 'calibrate' needs options.log, the name of the event-log attachment")
    steps = iter(range(1, 100))
    cal = calibrate(log, load_mapping(layout_path), mode=options.get("mode", "replay"),
                    step=lambda msg: progress(msg, float(next(steps, 99))))
    calibration_report.write(cal, Path(job_dir))
    return _jsonable({"schema": RESULTS_SCHEMA, "calibration": json.loads(
        (Path(job_dir) / "twin.json").read_text()) if (Path(job_dir) / "twin.json").exists() else {},
        "layout": "layout.yaml"})
