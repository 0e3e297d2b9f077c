"""The training notebooks run from top to bottom (nbclient, this environment's python3 kernel) and
compute what their text says. Each notebook's last cell prints ``NOTEBOOK_RESULT {json}``."""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "examples" / "notebooks"
CELL_TIMEOUT_S = 240


def execute(name: str, tmp_path: Path, monkeypatch) -> dict:
    """Run the notebook in its folder; temp files and the physics cache go under ``tmp_path``."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kernel's tempfile.mkdtemp() lands here
    monkeypatch.setenv("VFACTORY_CACHE_DIR", str(tmp_path / "physics-cache"))  # real solves
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("name") == "stdout" and "NOTEBOOK_RESULT " in out["text"]:
                line = next(ln for ln in out["text"].splitlines() if ln.startswith("NOTEBOOK_RESULT "))
                return json.loads(line.split(" ", 1)[1])
    raise AssertionError(f"{name} printed no NOTEBOOK_RESULT line")


def test_notebooks_are_saved_without_outputs():
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == ["01_first_simulation.ipynb", "02_process_physics.ipynb",
                     "03_optimisation_dashboard.ipynb", "04_scheduling.ipynb",
                     "05_api_client.ipynb"]
    for name in names:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name
        assert sum(c.cell_type == "markdown" for c in nb.cells) >= 5, f"{name}: teach, not only code"


def test_01_first_simulation(tmp_path, monkeypatch):
    r = execute("01_first_simulation.ipynb", tmp_path, monkeypatch)
    # M/M/1 with λ = 1/4, μ = 1/3 per minute: L = ρ/(1-ρ) = 3 parts, W = 1/(μ-λ) = 12 min.
    # Allow the CI plus a little: 10 replications of two weeks.
    assert abs(r["mm1_wip"] - 3.0) <= r["mm1_wip_half_width"] + 0.15
    assert abs(r["mm1_lead_time"] - 12.0) <= r["mm1_lead_time_half_width"] + 0.6
    assert all(s == pytest.approx(1.0, abs=1e-9) for s in r["state_sums"])
    # a shorter bottleneck cycle cannot make parts wait longer: the paired CI lies below 0
    mean, low, high = r["lead_time_difference"]
    assert low <= mean <= high < 0
    # bigger furnace loads: less energy per part, longer lead time (both CIs exclude 0)
    assert r["bigger_loads"]["energy"][1] < 0 < r["bigger_loads"]["lead_time"][0]


def test_02_process_physics(tmp_path, monkeypatch):
    r = execute("02_process_physics.ipynb", tmp_path, monkeypatch)
    # small Biot number: heat-up time ∝ diameter (ratio 1.5), not d² (2.25)
    assert 1.35 < r["ratio"] < 1.7
    # the solve stops when the core is within soak_delta_c = 10 °C of the 850 °C furnace
    assert 839.0 <= r["core_final_c"] <= 850.0
    assert 0 < r["max_surface_core_diff_c"] < 50
    # the binding: austenitise = heat-up (s → min) + soak_hold_min (60)
    assert r["austenitise_min"] == pytest.approx(r["soak_start_40_s"] / 60 + 60)
    for f in r["xdmf"]:
        assert Path(f).is_file() and Path(f).with_suffix(".h5").is_file()
    # the solves really ran: the temporary cache holds their entries
    assert any((tmp_path / "physics-cache").rglob("*.json"))


def test_03_optimisation_dashboard(tmp_path, monkeypatch):
    r = execute("03_optimisation_dashboard.ipynb", tmp_path, monkeypatch)
    assert r["trials"] >= 14
    front = r["pareto_values"]
    assert len(front) >= 3
    for a in front:  # no front point dominates another (both objectives minimised)
        for b in front:
            assert not (b[0] <= a[0] and b[1] <= a[1] and b != a), (a, b)
    # along the front, shorter lead time costs energy: sorted by one, the other decreases
    energies = [e for _, e in sorted(front)]
    assert energies == sorted(energies, reverse=True)
    assert r["constraints_met"]
    assert r["dashboard_studies"] == ["lathe-cell"]
    assert r["dashboard_exit"] is not None
    assert "pareto.png" in r["plots"]


def test_04_scheduling(tmp_path, monkeypatch):
    r = execute("04_scheduling.ipynb", tmp_path, monkeypatch)
    assert r["check"] == []
    assert r["planned_twt"] <= min(r["rules"].values()) + 1e-6
    by_machine: dict[str, list[tuple[float, float]]] = {}
    for m, s, e in r["operations"]:
        assert e >= s >= 0
        by_machine.setdefault(m, []).append((s, e))
    for m, ops in by_machine.items():  # a machine does one thing at a time
        ops.sort()
        assert all(a[1] <= b[0] + 1e-6 for a, b in zip(ops, ops[1:])), m
    assert max(e for _, _, e in r["operations"]) == pytest.approx(r["makespan"])
    assert r["replications"] == 10 and math.isfinite(r["replay_schedule_twt"]["mean"])
    assert r["files"] == ["gantt.png", "schedule.csv"]


def test_05_api_client(tmp_path, monkeypatch):
    r = execute("05_api_client.ipynb", tmp_path, monkeypatch)
    assert r["simulate_state"] == "COMPLETE" and r["recommend_state"] == "COMPLETE"
    assert r["states_seen"][0] in ("QUEUED", "INITIALIZING", "RUNNING")
    tp = r["throughput"]
    assert tp["n"] == 5 and tp["ci95"][0] <= tp["mean"] <= tp["ci95"][1]
    assert {"results.json", "report.html", "study.db"} <= set(r["downloaded"])
    downloaded = json.loads((Path(r["download_dir"]) / "results.json").read_text())
    from vfactory.report import validate

    assert validate(downloaded) == []
    assert r["bad_layout_issues"] and "did you mean 'process_time'" in r["bad_layout_issues"][0]
    assert r["stopped"] == [True, True]
    with pytest.raises(OSError):  # the service no longer listens
        socket.create_connection(("127.0.0.1", r["port"]), timeout=2).close()
