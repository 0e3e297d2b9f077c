"""Command-line pieces of the cluster package: ``vfactory cluster-check`` and the shared
``--cluster`` option that every fan-out command (simulate, sweep, optimize) uses."""

from __future__ import annotations

from typing import Any

import typer

CLUSTER_HELP = (
    "Where tasks run: local, local:N, ray, ray:auto, ray://HOST:10001, dask or "
    "tcp://HOST:8786 (default: $VFACTORY_CLUSTER, else local)."
)


def cluster_option() -> Any:
    """The ``--cluster`` option, read from ``$VFACTORY_CLUSTER`` when not given."""
    return typer.Option(None, "--cluster", envvar="VFACTORY_CLUSTER", help=CLUSTER_HELP)


def register(app: typer.Typer) -> None:
    """Add ``cluster-check`` to the vfactory CLI."""

    @app.command("cluster-check")
    def cluster_check(
        spec: str = typer.Argument(None, help=CLUSTER_HELP, show_default=False),
        tasks: int = typer.Option(16, "--tasks", min=1, help="Number of probe tasks."),
    ) -> None:
        """Run seeded probe tasks on a backend and compare them bit for bit with this
        machine: the first thing to run against a new cluster."""
        from cluster import ClusterSpecError
        from cluster.probe import check

        try:
            code = check(spec, n_tasks=tasks)
        except ClusterSpecError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        raise typer.Exit(code)
