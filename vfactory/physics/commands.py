"""CLI commands of the process physics: ``vfactory physics LAYOUT`` (the layout's bound solves),
``vfactory solve SOLVER PARAMS`` (one solver run) and ``vfactory solvers``.

Solver-free at import (no dolfinx): solves run in spawned workers through the result cache.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def _load_params(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text()
    except OSError as exc:
        raise typer.BadParameter(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise typer.BadParameter(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'} ({exc})"
        ) from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path}: expected a mapping of parameters at the top level")
    return data


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _echo_err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def run_physics(
    layout: Path,
    xdmf: Path | None,
    cache: bool,
    cache_dir: Path | None,
    json_out: Path | None,
    timeout: float | None = None,
) -> None:
    """The ``vfactory physics`` command (module level so that it can be tested and reused)."""
    from solvers.worker import WorkerError
    from vfactory.layout import LayoutError, load
    from vfactory.physics.binding import PhysicsError, resolve, writes_fields

    try:
        factory = load(layout)
    except LayoutError as exc:
        n = len(exc.issues)
        typer.echo(f"{layout}: {n} problem{'s' if n != 1 else ''} in the layout", err=True)
        for issue in exc.issues:
            typer.echo(str(issue), err=True)
        raise typer.Exit(2) from None
    if not factory.physics and not factory.bindings:
        typer.echo(f"{layout}: no physics or bindings in this layout; nothing to solve")
        return
    try:
        res = resolve(factory, cache_dir=cache_dir, use_cache=cache, xdmf_dir=xdmf, timeout=timeout)
    except (PhysicsError, ValueError, TimeoutError) as exc:
        _echo_err(f"{layout}: {exc}")
        raise typer.Exit(2) from None
    except WorkerError as exc:  # a solver bug, not a user mistake: say so, keep the details
        _echo_err(f"{layout}: {exc}")
        raise typer.Exit(1) from None
    report = {"layout": str(layout), **res.to_dict()}
    for name, solve in report["solves"].items():
        origin = "from cache" if solve["cached"] else f"solved in {solve['seconds']:.1f} s"
        typer.echo(f"{name}: {solve['solver']} {solve['version']}  ({origin})")
        for key, value in solve["outputs"].items():
            if not isinstance(value, dict | list):  # time series are in --json only
                typer.echo(f"  {key:28s} {_fmt(value)}")
        if solve["xdmf"]:
            typer.echo(f"  {'field (XDMF)':28s} {solve['xdmf']}")
        elif xdmf is not None and not writes_fields(solve["solver"]):
            typer.echo(f"  ({solve['solver']} writes no field file)")
    if report["bindings"]:
        typer.echo(f"bindings (time unit of the line: {factory.time_unit}):")
    for path, b in report["bindings"].items():
        unit = f" {b['unit']}" if b["unit"] else ""
        typer.echo(f"  {path} = {b['value']:.6g}{unit}   <- {b['expression']}")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, indent=2, default=str) + "\n")
        typer.echo(f"wrote {json_out}")


def register(app: typer.Typer) -> None:
    """Add the ``physics``, ``solve`` and ``solvers`` commands to ``app``."""

    @app.command("physics")
    def physics(
        layout: Path = typer.Argument(..., help="Layout YAML file with physics and bindings."),
        xdmf: Path | None = typer.Option(
            None,
            "--xdmf",
            help="Write each solve's field to DIR/<solve>.xdmf (open in ParaView).",
            metavar="DIR",
        ),
        cache: bool = typer.Option(
            True, "--cache/--no-cache", help="Reuse cached results of identical solves."
        ),
        cache_dir: Path | None = typer.Option(
            None,
            help="Result cache directory (default $VFACTORY_CACHE_DIR or ~/.cache/vfactory/physics).",
        ),
        json_out: Path | None = typer.Option(
            None, "--json", help="Also write the solves and bound values to this JSON file."
        ),
        timeout: float | None = typer.Option(
            None, min=0, help="Give up on a solve after this many seconds."
        ),
    ) -> None:
        """Run the layout's physics solves and print their outputs and the values they bind.

        Each solve says whether it came from the result cache.

        Bound values are shown in the unit of the field they replace (times: the line's unit).

        Example:  vfactory physics examples/heat_treatment/line.yaml --xdmf fields/
        """
        run_physics(layout, xdmf, cache, cache_dir, json_out, timeout)

    @app.command("solvers")
    def list_solvers() -> None:
        """List the process solvers (name, version) and the materials table."""
        import solvers
        from solvers.materials import MATERIALS

        for name, s in sorted(solvers.SOLVERS.items()):
            typer.echo(f"{name}  (version {s.version})")
        typer.echo("materials: " + ", ".join(sorted(MATERIALS)))

    @app.command("solve")
    def solve(
        solver: str = typer.Argument(
            ..., help="Solver name, e.g. heat_treatment (see `vfactory solvers`)."
        ),
        params_file: Path = typer.Argument(..., help="YAML or JSON file of solver parameters."),
        xdmf: Path | None = typer.Option(
            None, help="Write the field to this .xdmf file (ParaView)."
        ),
        cache: bool = typer.Option(True, help="Reuse a cached result for identical parameters."),
        cache_dir: Path | None = typer.Option(
            None,
            help="Result cache directory "
            "(default $VFACTORY_CACHE_DIR or "
            "~/.cache/vfactory/physics).",
        ),
        timeout: float | None = typer.Option(None, help="Give up after this many seconds."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Run one solver on a parameter file in a worker process and print its outputs."""
        import solvers
        from solvers.params import ParameterError
        from solvers.worker import solve_in_subprocess
        from vfactory.physics.cache import cached_solve

        params = _load_params(params_file)
        if xdmf is not None:
            params["xdmf"] = str(xdmf)
        try:
            solvers.get(solver).validate(params)

            def runner(name: str, p: dict[str, Any]) -> dict[str, Any]:
                return solve_in_subprocess(name, p, timeout=timeout)

            if cache:
                result = cached_solve(solver, params, cache_dir=cache_dir, runner=runner)
            else:
                result = {**runner(solver, params), "cached": False}
        except (ParameterError, ValueError, TimeoutError) as exc:
            typer.echo(f"error: {params_file}: {exc}", err=True)
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(json.dumps(result, indent=2))
            return
        for key, value in result.items():
            if key in ("series", "cache_key"):
                continue
            typer.echo(
                f"{key:28s} {value:.6g}" if isinstance(value, float) else f"{key:28s} {value}"
            )
