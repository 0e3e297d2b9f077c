"""A results folder can be moved (copied, downloaded): results.json names its files relative to
itself, and the report, the path helpers and `vfactory dashboard <dir>/study.db` still find them."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import optuna
from heat_run import REPO

from vfactory.report import render_report, validate
from vfactory.report.paths import relative_paths, resolve, storage_url


def _strings(node) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dashboard_studies(target: str, cwd: Path) -> list[str]:
    """Study names that `vfactory dashboard TARGET` (run in ``cwd``) serves."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vfactory.cli", "dashboard", target, "--port", str(port)],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/studies", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        assert r.status_code == 200
        return [s["study_name"] for s in r.json()["study_summaries"]]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_moved_results_folder_still_finds_its_files(heat_run, tmp_path):
    old = heat_run.workdir
    run_root = old.parent  # the run's temporary root: also holds the physics cache and orders
    new = tmp_path / "moved" / "copy"
    new.parent.mkdir()
    shutil.move(old, new)  # the other tests share this run: it goes back below
    try:
        r = json.loads((new / "results.json").read_text())
        strings = list(_strings(r))
        assert not [s for s in strings if str(run_root) in s or str(run_root.resolve()) in s]
        assert not [s for s in strings if s.startswith("/") or s.startswith("sqlite:////")]
        assert validate(r) == []  # the schema itself refuses absolute paths where files are named

        solves = r["physics"]["solves"]
        for name, solve in solves.items():
            assert solve["xdmf"] == solve["params"]["xdmf"] == f"fields/{name}.xdmf"
            field = Path(resolve(solve["xdmf"], new / "results.json"))
            assert field.is_file() and field.with_suffix(".h5").is_file()  # ParaView needs both
            assert new in field.parents
        named = r["artifacts"]["files"] + r["optimization"]["plots"] + r["schedule"]["files"]
        for f in named + [r["artifacts"]["report"]]:
            assert Path(resolve(f, new)).is_file(), f

        opt = r["optimization"]
        assert opt["storage"] == "study.db"
        url = storage_url(opt["storage"], new / "results.json")
        assert url == f"sqlite:///{(new / 'study.db').resolve()}"
        study = optuna.load_study(study_name=opt["study"], storage=url)
        assert len(study.trials) == len(opt["history"])

        # the report written by the run, and one rendered again from the moved copy, name only
        # relative paths, and every link of theirs lands on a file of the moved folder
        for html in ((new / "report.html").read_text(), render_report(r, new)):
            assert str(run_root) not in html and str(run_root.resolve()) not in html
            assert "vfactory dashboard study.db" in html
            assert "optuna-dashboard sqlite:///study.db" in html
            links = re.findall(r'href="([^"#][^"]*)"', html)
            assert "fields/furnace.xdmf" in links
            for href in links:
                assert (new / href).is_file(), href

        # what the report tells the user to type, from another folder
        assert _dashboard_studies(str(new / "study.db"), cwd=tmp_path) == [opt["study"]]
    finally:
        shutil.move(new, old)


def test_relative_paths_leave_other_text_alone(tmp_path):
    results_dir, layout_dir = tmp_path / "out", tmp_path / "line"
    data = {
        "xdmf": str(results_dir / "fields" / "a.xdmf"),
        "url": f"sqlite:///{results_dir / 'study.db'}",
        "mesh": {"file": str(layout_dir / "meshes" / "part.msh")},
        "elsewhere": "/srv/studies/shared.db",
        "pg": "postgresql+psycopg://u@h/db",
        "expression": "120 * (t - 20) / 830",
        "list": [str(results_dir / "plots" / "p.png"), 3.5, None],
    }
    assert relative_paths(data, results_dir, layout_dir) == {
        "xdmf": "fields/a.xdmf",
        "url": "study.db",
        "mesh": {"file": "meshes/part.msh"},  # as the layout names it, beside the layout
        "elsewhere": "/srv/studies/shared.db",
        "pg": "postgresql+psycopg://u@h/db",
        "expression": "120 * (t - 20) / 830",
        "list": ["plots/p.png", 3.5, None],
    }
    assert resolve("/srv/studies/shared.db", results_dir) == "/srv/studies/shared.db"
    assert storage_url("postgresql+psycopg://u@h/db", results_dir) == "postgresql+psycopg://u@h/db"
    assert resolve("fields/a.xdmf", REPO / "x" / "results.json") == str(REPO / "x/fields/a.xdmf")
