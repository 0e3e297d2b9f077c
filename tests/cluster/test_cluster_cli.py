"""`vfactory cluster-check` through Typer's test runner, on the real local pool."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from cluster.cli import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")  # a second command, so Typer keeps command names
    def noop() -> None:
        pass

    return app


def test_cluster_check_on_the_local_pool():
    result = CliRunner().invoke(_app(), ["cluster-check", "local:2", "--tasks", "4"])
    assert result.exit_code == 0, result.output
    assert "OK: 4 results bitwise identical" in result.output


def test_cluster_check_bad_spec_is_a_clear_error_without_traceback():
    result = CliRunner().invoke(_app(), ["cluster-check", "spark://x:7077"])
    assert result.exit_code == 2
    assert "unknown cluster spec 'spark://x:7077'" in result.output
    assert "Traceback" not in result.output
