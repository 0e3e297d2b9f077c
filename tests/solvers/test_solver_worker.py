"""Solves in spawned workers: results, errors, timeouts, the JIT directory and stale JIT locks."""

from __future__ import annotations

import os
import time

import pytest

from solvers import jit
from solvers.params import ParameterError
from solvers.worker import solve_in_subprocess

MOULD = {
    "wall_thickness_m": 0.002,
    "thermal_diffusivity_m2_s": 1e-7,
    "melt_temperature_c": 240.0,
    "mould_temperature_c": 50.0,
    "ejection_temperature_c": 90.0,
}


def _kill_compile(jit_dir, age_s: float):
    """Make one compiled form look like a compile killed halfway ``age_s`` seconds ago:
    the lock (.c) stays, the module (.so) and the ready marker (.c.cached) are gone."""
    victim = sorted(jit_dir.glob("libffcx_forms_*.c"))[0]
    for f in jit_dir.glob(victim.stem + ".*"):
        if f != victim:
            f.unlink()
    t = time.time() - age_s
    os.utime(victim, (t, t))
    return victim


def test_worker_solves_in_its_jit_dir_and_survives_stale_locks(tmp_path, monkeypatch):
    jit_dir = tmp_path / "jit"
    r = solve_in_subprocess("mould_cooling", MOULD, timeout=300, jit_dir=str(jit_dir))
    assert r["cooling_time_centreline_s"] == pytest.approx(7.29, rel=0.01)
    assert list(jit_dir.glob("libffcx_forms_*.c.cached")), "nothing compiled in the JIT dir"

    # 1) An old lock: removed by the worker initializer before anything compiles.
    victim = _kill_compile(jit_dir, age_s=3600)
    t0 = time.perf_counter()
    assert solve_in_subprocess("mould_cooling", MOULD, timeout=300, jit_dir=str(jit_dir)) == r
    assert time.perf_counter() - t0 < jit.WAIT_S  # no wait for the dead compile
    assert victim.with_suffix(".c.cached").exists()

    # 2) A lock too young to call stale at start-up: the JIT waits VFACTORY_JIT_WAIT_S, then
    #    the lock (now older than that) is cleaned and the form compiled: no hang, no error.
    monkeypatch.setenv("VFACTORY_JIT_WAIT_S", "3")
    victim = _kill_compile(jit_dir, age_s=0)
    assert solve_in_subprocess("mould_cooling", MOULD, timeout=120, jit_dir=str(jit_dir)) == r
    assert victim.with_suffix(".c.cached").exists()


def test_remove_stale_locks_keeps_fresh_and_finished_modules(tmp_path):
    stale, fresh, finished = (tmp_path / f"{n}.c" for n in ("stale", "fresh", "finished"))
    for f in (stale, fresh, finished):
        f.write_text("/* c */")
    (tmp_path / "finished.c.cached").write_text("")
    (tmp_path / "stale.o").write_text("")
    old = time.time() - 600
    for f in (stale, finished):
        os.utime(f, (old, old))
    removed = jit.remove_stale_locks(tmp_path, older_than_s=60)
    assert removed == [stale]
    assert fresh.exists() and finished.exists() and not (tmp_path / "stale.o").exists()


def test_worker_reports_user_errors_and_timeouts():
    with pytest.raises(ParameterError, match="ejection_temperature_c"):
        solve_in_subprocess(
            "mould_cooling", {**MOULD, "ejection_temperature_c": 300.0}, timeout=120
        )
    with pytest.raises(TimeoutError, match="did not finish within"):
        solve_in_subprocess("mould_cooling", MOULD, timeout=0.05)
