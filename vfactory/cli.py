"""The ``vfactory`` command line: validate, schema, simulate, … (``vfactory --help``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cluster.base import TaskFailed

app = typer.Typer(
    name="vfactory",
    help=(
        "Virtual factory: simulate a production line described in YAML, couple it to process physics, "
        "search for better process conditions and plan production.\n\n"
        "Start with:  vfactory validate examples/heat_treatment/line.yaml  then  vfactory simulate "
        "examples/heat_treatment/line.yaml. Every time in a layout is in its factory.time_unit."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# user text (paths, names, values) is printed as is: no rich markup or :emoji: codes in it
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)
if not console.is_terminal:  # pipes and CI logs: do not squeeze tables into 80 columns
    console.width = max(console.width, 120)

EXIT_USER_ERROR = 2


def _user_error(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(EXIT_USER_ERROR)


def load_layout(path: Path):
    """Load a layout for a command; user mistakes end the command with exit code 2, no traceback."""
    from .layout import LayoutError, load

    try:
        return load(path)
    except LayoutError as exc:
        n = len(exc.issues)
        err_console.print(
            f"[red]{escape(str(path))}: {n} problem{'s' if n != 1 else ''} in the layout[/red]", highlight=False
        )
        for issue in exc.issues:
            err_console.print(str(issue), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_USER_ERROR) from None


@app.command()
def validate(
    layout: Path = typer.Argument(..., help="Layout YAML file."),
) -> None:
    """Check a layout without running it: syntax, fields, units, references between sections.

    Problems are listed as FILE:LINE:COLUMN: field.path: message; the exit code is 2 if there are any.
    """
    f = load_layout(layout)
    from .layout.capacity import offered_load

    console.print(
        f"[green]ok[/green] {escape(str(layout))}: line {f.name!r}, {len(f.stations)} stations, {len(f.products)} products, "
        f"time unit {f.time_unit}",
        highlight=False,
    )
    for line in offered_load(f):
        console.print(line, highlight=False, markup=False)


@app.command()
def schema(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file instead of stdout."
    ),
) -> None:
    """Print the JSON Schema of layout files (for editor completion and checks).

    For VS Code with the YAML extension, put  # yaml-language-server: $schema=vfactory-layout.schema.json
    at the top of a layout after  vfactory schema -o vfactory-layout.schema.json.
    """
    from .layout import json_schema

    text = json.dumps(json_schema(), indent=2)
    if output:
        output.write_text(text + "\n")
        console.print(f"wrote {output}")
    else:
        sys.stdout.write(text + "\n")


def _fmt(est, digits: int = 4) -> str:
    if est.half_width is None:
        return f"{est.mean:.{digits}g}"
    return f"{est.mean:.{digits}g} ± {est.half_width:.2g}"


def print_result(result) -> None:
    u = result.time_unit
    k = result.kpis
    t = Table(
        title=f"{result.factory}: {len(result.replications)} replications, 95 % CI (t), time unit {u}"
    )
    t.add_column("KPI")
    t.add_column("value", justify="right")
    rows = [
        ("throughput [parts/h]", "throughput_per_hour"),
        (f"throughput [parts/{u}]", "throughput"),
        ("WIP (time average) [parts]", "wip"),
        (f"lead time mean [{u}]", "lead_time.mean"),
        (f"lead time p50 [{u}]", "lead_time.p50"),
        (f"lead time p95 [{u}]", "lead_time.p95"),
        ("scrap rate", "scrap_rate"),
        ("energy per good part [kWh]", "energy_per_good_part_kwh"),
    ]
    for label, key in rows:
        t.add_row(escape(label), _fmt(k[key]))
    console.print(t)
    s = Table(
        title="stations: fraction of time per state; util. = working/scheduled; buffer = mean parts waiting"
    )
    for col in ("station", "work", "setup", "blocked", "starved", "down", "off", "util.", "buffer"):
        s.add_column(col, justify="right" if col != "station" else "left")
    for name in result.stations:
        p = f"stations.{name}."
        fr = result.state_fractions(name)
        mark = " *" if name == result.bottleneck else ""
        s.add_row(
            name + mark,
            *(
                f"{fr[x]:.3f}"
                for x in ("working", "setup", "blocked", "starved", "down", "off_shift")
            ),
            f"{k[p + 'utilisation'].mean:.3f}",
            f"{k[p + 'buffer_wip'].mean:.2f}",
        )
    console.print(s)
    share = ", ".join(
        f"{n} {v:.0%}" for n, v in sorted(result.bottleneck_share.items(), key=lambda x: -x[1])
    )
    console.print(
        f"bottleneck (*, longest active time): {result.bottleneck} (share of replications: {share})"
    )
    console.print(
        f"seeds: base {result.seed}, replications 0..{len(result.replications) - 1}",
        highlight=False,
    )


@app.command()
def simulate(
    layout: Path = typer.Argument(..., help="Layout YAML file."),
    replications: int | None = typer.Option(
        None, "--replications", "-n", min=1, help="Override factory.replications."
    ),
    seed: int | None = typer.Option(None, "--seed", "-s", min=0, help="Override factory.seed."),
    json_out: Path | None = typer.Option(
        None, "--json", help="Write all KPIs with CIs and seeds to this JSON file."
    ),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        envvar="VFACTORY_CLUSTER",
        help="Where replications run: local[:N] (a process pool), ray, ray://HOST:10001, dask, tcp://HOST:8786; default: the layout's factory.cluster, else in this process",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Simulate a line over replications and print KPIs with 95 % confidence intervals.

    Example:  vfactory simulate examples/heat_treatment/line.yaml -n 20 --json out.json
    """
    from . import sim

    f = load_layout(layout)
    if f.physics or f.bindings:  # bound station values come from the physics: resolve first
        from .physics import PhysicsError, resolve

        try:
            resolved = resolve(f)
        except (PhysicsError, ValueError, TimeoutError) as exc:
            raise _user_error(escape(f"{layout}: {exc}")) from None
        f = resolved.factory
        hits = sum(bool(r.get("cached")) for r in resolved.solves.values())
        bound = ", ".join(
            f"{p} = {v:.4g}{' ' + resolved.units[p] if resolved.units.get(p) else ''}"
            for p, v in resolved.bindings.items()
        )
        console.print(
            f"physics: {len(resolved.solves)} solves ({hits} from cache); {bound}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    executor = executor_for(cluster, f, physics_in_tasks=False)  # physics resolved above
    try:
        result = sim.run(
            f, replications=replications, seed=seed, progress=not quiet, executor=executor
        )
    finally:
        if executor is not None:
            executor.close()
    print_result(result)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        from .pipeline import _jsonable

        json_out.write_text(json.dumps(_jsonable(result.to_dict()), indent=2, allow_nan=False) + "\n")
        console.print(f"wrote {json_out}")


@app.command()
def sweep(
    layout: Path = typer.Argument(..., help="Layout YAML file."),
    param: list[str] = typer.Option(
        ...,
        "--param",
        "-p",
        help="PATH=RANGE: start:stop:step (grid), start:stop (for lhs/sobol), a,b,c or a value. Repeatable.",
    ),
    method: str = typer.Option("factorial", "--method", "-m", help="factorial, lhs or sobol."),
    n: int | None = typer.Option(None, "--points", help="Number of points for lhs / sobol."),
    kpi: list[str] | None = typer.Option(None, "--kpi", help="KPIs in the table (default: the main ones)."),
    replications: int | None = typer.Option(None, "--replications", "-n", min=2, help="Per point."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default results/<name>/)."),
    cluster: str | None = typer.Option(
        None, "--cluster", envvar="VFACTORY_CLUSTER", help="Where points run: local[:N], ray, ray://HOST:10001, dask, tcp://HOST:8786; default: factory.cluster, else in this process"
    ),
    seed: int = typer.Option(0, "--design-seed", help="Seed of the lhs / sobol design."),
) -> None:
    """Sweep process parameters: a tidy table (CSV + Parquet) of parameters → KPIs with CIs, and a plot.

    Example:  vfactory sweep examples/heat_treatment/line.yaml -p stations.austenitise.batch_size=20:40:5
    -p stations.turning.servers=2,3 -n 5
    """
    from cluster.sweep import SweepSpecError, design

    from . import sweep as sweep_mod
    from .layout import LayoutError

    f = load_layout(layout)
    specs: dict[str, str] = {}
    for p in param:
        if "=" not in p:
            raise _user_error(f"--param {p!r}: expected PATH=RANGE, e.g. stations.saw.servers=1:3:1")
        k, v = p.split("=", 1)
        specs[k.strip()] = v.strip()
    try:
        points = design(specs, method, n, seed)
    except SweepSpecError as exc:
        raise _user_error(str(exc)) from None
    executor = executor_for(cluster, f)
    from rich.progress import Progress

    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"sweeping {len(points)} points", total=len(points))
            df = sweep_mod.sweep(
                f, points, kpis=kpi, replications=replications, executor=executor,
                progress=lambda d, t: bar.update(task, completed=d),
            )
    except LayoutError as exc:
        raise _user_error("a sweep point is not a valid layout:\n" + str(exc)) from None
    except sweep_mod.SweepError as exc:
        raise _user_error(str(exc)) from None
    finally:
        if executor is not None:
            executor.close()
    outdir = out or Path("results") / f.name
    outdir.mkdir(parents=True, exist_ok=True)
    df.to_csv(outdir / "sweep.csv", index=False)
    df.to_parquet(outdir / "sweep.parquet", index=False)
    kpis = kpi or list(sweep_mod.DEFAULT_KPIS)
    sweep_mod.plot(df, list(specs), kpis[0], outdir / "sweep.png")
    table = Table(title=f"sweep of {f.name}: {len(points)} points")
    for c in [*specs, kpis[0], "95 % CI"]:
        table.add_column(escape(c))
    for _, row in df.head(30).iterrows():
        ok = not isinstance(row["error"], str)  # pandas may hold None or NaN for "no error"
        lo, hi, value = row[kpis[0] + ".ci_low"], row[kpis[0] + ".ci_high"], row[kpis[0]]
        number = ok and value is not None and value == value
        ci = (f"[{lo:.4g}, {hi:.4g}]" if number and lo == lo and hi == hi else "-") if ok else escape(row["error"])
        table.add_row(*(escape(str(row[c])) for c in specs), f"{value:.4g}" if number else "-", ci)
    failed = int(df["error"].map(lambda e: isinstance(e, str)).sum())
    console.print(table)
    if failed:
        console.print(f"{failed} of {len(df)} points failed (their error is in the table and the CSV)")
    console.print(f"wrote {outdir / 'sweep.csv'}, sweep.parquet and sweep.png")


@app.command()
def recommend(
    layout: Path = typer.Argument(..., help="Layout YAML (with physics, a study: section, …)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default results/<name>/)."),
    orders: Path | None = typer.Option(None, "--orders", help="Order book (CSV/YAML) to schedule on the line."),
    replications: int | None = typer.Option(None, "--replications", "-n", min=2, help="Baseline replications."),
    trials: int | None = typer.Option(None, "--trials", min=1, help="Override the study's trial budget."),
    cluster: str | None = typer.Option(
        None, "--cluster", envvar="VFACTORY_CLUSTER", help="Where work runs: local[:N], ray, ray://HOST:10001, dask, tcp://HOST:8786; default: factory.cluster, else in this process"
    ),
) -> None:
    """The main job: physics → baseline simulation → optimisation → schedule → report.

    Writes results/<name>/: results.json (versioned schema), report.html (open it in a browser),
    study.db (vfactory dashboard LAYOUT) and fields/*.xdmf (open in ParaView).
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from . import pipeline
    from .layout import LayoutError

    f = load_layout(layout)  # user mistakes: located messages and exit code 2 before anything runs
    executor = executor_for(cluster, f)
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, fraction: float) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=1.0)
                bar.update(tasks[stage], completed=fraction)

            results = pipeline.run(
                layout, out, executor=executor, replications=replications, trials=trials,
                orders=orders, progress=progress,
            )
    except (LayoutError, ValueError) as exc:
        raise _user_error(str(exc)) from None
    finally:
        if executor is not None:
            executor.close()
    workdir = out or Path("results") / results["layout"]["name"]
    _print_summary(results, workdir)


def _print_summary(results: dict, workdir: Path) -> None:
    base = results["baseline"]
    k = base["kpis"]
    console.print(
        f"baseline: {k['throughput_per_hour']['mean']:.4g} parts/h, lead time {k['lead_time.mean']['mean']:.4g} "
        f"{base['time_unit']}, energy {k['energy_per_good_part_kwh']['mean']:.4g} kWh/part, bottleneck {base['bottleneck']}",
        highlight=False,
    )
    opt = results.get("optimization")
    if opt:
        from .optimize.commands import print_recommendation

        print_recommendation(console, opt)
    console.print(f"wrote {workdir}/results.json and {workdir}/{results['artifacts'].get('report', '')}", highlight=False)


def executor_for(option: str | None, factory, physics_in_tasks: bool = True):
    """The executor for a command: --cluster / VFACTORY_CLUSTER, else the layout's factory.cluster,
    else None (run in this process). 'inline' also means this process. ``physics_in_tasks``: the
    tasks solve the layout's physics (sweeps, studies), so workers are prepared for it."""
    spec = option or factory.factory.cluster
    if not spec or spec == "inline":
        return None
    return _executor(spec, factory if physics_in_tasks else None)


def _executor(spec: str, factory=None):
    try:
        from .execution import open_executor
    except ImportError as exc:  # pragma: no cover - the cluster package ships with vfactory
        raise _user_error(f"cluster backends unavailable: {exc}") from None
    try:
        return open_executor(spec, factory)
    except ValueError as exc:
        raise _user_error(str(exc)) from None


def _register_subcommands() -> None:
    """Commands that live beside the code they drive (each module adds its own)."""
    from cluster.cli import register as register_cluster

    from .api.commands import register as register_api
    from .calibrate.commands import register as register_calibrate
    from .optimize.commands import register as register_optimize
    from .physics.commands import register as register_physics
    from .schedule.commands import register as register_schedule

    for register in (
        register_physics,
        register_optimize,
        register_schedule,
        register_calibrate,
        register_cluster,
        register_api,
    ):
        register(app)


_register_subcommands()


# Failures that are the user's input or environment, not a bug: a message and exit code 2.
_USER_FAILURES = (ValueError, LookupError, OSError, UnicodeError, RecursionError, TimeoutError)
# The same, as a remote task reports them (by type name: the classes live in the worker).
_REMOTE_USER_FAILURES = {
    "ValueError", "PhysicsError", "ParameterError", "LayoutError", "ExpressionError",
    "TimeoutError", "KeyError", "FileNotFoundError",
}


def main() -> None:
    """Entry point: no Python traceback for what a user can fix (VFACTORY_DEBUG=1 shows it)."""
    import os

    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False, markup=False)
        sys.exit(130)
    except TaskFailed as exc:  # a task on a worker failed: its own error, not the transport's
        if os.environ.get("VFACTORY_DEBUG"):
            raise
        err = exc.result.error
        assert err is not None
        if err.kind == "exception" and err.type in _REMOTE_USER_FAILURES:
            err_console.print(f"error: {err.type}: {err.message}", highlight=False, markup=False, soft_wrap=True)
            sys.exit(EXIT_USER_ERROR)
        err_console.print(
            f"internal error: a task failed on a worker ({err.kind}): {err}\n"
            "(run again with VFACTORY_DEBUG=1 for the remote traceback, and report it)",
            highlight=False, markup=False, soft_wrap=True,
        )
        sys.exit(1)
    except _USER_FAILURES as exc:
        if os.environ.get("VFACTORY_DEBUG"):
            raise
        what = "the input nests too deeply" if isinstance(exc, RecursionError) else str(exc) or type(exc).__name__
        err_console.print(f"error: {type(exc).__name__}: {what}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(EXIT_USER_ERROR)
    except Exception as exc:  # a bug: say so briefly; the traceback is one variable away
        if os.environ.get("VFACTORY_DEBUG"):
            raise
        err_console.print(
            f"internal error: {type(exc).__name__}: {exc}\n(run again with VFACTORY_DEBUG=1 for the traceback, "
            "and report it)", highlight=False, markup=False, soft_wrap=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
