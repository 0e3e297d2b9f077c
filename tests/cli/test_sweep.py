"""``vfactory sweep`` against theory: two saturated exponential stations with B buffer slots
have throughput (B + 2) / (B + 3) (VALIDATION.md), run on the local process pool."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]

LINE = """
factory: {name: two-stations, time_unit: min, run_length: 15000, warmup: 500, seed: 77}
products: {part: {route: [m1, m2], arrival: saturated}}
stations:
  m1: {process_time: {dist: exponential, mean: 1}}
  m2: {process_time: {dist: exponential, mean: 1}, buffer: 0}
"""


def test_sweep_of_buffer_sizes_matches_theory(tmp_path):
    path = tmp_path / "line.yaml"
    path.write_text(LINE)
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "vfactory.cli", "sweep", str(path), "-p", "stations.m2.buffer=0:3:1",
         "--kpi", "throughput", "-n", "8", "-o", str(out), "--cluster", "local:2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stderr
    csv = pd.read_csv(out / "sweep.csv")
    parquet = pd.read_parquet(out / "sweep.parquet")
    assert list(csv["stations.m2.buffer"]) == [0, 1, 2, 3]
    assert len(parquet) == 4 and (out / "sweep.png").stat().st_size > 1000
    for _, row in csv.iterrows():
        b = row["stations.m2.buffer"]
        theory = (b + 2) / (b + 3)
        assert row["throughput.ci_low"] <= theory <= row["throughput.ci_high"], (b, row["throughput"], theory)
        assert row["throughput.ci_high"] - row["throughput.ci_low"] < 0.02 * theory
    assert (csv["replications"] == 8).all()


def test_bad_sweep_parameter_is_a_clear_error(tmp_path):
    path = tmp_path / "line.yaml"
    path.write_text(LINE)
    r = subprocess.run(
        [sys.executable, "-m", "vfactory.cli", "sweep", str(path), "-p", "stations.m2.bufer=0:3:1", "-o", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "bufer" in r.stderr and "did you mean 'buffer'" in r.stderr
