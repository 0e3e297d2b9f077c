"""The `vfactory solve` / `vfactory solvers` commands (built with register on a fresh app)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from vfactory.physics.commands import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_solve_command_runs_then_hits_the_cache(tmp_path):
    params = tmp_path / "wall.yaml"
    params.write_text(
        "wall_thickness_m: 0.002\nthermal_diffusivity_m2_s: 1.0e-7\n"
        "melt_temperature_c: 240\nmould_temperature_c: 50\n"
        "ejection_temperature_c: 90\n"
    )
    args = ["solve", "mould_cooling", str(params), "--cache-dir", str(tmp_path / "c"), "--json"]
    first = CliRunner().invoke(_app(), args)
    assert first.exit_code == 0, first.output
    r1 = json.loads(first.output)
    assert abs(r1["cooling_time_mean_s"] - 5.46) / 5.46 < 0.01 and r1["cached"] is False
    second = CliRunner().invoke(_app(), args)
    assert json.loads(second.output)["cached"] is True


def test_solve_command_reports_bad_parameters_without_traceback(tmp_path):
    params = tmp_path / "bad.yaml"
    params.write_text("wall_thickness_m: -1\n")
    res = CliRunner().invoke(_app(), ["solve", "mould_cooling", str(params), "--no-cache"])
    assert res.exit_code == 2
    assert "bad.yaml" in res.output and "wall_thickness_m" in res.output
    assert "Traceback" not in res.output
    listing = CliRunner().invoke(_app(), ["solvers"])
    assert "heat_treatment" in listing.output and "pa6" in listing.output
