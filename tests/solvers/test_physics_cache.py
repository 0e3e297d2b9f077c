"""The on-disk content-hash cache of solver results (vfactory.physics.cache)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import solvers
from vfactory.physics.cache import cache_key, cached_solve

MOULD = {
    "wall_thickness_m": 0.002,
    "thermal_diffusivity_m2_s": 1e-7,
    "melt_temperature_c": 240.0,
    "mould_temperature_c": 50.0,
    "ejection_temperature_c": 90.0,
}


class CountingRunner:
    """Solves for real, in this process, and counts how often it was asked to."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, name: str, params: dict) -> dict:
        self.calls += 1
        return solvers.solve(name, params)


def test_second_call_is_a_hit_and_a_changed_parameter_a_miss(tmp_path):
    run = CountingRunner()
    first = cached_solve("mould_cooling", MOULD, cache_dir=tmp_path, runner=run)
    second = cached_solve(
        "mould_cooling", dict(reversed(list(MOULD.items()))), cache_dir=tmp_path, runner=run
    )
    assert (first["cached"], second["cached"], run.calls) == (False, True, 1)
    assert second["cooling_time_mean_s"] == first["cooling_time_mean_s"]
    assert first["cooling_time_mean_s"] == pytest.approx(5.46, rel=0.01)
    # 240 and 240.0 are the same point; 241 is not.
    same = cached_solve("mould_cooling", {**MOULD, "melt_temperature_c": 240}, tmp_path, run)
    other = cached_solve("mould_cooling", {**MOULD, "melt_temperature_c": 241.0}, tmp_path, run)
    assert same["cached"] and not other["cached"] and run.calls == 2
    assert other["cooling_time_mean_s"] > first["cooling_time_mean_s"]
    entries = list(tmp_path.rglob("*.json"))
    assert len(entries) == 2 and not list(tmp_path.rglob(".tmp-*"))
    doc = json.loads(entries[0].read_text())
    assert (
        doc["solver"] == "mould_cooling"
        and doc["version"] == solvers.SOLVERS["mould_cooling"].version
    )


def test_key_depends_on_version_and_mesh_bytes_not_path(tmp_path):
    a, b = tmp_path / "a.msh", tmp_path / "b.msh"
    a.write_bytes(b"mesh-one")
    b.write_bytes(b"mesh-one")
    pa = {"geometry": {"kind": "mesh", "file": str(a)}}
    pb = {"geometry": {"kind": "mesh", "file": str(b)}}
    assert cache_key("elasticity", pa) == cache_key("elasticity", pb)  # same bytes
    b.write_bytes(b"mesh-two")
    assert cache_key("elasticity", pa) != cache_key("elasticity", pb)
    assert cache_key("elasticity", pa) != cache_key("elasticity", pa, version="999")
    with pytest.raises(ValueError, match="gone.msh: cannot read referenced file"):
        cache_key("elasticity", {"geometry": {"file": str(tmp_path / "gone.msh")}})


def test_corrupt_entry_is_a_miss_and_is_rewritten(tmp_path):
    run = CountingRunner()
    cached_solve("mould_cooling", MOULD, tmp_path, run)
    (entry,) = tmp_path.rglob("*.json")
    entry.write_text("{ truncated")
    again = cached_solve("mould_cooling", MOULD, tmp_path, run)
    assert not again["cached"] and run.calls == 2
    assert cached_solve("mould_cooling", MOULD, tmp_path, run)["cached"]


def test_cache_module_does_not_import_dolfinx():
    code = (
        "import sys, vfactory.physics.cache as c; c.cache_key('mould_cooling', {'a': 1}); "
        "assert 'dolfinx' not in sys.modules and 'petsc4py' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
