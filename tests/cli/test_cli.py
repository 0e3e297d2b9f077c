"""The ``vfactory`` command as a user runs it: a real subprocess, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VFACTORY = [sys.executable, "-m", "vfactory.cli"]


def run(*args, cwd=ROOT):
    return subprocess.run([*VFACTORY, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_help_teaches():
    r = run("--help")
    assert r.returncode == 0
    for cmd in ("validate", "simulate", "schema"):
        assert cmd in r.stdout
    r = run("simulate", "--help")
    assert "--replications" in r.stdout and "--json" in r.stdout and "Example" in r.stdout


def test_validate_ok_and_bad(tmp_path):
    r = run("validate", "examples/heat_treatment/line.yaml")
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout and "offered load" in r.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "examples/heat_treatment/line.yaml").read_text().replace("batch_size: 30", "batch_sise: 30", 1))
    r = run("validate", bad)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr + r.stdout
    assert f"{bad}:" in r.stderr and "did you mean 'batch_size'" in r.stderr


def test_missing_file_is_a_user_error(tmp_path):
    r = run("simulate", tmp_path / "nope.yaml")
    assert r.returncode == 2 and "file not found" in r.stderr and "Traceback" not in r.stderr


def test_simulate_writes_json_with_cis_and_seeds(tmp_path):
    out = tmp_path / "r.json"
    r = run("simulate", "examples/machining_assembly/line.yaml", "-n", "3", "--seed", "5", "--json", out, "-q")
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["replications"] == 3 and data["seeds"]["base"] == 5 and data["seeds"]["replications"] == [0, 1, 2]
    tp = data["kpis"]["throughput_per_hour"]
    assert tp["ci95"][0] <= tp["mean"] <= tp["ci95"][1]
    assert data["bottleneck"] in ("milling", "drilling", "deburr", "wash", "assembly", "leak_test", "pack")
    assert "throughput [parts/h]" in r.stdout and "bottleneck" in r.stdout


def test_schema_command(tmp_path):
    out = tmp_path / "s.json"
    r = run("schema", "-o", out)
    assert r.returncode == 0
    schema = json.loads(out.read_text())
    assert "stations" in schema["properties"]


def test_the_layout_can_choose_the_cluster_and_results_do_not_depend_on_it(tmp_path):
    text = (ROOT / "examples/machining_assembly/line.yaml").read_text()
    text = text.replace("  seed: 7\n", "  seed: 7\n  cluster: local:2\n", 1)
    path = tmp_path / "line.yaml"
    path.write_text(text)
    pooled, inline = tmp_path / "pooled.json", tmp_path / "inline.json"
    r1 = run("simulate", path, "-n", "4", "-q", "--json", pooled)  # the layout's local:2 pool
    r2 = run("simulate", path, "-n", "4", "-q", "--json", inline, "--cluster", "inline")
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    assert json.loads(pooled.read_text())["kpis"] == json.loads(inline.read_text())["kpis"]
