"""``vfactory schedule``: plan a production schedule and write JSON, CSV and Gantt charts.

``register(app)`` adds the command to the project's Typer app.  :func:`load_problem` and
:func:`write_outputs` are the reusable halves: a layout-based caller passes its own routing table
(``routing=``) built from the line's stations.  Given a line layout (detected by its content) and
orders, the command plans on the layout's machines and replays the plan in the line simulation
(:mod:`.replay`): realised vs planned KPIs, compared with online dispatching.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
import yaml

from vfactory.schedule.checker import check
from vfactory.schedule.gantt import gantt_html, gantt_png
from vfactory.schedule.instances import read_instance
from vfactory.schedule.model import SolverUnavailableError
from vfactory.schedule.planner import plan
from vfactory.schedule.problem import (
    Problem,
    ProblemError,
    Routing,
    SetupTable,
    problem_from_orders,
    read_orders,
    read_problem_yaml,
)
from vfactory.schedule.solution import Schedule


def load_problem(
    source: str | Path | None,
    orders: str | Path | None = None,
    *,
    routing: Routing | None = None,
    setups: SetupTable | None = None,
    name: str = "",
) -> Problem:
    """Build a problem from one of:

    * ``routing`` (e.g. from a layout) + an ``orders`` file — ``source`` is then only a name;
    * a problem YAML (``routing``, ``setups``, ``orders`` — or orders from ``orders``);
    * a JSP / FJSP benchmark instance file (``orders`` not allowed).
    """
    if routing is not None:
        if orders is None:
            raise ProblemError("a routing table needs an orders file (--orders)")
        return problem_from_orders(
            read_orders(orders), routing, setups, name=name or (Path(source).stem if source else "orders")
        )
    if source is None:
        raise ProblemError("give an instance file or a problem YAML")
    path = Path(source)
    if not path.is_file():
        raise ProblemError(f"{path}: file not found")
    if path.suffix.lower() in (".yaml", ".yml"):
        return read_problem_yaml(path, orders)
    if orders is not None:
        raise ProblemError(
            f"{path}: --orders applies to a problem YAML (with a routing), not to a benchmark instance"
        )
    return read_instance(path)


def write_outputs(schedule: Schedule, out: str | Path, stem: str = "schedule") -> dict[str, Path]:
    """Write ``<stem>.json``, ``.csv``, ``_gantt.png`` and ``_gantt.html`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "json": out / f"{stem}.json",
        "csv": out / f"{stem}.csv",
        "png": out / f"{stem}_gantt.png",
        "html": out / f"{stem}_gantt.html",
    }
    schedule.to_json(files["json"])
    schedule.to_csv(files["csv"])
    gantt_png(schedule, files["png"])
    gantt_html(schedule, files["html"])
    return files


def is_layout(path: str | Path) -> bool:
    """True for a line layout YAML (top-level ``factory`` and ``stations``), not a problem YAML."""
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        return False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return False  # the problem-YAML reader reports the syntax error with its line
    return isinstance(data, dict) and "factory" in data and "stations" in data


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


def _load_layout(path: Path):
    """The validated layout, physics bindings resolved; user mistakes end with exit code 2."""
    from vfactory.layout import LayoutError, load

    try:
        factory = load(path)
    except LayoutError as exc:
        raise _fail(f"{path}: {len(exc.issues)} problem(s) in the layout\n{exc}") from None
    if factory.physics or factory.bindings:  # bound process times come from the physics
        from vfactory.physics import PhysicsError, resolve

        try:
            factory = resolve(factory).factory
        except (PhysicsError, ValueError, TimeoutError) as exc:
            raise _fail(f"{path}: {exc}") from None
    return factory


def _schedule_layout(
    source: Path,
    orders: Path | None,
    objective: str,
    time_limit: float,
    method: str,
    out: Path | None,
    replications: int | None,
    seed: int | None,
    rule: str | None,
    hold_to_plan: bool,
    shifts: bool = False,
) -> None:
    """Plan orders on a layout's machines, replay the plan, write everything into ``out``."""
    from vfactory.schedule.from_layout import problem_from_layout
    from vfactory.schedule.replay import replay

    if orders is None:
        raise _fail(f"{source} is a line layout: give the orders to plan with --orders FILE")
    factory = _load_layout(source)
    try:
        problem = problem_from_layout(factory, orders)
        schedule = plan(problem, objective=objective, time_limit=time_limit, method=method)
    except (ProblemError, SolverUnavailableError, ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    violations = check(problem, schedule)
    out = Path("results") / factory.name / "schedule" if out is None else out
    files = write_outputs(schedule, out, stem="schedule")
    typer.echo(
        f"{factory.name}: {len(problem.jobs)} orders, {len(problem.machines)} machines on "
        f"{len(factory.stations)} stations, {problem.n_operations} operations, time unit "
        f"{factory.time_unit}"
    )
    typer.echo(schedule.summary())
    for note in schedule.notes:
        typer.echo(f"  {note}")
    if violations:
        typer.secho(f"checker found {len(violations)} violation(s): {violations[:3]}", fg="red", err=True)
        raise typer.Exit(code=1)
    typer.echo("checker: feasible")
    n = factory.factory.replications if replications is None else replications
    if n > 0:
        try:
            result = replay(factory, problem, schedule, replications=n, seed=seed, rule=rule,
                            hold_to_plan=hold_to_plan, shifts=shifts)
        except (ProblemError, ValueError) as exc:
            raise _fail(str(exc)) from None
        typer.echo(result.table())
        files["replay"] = out / "replay.json"
        data = result.to_dict()
        data["operations_replication_0"] = result.operations(0)
        files["replay"].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    for kind, path in files.items():
        typer.echo(f"  {kind:6s} {path}")


def register(app: typer.Typer) -> None:
    """Add the ``schedule`` command to ``app``."""

    @app.command("schedule")
    def schedule_command(
        source: Path = typer.Argument(
            ...,
            help="Line layout YAML (with --orders: plan on its stations and replay in the line "
            "simulation), JSP/FJSP instance file (OR-Library .txt, FJSPLIB .fjs) or problem YAML "
            "(routing + setups + orders).",
            show_default=False,
        ),
        orders: Path | None = typer.Option(
            None, "--orders", help="Orders file, CSV or YAML: product, quantity, release, due, weight."
        ),
        objective: str = typer.Option(
            "makespan",
            "--objective",
            help="makespan | tardiness (total weighted) | weighted_sum[:w_makespan,w_tardiness].",
        ),
        time_limit: float = typer.Option(30.0, "--time-limit", help="Seconds for the whole solve."),
        method: str = typer.Option(
            "milp",
            "--method",
            help="milp (heuristic warm start + Pyomo/HiGHS) | heuristic | dispatch[:FIFO|SPT|EDD|CR|ATC|MWKR].",
        ),
        out: Path | None = typer.Option(
            None,
            "--out",
            help="Output folder (default: results/<factory name>/schedule for a layout, "
            "schedule_out otherwise).",
            show_default=False,
        ),
        replications: int | None = typer.Option(
            None,
            "--replications",
            "-n",
            min=0,
            help="Layout only: replications of the replay in the line simulation "
            "(default: factory.replications; 0: no replay).",
            show_default=False,
        ),
        seed: int | None = typer.Option(
            None, "--seed", min=0, help="Layout only: base seed of the replay (default: factory.seed).",
            show_default=False,
        ),
        rule: str | None = typer.Option(
            None,
            "--rule",
            help="Layout only: online dispatching rule of the baseline, FIFO|SPT|EDD|CR|ATC|MWKR "
            "(default: MWKR for makespan, ATC for tardiness).",
            show_default=False,
        ),
        hold_to_plan: bool = typer.Option(
            False,
            "--hold-to-plan",
            help="Layout only: in the replay, never start an operation before its planned start.",
        ),
        shifts: bool = typer.Option(
            False,
            "--shifts",
            help="Layout only: the replay follows the layout's shift calendar (the plan ignores "
            "it, so time 0 is the calendar's start).",
        ),
    ) -> None:
        """Plan a production schedule; print a summary; write JSON, CSV and Gantt (PNG, HTML).

        With a line layout and --orders, the plan uses the layout's machines (each server of a station), mean process and setup times; it is then replayed over N replications with random times and breakdowns (right-shift), beside online dispatching under common random numbers; replay.json holds the 95 % confidence intervals.

        Example:  vfactory schedule examples/machining_assembly/line.yaml --orders examples/machining_assembly/orders.csv --objective tardiness -n 20
        """
        if is_layout(source):
            _schedule_layout(source, orders, objective, time_limit, method, out, replications,
                             seed, rule, hold_to_plan, shifts)
            return
        if replications is not None or seed is not None or rule is not None or hold_to_plan or shifts:
            raise _fail(
                "--replications, --seed, --rule, --hold-to-plan and --shifts apply to a line "
                "layout only"
            )
        out = Path("schedule_out") if out is None else out
        try:
            problem = load_problem(source, orders)
            schedule = plan(problem, objective=objective, time_limit=time_limit, method=method)
        except (ProblemError, SolverUnavailableError, ValueError, FileNotFoundError) as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=2) from None
        violations = check(problem, schedule)
        files = write_outputs(schedule, out, stem=problem.name or "schedule")
        typer.echo(
            f"{problem.name}: {len(problem.jobs)} jobs, {len(problem.machines)} machines, "
            f"{problem.n_operations} operations"
        )
        typer.echo(schedule.summary())
        for note in schedule.notes:
            typer.echo(f"  {note}")
        if violations:  # never expected; said loudly rather than hidden
            typer.secho(f"checker found {len(violations)} violation(s): {violations[:3]}", fg="red", err=True)
            raise typer.Exit(code=1)
        typer.echo("checker: feasible")
        for kind, path in files.items():
            typer.echo(f"  {kind:4s} {path}")
