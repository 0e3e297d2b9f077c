"""``python -m vfactory.api …``: the job-API commands on their own (serve, worker, token, …)."""

import typer

from .commands import register

app = typer.Typer(
    help="vfactory job API: service, workers, tokens and client commands.", no_args_is_help=True
)
register(app)

if __name__ == "__main__":
    app()
