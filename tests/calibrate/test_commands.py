"""``vfactory calibrate`` through its ``register`` function and typer's CliRunner."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from vfactory import layout
from vfactory.calibrate.commands import register


def app() -> typer.Typer:
    a = typer.Typer()
    register(a)

    @a.callback()
    def main() -> None:  # a group, as in the real CLI
        pass

    return a


def test_calibrate_writes_layout_and_report(tmp_path, scenario_log, dascen_mapping):
    out = tmp_path / "line.yaml"
    rep = tmp_path / "report"
    r = CliRunner().invoke(
        app(),
        [
            "calibrate",
            str(scenario_log("01")),
            "-m",
            str(dascen_mapping),
            "-o",
            str(out),
            "--report",
            str(rep),
        ],
    )
    assert r.exit_code == 0, r.output
    f = layout.load(out)
    assert "WS-03" in f.stations
    assert "outside_run" in r.output and "lead_time.mean" in r.output
    quality = json.loads((rep / "quality.json").read_text())
    assert quality["rules"]["out_of_order"]["count"] > 0
    twin = json.loads((rep / "twin.json").read_text())
    assert {row["kpi"] for row in twin["rows"]} >= {"throughput", "lead_time.mean"}
    assert (rep / "report.md").exists() and (rep / "plots" / "wip.png").stat().st_size > 0
    assert any(p.name.startswith("process_WS-03") for p in (rep / "plots").iterdir())


def test_column_options_instead_of_a_mapping(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(
        "id,prod,loc,ev,ts\n"
        "a,P,M1,enter,2025-01-07T09:00:00+00:00\na,P,M1,leave,2025-01-07T09:02:00+00:00\n"
        "b,P,M1,enter,2025-01-07T09:03:00+00:00\nb,P,M1,leave,2025-01-07T09:04:00+00:00\n"
    )
    out = tmp_path / "line.yaml"
    r = CliRunner().invoke(
        app(),
        [
            "calibrate",
            str(log),
            "-o",
            str(out),
            "--case-column",
            "id",
            "--product-column",
            "prod",
            "--location-column",
            "loc",
            "--event-column",
            "ev",
            "--time-column",
            "ts",
            "--station",
            "M*",
        ],
    )
    assert r.exit_code == 0, r.output
    f = layout.load(out)
    assert f.products["P"].arrival.times == (0.0, 3.0)
    assert f.stations["M1"].process_time["P"].values == (2.0, 1.0)


def test_user_errors_exit_2_without_traceback(tmp_path, dascen_mapping):
    bad = tmp_path / "bad.csv"
    bad.write_text("fauf,materialnummer\nPO-01,Car-01\n")
    r = CliRunner().invoke(
        app(), ["calibrate", str(bad), "-m", str(dascen_mapping), "-o", str(tmp_path / "x.yaml")]
    )
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert "'zustand'" in r.output  # the first mapped column the log lacks is named
    assert "[red]" not in r.output
    r = CliRunner().invoke(app(), ["calibrate", str(bad), "-o", str(tmp_path / "x.yaml")])
    assert r.exit_code == 2 and "--mapping" in r.output
