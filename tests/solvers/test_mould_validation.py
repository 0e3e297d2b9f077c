"""Injection-moulding cooling against the closed-form slab solution (VALIDATION.md)."""

from __future__ import annotations

import pytest

from solvers import mould_cooling

CASE = {
    "wall_thickness_m": 0.002,
    "thermal_diffusivity_m2_s": 1e-7,
    "melt_temperature_c": 240.0,
    "mould_temperature_c": 50.0,
    "ejection_temperature_c": 90.0,
}


def _run(steps: int) -> dict:
    return mould_cooling.solve({**CASE, "numerics": {"steps_per_time_constant": steps}})


def test_mould_cooling_mean_and_centreline(refinement):
    runs = [_run(s) for s in (20, 40, 80)]
    refinement([r["cooling_time_mean_s"] for r in runs], 5.46, 0.01, ref_resolution=0.005)
    refinement([r["cooling_time_centreline_s"] for r in runs], 7.29, 0.01, ref_resolution=0.005)


def test_mould_cooling_time_scales_with_thickness_squared():
    thin = mould_cooling.solve(CASE)
    thick = mould_cooling.solve({**CASE, "wall_thickness_m": 0.004})
    assert thick["cooling_time_centreline_s"] == pytest.approx(4 * 7.29, rel=0.01)
    assert thick["cooling_time_mean_s"] / thin["cooling_time_mean_s"] == pytest.approx(
        4.0, rel=1e-3
    )


def test_contact_conductance_slows_cooling_and_tends_to_ideal_contact():
    mat = {"k_w_mk": 0.1, "rho_kg_m3": 1000.0, "c_j_kgk": 1000.0}  # a = 1e-7 m2/s
    base = {k: v for k, v in CASE.items() if k != "thermal_diffusivity_m2_s"} | {"material": mat}
    ideal = mould_cooling.solve(base)["cooling_time_centreline_s"]
    assert ideal == pytest.approx(7.29, rel=0.01)
    t_low = mould_cooling.solve({**base, "contact_conductance_w_m2k": 1000.0})
    t_high = mould_cooling.solve({**base, "contact_conductance_w_m2k": 1e6})
    assert t_low["cooling_time_centreline_s"] > 1.2 * ideal
    assert t_high["cooling_time_centreline_s"] == pytest.approx(ideal, rel=0.01)


def test_latent_heat_delays_ejection():
    # Latent heat released between 100 and 140 C (above ejection at 90 C) must be removed
    # before the wall reaches ejection: both criteria come later.
    mat = {"k_w_mk": 0.2, "rho_kg_m3": 900.0, "c_j_kgk": 2000.0}
    base = {k: v for k, v in CASE.items() if k != "thermal_diffusivity_m2_s"} | {"material": mat}
    plain = mould_cooling.solve(base)["cooling_time_mean_s"]
    latent = mould_cooling.solve(
        {**base, "latent_heat_j_kg": 50e3, "solidification_range_c": [100.0, 140.0]}
    )
    assert latent["cooling_time_mean_s"] > plain * 1.05
