"""``vfactory schedule``: plan a production schedule and write JSON, CSV and Gantt charts.

``register(app)`` adds the command to the project's Typer app.  :func:`load_problem` and
:func:`write_outputs` are the reusable halves: a layout-based caller passes its own routing table
(``routing=``) built from the line's stations.
"""

from __future__ import annotations

from pathlib import Path

import typer

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


def register(app: typer.Typer) -> None:
    """Add the ``schedule`` command to ``app``."""

    @app.command("schedule")
    def schedule_command(
        source: Path = typer.Argument(
            ...,
            help="JSP/FJSP instance file (OR-Library .txt, FJSPLIB .fjs) or problem YAML "
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
        out: Path = typer.Option(Path("schedule_out"), "--out", help="Output folder."),
    ) -> None:
        """Plan a production schedule; print a summary; write JSON, CSV and Gantt (PNG, HTML)."""
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
