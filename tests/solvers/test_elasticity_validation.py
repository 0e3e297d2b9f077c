"""Elasticity against NAFEMS LE1 and closed-form thermal / uniaxial solutions."""

from __future__ import annotations

import pytest

from solvers import elasticity

LE1 = {
    "geometry": {"kind": "elliptic_membrane"},  # between x²/2²+y²=1 and x²/3.25²+y²/2.75²=1
    "material": {"e_pa": 210e9, "nu": 0.3},
    "model": "plane_stress",
    "supports": [
        {"boundary": "x_axis", "components": ["y"]},
        {"boundary": "y_axis", "components": ["x"]},
    ],
    # "outward normal pressure 10 MPa": a tension, i.e. a negative (pushing) pressure
    "loads": [{"boundary": "outer", "pressure_pa": -10e6}],
    "points": [[2.0, 0.0]],
}


def test_nafems_le1_elliptic_membrane(refinement):
    values = []
    for n in [(6, 12), (12, 24), (24, 48)]:
        r = elasticity.solve({**LE1, "geometry": {"kind": "elliptic_membrane", "n_cells": list(n)}})
        values.append(r["stress_pa"][0][1] / 1e6)  # sigma_yy at D = (2, 0)
    refinement(values, 92.7, 0.02, ref_resolution=0.05)


def test_thermal_stress_of_a_restrained_bar(tmp_path):
    # Bar held axially at both ends, free laterally, heated by 100 K: sigma_xx = -E alpha dT
    # and the free lateral expansion is (1 + nu) alpha dT h in plane stress.
    e, alpha, nu, dT, h = 210e9, 12e-6, 0.3, 100.0, 0.1
    r = elasticity.solve(
        {
            "geometry": {"kind": "rectangle", "width_m": 1.0, "height_m": h, "n_cells": [10, 2]},
            "material": "steel_textbook",
            "model": "plane_stress",
            "supports": [
                {"boundary": "left", "components": ["x"]},
                {"boundary": "right", "components": ["x"]},
                {"boundary": "bottom", "components": ["y"]},
            ],
            "temperature_change_c": dT,
            "points": [[0.5, h]],
            "xdmf": str(tmp_path / "bar.xdmf"),
        }
    )
    assert (tmp_path / "bar.xdmf").exists() and (tmp_path / "bar.h5").stat().st_size > 0
    sxx, syy = r["stress_pa"][0][0], r["stress_pa"][0][1]
    assert sxx == pytest.approx(-e * alpha * dT, rel=1e-6)
    assert abs(syy) < 1e-6 * e * alpha * dT
    assert r["displacement_m"][0][1] == pytest.approx((1 + nu) * alpha * dT * h, rel=1e-6)
    assert r["safety_factor"] == pytest.approx(250e6 / (e * alpha * dT), rel=1e-6)


def test_uniaxial_tension_3d_box():
    # 3D bar 1 x 0.2 x 0.2 m pulled by 50 MPa: u_x(L) = sigma L / E, lateral -nu sigma w / E.
    e, nu, s = 70e9, 0.33, 50e6
    r = elasticity.solve(
        {
            "geometry": {
                "kind": "box",
                "width_m": 1.0,
                "height_m": 0.2,
                "depth_m": 0.2,
                "n_cells": [4, 2, 2],
            },
            "material": {"e_pa": e, "nu": nu, "yield_pa": 100e6},
            "supports": [
                {"boundary": "left", "components": ["x"]},
                {"boundary": "bottom", "components": ["y"]},
                {"boundary": "front", "components": ["z"]},
            ],
            "loads": [{"boundary": "right", "traction_pa": [s, 0.0, 0.0]}],
            "points": [[1.0, 0.2, 0.2]],
            "degree": 1,
        }
    )
    ux, uy, uz = r["displacement_m"][0]
    assert ux == pytest.approx(s * 1.0 / e, rel=1e-6)
    assert uy == pytest.approx(-nu * s * 0.2 / e, rel=1e-6)
    assert r["max_von_mises_pa"] == pytest.approx(s, rel=1e-6)
    assert r["safety_factor"] == pytest.approx(2.0, rel=1e-6)
