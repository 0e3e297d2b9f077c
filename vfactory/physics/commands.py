"""CLI commands for single solver runs: ``vfactory solve SOLVER PARAMS`` and ``vfactory solvers``.

Solver-free at import (no dolfinx): the solve runs in a spawned worker through the result cache.
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


def register(app: typer.Typer) -> None:
    """Add the ``solve`` and ``solvers`` commands to ``app``."""

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
