"""The ``schedule`` command through Typer's runner: outputs written, errors without tracebacks."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from vfactory.schedule.checker import check
from vfactory.schedule.commands import register
from vfactory.schedule.instances import read_instance
from vfactory.schedule.solution import Schedule


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:  # a callback keeps 'schedule' a named sub-command
        pass

    return app


def test_schedule_instance_writes_json_csv_png_html(jsp_dir, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(
        make_app(), ["schedule", str(jsp_dir / "ft06.txt"), "--time-limit", "20", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "optimal" in res.output and "makespan = 55" in res.output
    data = json.loads((out / "ft06.json").read_text())
    s = Schedule.from_dict(data)
    assert s.makespan == 55 and s.status == "optimal"
    assert check(read_instance(jsp_dir / "ft06.txt"), s) == []
    assert len(data["sequences"]) == 6 and sum(len(v) for v in data["sequences"].values()) == 36
    rows = (out / "ft06.csv").read_text().splitlines()
    assert rows[0] == "job,op,product,machine,start,end,duration" and len(rows) == 37
    assert (out / "ft06_gantt.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "ft06_gantt.html").read_text()
    assert "<svg" in page and page.count("<rect") == 36
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page


def test_schedule_problem_yaml_with_orders_file(tmp_path):
    (tmp_path / "shop.yaml").write_text(
        "routing:\n  a: [[[m1, 2]], [[m2, 1]]]\n  b: [[[m2, 2]], [[m1, 3]]]\n"
    )
    (tmp_path / "orders.csv").write_text("product,quantity,due\na,1,3\nb,2,4\n")
    res = CliRunner().invoke(
        make_app(),
        ["schedule", str(tmp_path / "shop.yaml"), "--orders", str(tmp_path / "orders.csv"),
         "--objective", "tardiness", "--time-limit", "5", "--out", str(tmp_path / "o")],
    )
    assert res.exit_code == 0, res.output
    assert "checker: feasible" in res.output
    assert (tmp_path / "o" / "shop.json").is_file()


def test_bad_orders_file_is_a_clear_error_without_traceback(tmp_path):
    (tmp_path / "shop.yaml").write_text("routing:\n  a: [[[m1, 2]]]\n")
    (tmp_path / "orders.csv").write_text("product,quantity\na,1\na,lots\n")
    res = CliRunner().invoke(
        make_app(), ["schedule", str(tmp_path / "shop.yaml"), "--orders", str(tmp_path / "orders.csv")]
    )
    assert res.exit_code == 2
    assert "orders.csv:3: field 'quantity': expected a number, found 'lots'" in res.output
    assert "Traceback" not in res.output


def test_unknown_method_and_missing_file(tmp_path, jsp_dir):
    res = CliRunner().invoke(make_app(), ["schedule", str(tmp_path / "none.txt")])
    assert res.exit_code == 2 and "file not found" in res.output
    res = CliRunner().invoke(make_app(), ["schedule", str(jsp_dir / "ft06.txt"), "--method", "magic"])
    assert res.exit_code == 2 and "unknown method 'magic'" in res.output
