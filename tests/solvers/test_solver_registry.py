"""Registry, parameter validation and reuse of compiled problems within one process."""

from __future__ import annotations

import importlib
import sys

import pytest

import solvers
from solvers import ParameterError

FURNACE = {
    "geometry": {"kind": "cylinder", "diameter_m": 0.04},
    "material": "steel_textbook",
    "initial_temperature_c": 20.0,
    "ambient_c": 850.0,
    "h_w_m2k": 100.0,
}


def test_registry_names_versions_and_is_light():
    assert set(solvers.SOLVERS) == {
        "heat_conduction",
        "heat_treatment",
        "mould_cooling",
        "elasticity",
    }
    for name, s in solvers.SOLVERS.items():
        module = importlib.import_module(s.module)
        assert s.version == module.VERSION and callable(module.solve), name
    import subprocess

    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, solvers; solvers.SOLVERS['elasticity']"
            ".validate({'geometry': {'kind': 'box', 'width_m': 1, 'height_m': 1, "
            "'depth_m': 1}, 'material': 'pa6', 'supports': [{'boundary': 'left'}]}); "
            "assert 'dolfinx' not in sys.modules",
        ],
        check=True,
    )


def test_bad_parameters_name_the_field():
    with pytest.raises(ParameterError, match=r"(?s)heat_treatment.*geometry: .*needs diameter_m"):
        solvers.solve("heat_treatment", {**FURNACE, "geometry": {"kind": "cylinder"}})
    with pytest.raises(ParameterError, match=r"material\.name: .*unknown material 'steel_x'"):
        solvers.SOLVERS["heat_treatment"].validate({**FURNACE, "material": "steel_x"})
    with pytest.raises(ParameterError, match=r"h_w_m2k: outside the accepted range \[0, .*-5"):
        solvers.SOLVERS["heat_treatment"].validate({**FURNACE, "h_w_m2k": -5})
    with pytest.raises(ParameterError, match=r"unknown solver 'weld'"):
        solvers.solve("weld", {})
    # A soak level above the furnace temperature is refused by validation, before any solve.
    with pytest.raises(ParameterError, match=r"ambient_c: the core would never reach .* 895 °C"):
        solvers.solve("heat_treatment", {**FURNACE, "setpoint_c": 900.0, "soak_delta_c": 5})


def test_repeated_solves_reuse_the_compiled_problem():
    from solvers import _compat, compiled

    first = solvers.solve("heat_treatment", FURNACE)  # compiles (or loads) the forms
    forms, builds = _compat.JIT_STATS["forms"], compiled.STATS["builds"]
    hits = compiled.STATS["hits"]
    hotter = solvers.solve(
        "heat_treatment",
        {**FURNACE, "ambient_c": 950.0, "h_w_m2k": 150.0, "material": "stainless_304"},
    )
    bigger = solvers.solve(
        "heat_treatment", {**FURNACE, "geometry": {"kind": "cylinder", "diameter_m": 0.08}}
    )
    assert _compat.JIT_STATS["forms"] == forms, "a parameter change recompiled a form"
    assert compiled.STATS["builds"] == builds and compiled.STATS["hits"] == hits + 2
    # The reused problem really saw the new values: faster in the hotter furnace, and the
    # lumped-dominated time (Bi = 0.05) roughly doubles with the diameter.
    assert hotter["soak_start_s"] != first["soak_start_s"]
    assert 1.8 < bigger["soak_start_s"] / first["soak_start_s"] < 2.2
    # A different mesh resolution is a different problem: one more build.
    solvers.solve(
        "heat_treatment",
        {**FURNACE, "geometry": {"kind": "cylinder", "diameter_m": 0.04, "n_cells": 7}},
    )
    assert compiled.STATS["builds"] == builds + 1
