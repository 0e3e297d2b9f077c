"""The data folder: `vfactory serve` and `vfactory worker` create it (a worker started before the
server is tested in test_time_limit.py); a path that cannot be a folder is a one-line error,
exit 2."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from vfactory.api.commands import register


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_a_data_folder_that_cannot_be_created_is_a_user_error(tmp_path, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = typer.Typer()
    register(app)
    res = CliRunner().invoke(app, [command, "--data-dir", str(blocker / "data")])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot create the data folder"), lines
    assert str(blocker / "data") in lines[0]
    assert "Traceback" not in res.output and "OperationalError" not in res.output
