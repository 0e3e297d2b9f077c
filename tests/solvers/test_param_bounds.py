"""Physically meaningful bounds and reachability checks of solver parameters (no solves).

Each bound: a value just inside is accepted, one just outside is refused with a message that
names the field, the value found and the accepted range. Each cross-field check: the edge case
that the core (or the moulded wall) can still reach is accepted, the first one it cannot is
refused at the field to change. And every parameter set of the VALIDATION.md cases still passes.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

import solvers
from solvers import ParameterError
from solvers.params import HeatTreatmentParams

FURNACE = {  # VALIDATION.md furnace heating of a 50 mm plate
    "geometry": {"kind": "plate", "thickness_m": 0.05},
    "material": "steel_textbook",
    "initial_temperature_c": 20.0,
    "ambient_c": 850.0,
    "h_w_m2k": 100.0,
    "setpoint_c": 850.0,
    "soak_delta_c": 20.0,
}
QUENCH = {  # VALIDATION.md oil quench of a 40 mm bar
    "geometry": {"kind": "cylinder", "diameter_m": 0.04},
    "material": "steel_textbook",
    "initial_temperature_c": 850.0,
    "ambient_c": 60.0,
    "h_w_m2k": 1000.0,
    "cool_below_c": 300.0,
}
MOULD = {  # VALIDATION.md injection-moulding slab
    "wall_thickness_m": 0.002,
    "thermal_diffusivity_m2_s": 1e-7,
    "melt_temperature_c": 240.0,
    "mould_temperature_c": 50.0,
    "ejection_temperature_c": 90.0,
}
BAR = {  # NAFEMS T3 bar (material without a name: the generic temperature ceiling)
    "geometry": {"kind": "interval", "length_m": 0.1},
    "material": {"k_w_mk": 35.0, "c_j_kgk": 440.5, "rho_kg_m3": 7200.0},
    "initial_temperature_c": 0.0,
    "boundaries": {
        "left": {"type": "temperature", "temperature_c": 0.0},
        "right": {"type": "temperature", "temperature_c": "100*sin(pi*t/40)"},
    },
    "end_time_s": 32.0,
}
PLATE_2D = {
    "geometry": {"kind": "rectangle", "width_m": 0.6, "height_m": 1.0},
    "material": {"k_w_mk": 52.0, "c_j_kgk": 1.0, "rho_kg_m3": 1.0},
    "steady": True,
}
BOX = {
    "geometry": {"kind": "box", "width_m": 1.0, "height_m": 0.2, "depth_m": 0.2},
    "material": "aluminium_6061_t6",
    "supports": [{"boundary": "left"}],
}


def _with(params: dict, path: str, value: Any) -> dict:
    """A deep copy of ``params`` with the dotted ``path`` set to ``value``."""
    out = copy.deepcopy(params)
    node = out
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value
    return out


# (case, solver, base parameters, field path, value just inside, value just outside, words)
# fmt: off
BOUNDS = [
    ("length upper", "heat_treatment", QUENCH, "geometry.diameter_m", 10.0, 10.001, ["(0, 10] m"]),
    ("length lower", "heat_treatment", FURNACE, "geometry.thickness_m", 1e-6, 0.0, ["(0, 10] m"]),
    ("semi-axis", "elasticity", BOX | {"geometry": {"kind": "elliptic_membrane"}},
     "geometry.outer_a_m", 10.0, 10.5, ["(0, 10] m"]),
    ("mould wall", "mould_cooling", MOULD, "wall_thickness_m", 0.05, 0.0501, ["(0, 0.05] m"]),
    ("temperature ceiling, no material name", "heat_conduction", BAR, "initial_temperature_c",
     2000.0, 2000.1, ["(-273.15, 2000] °C"]),
    ("absolute zero", "heat_conduction", BAR, "initial_temperature_c", -273.1, -273.15,
     ["(-273.15, 2000] °C", "absolute zero"]),
    ("boundary temperature", "heat_conduction", BAR, "boundaries.left.temperature_c",
     2000.0, 2001.0, ["(-273.15, 2000] °C"]),
    ("convection ambient", "heat_conduction",
     _with(BAR, "boundaries.right", {"type": "convection", "h_w_m2k": 10.0, "ambient_c": 0.0}),
     "boundaries.right.ambient_c", -273.0, -274.0, ["(-273.15, 2000] °C"]),
    ("steel ceiling", "heat_treatment", FURNACE, "ambient_c", 1200.0, 1200.5,
     ["(-273.15, 1200] °C", "steel_textbook", "EN 1993-1-2"]),
    ("steel ceiling with an overridden property", "heat_treatment",
     FURNACE | {"material": {"name": "steel_s235", "k_w_mk": 45.0}}, "ambient_c", 1200.0, 1250.0,
     ["(-273.15, 1200] °C", "steel_s235"]),
    ("aluminium below its solidus", "heat_conduction",
     BAR | {"material": "aluminium_6061_t6"}, "boundaries.left.temperature_c", 560.0, 561.0,
     ["(-273.15, 560] °C", "582-652 °C melting range"]),
    ("polymer melt", "mould_cooling",
     {k: v for k, v in MOULD.items() if k != "thermal_diffusivity_m2_s"} | {"material": "pp"},
     "melt_temperature_c", 310.0, 311.0, ["(-273.15, 310] °C", "'pp'", "degrades"]),
    ("polycarbonate melt", "mould_cooling",
     {k: v for k, v in MOULD.items() if k != "thermal_diffusivity_m2_s"} | {"material": "pc"},
     "melt_temperature_c", 350.0, 351.0, ["(-273.15, 350] °C", "'pc'"]),
    ("solidus of a material", "heat_conduction",
     _with(BAR, "material", {"k_w_mk": 1.0, "rho_kg_m3": 1.0, "c_j_kgk": 1.0,
                             "latent_heat_j_kg": 1e3, "liquidus_c": 2000.0}),
     "material.solidus_c", 1999.0, 2000.5, ["(-273.15, 2000] °C"]),
    ("temperature change", "elasticity", BOX | {"material": "steel_textbook"},
     "temperature_change_c", 2000.0, 2000.5, ["[-2000, 2000] K"]),
    ("heat transfer upper", "heat_treatment", QUENCH, "h_w_m2k", 1e6, 1.001e6,
     ["[0, 1 000 000] W/m²K", "Incropera"]),
    ("heat transfer lower", "heat_treatment", QUENCH | {"emissivity": 0.5}, "h_w_m2k", 0.0, -0.1,
     ["[0, 1 000 000] W/m²K"]),
    ("boundary heat transfer", "heat_conduction",
     _with(BAR, "boundaries.right", {"type": "convection", "h_w_m2k": 10.0, "ambient_c": 0.0}),
     "boundaries.right.h_w_m2k", 1e6, 2e6, ["[0, 1 000 000] W/m²K"]),
    ("contact conductance", "mould_cooling",
     {k: v for k, v in MOULD.items() if k != "thermal_diffusivity_m2_s"} | {"material": "pp"},
     "contact_conductance_w_m2k", 1e6, 1.5e6, ["(0, 1 000 000] W/m²K"]),
    ("end time", "heat_treatment", FURNACE, "end_time_s", 2_592_000.0, 2_592_001.0,
     ["(0, 2 592 000] s", "30 days"]),
    ("time cap", "mould_cooling", MOULD, "numerics.max_time_s", 2_592_000.0, 2.6e6,
     ["(0, 2 592 000] s"]),
    ("time step", "heat_conduction", BAR, "numerics.dt_s", 1e-4, 0.0, ["(0, 2 592 000] s"]),
    ("steps per time constant upper", "heat_treatment", FURNACE,
     "numerics.steps_per_time_constant", 10_000, 10_001, ["[10, 10 000]"]),
    ("steps per time constant lower", "mould_cooling", MOULD,
     "numerics.steps_per_time_constant", 10, 9, ["[10, 10 000]"]),
    ("time-step count", "heat_conduction", _with(BAR, "end_time_s", 1000.0), "numerics.dt_s",
     1e-3, 0.999e-3, ["1 001 002 time steps", "end_time_s = 1000 s", "1 000 000 steps"]),
    ("time-step count to the time cap", "heat_treatment",
     _with(QUENCH, "numerics.max_time_s", 100.0), "numerics.dt_s", 1e-4, 9e-5,
     ["numerics.max_time_s = 100 s", "1 000 000 steps"]),
    ("1D cells", "heat_treatment", QUENCH, "geometry.n_cells", 100_000, 100_001,
     ["100 001 cells", "limit of 100 000 cells for a 1D solve"]),
    ("2D cells", "heat_conduction", PLATE_2D, "geometry.n_cells", [125, 200], [126, 200],
     ["50 400 cells", "126 x 200 boxes of 2 triangles", "limit of 50 000 cells for a 2D solve"]),
    ("3D cells", "elasticity", BOX, "geometry.n_cells", [10, 10, 10], [11, 10, 10],
     ["6600 cells", "limit of 6000 cells for a 3D solve"]),
    ("3D cells as one number", "elasticity", BOX, "geometry.n_cells", 10, 11,
     ["7986 cells", "limit of 6000 cells"]),
    ("cell count per direction", "heat_conduction", PLATE_2D, "geometry.n_cells", [1, 1], [0, 4],
     ["at least 1"]),
    ("cell counts for the directions", "heat_conduction", PLATE_2D, "geometry.n_cells", [2, 2],
     [2, 2, 2], ["needs 2 cell count(s)", "found 3"]),
]
# fmt: on


@pytest.mark.parametrize(
    "solver, base, path, inside, outside, words",
    [c[1:] for c in BOUNDS],
    ids=[c[0] for c in BOUNDS],
)
def test_bound_accepts_just_inside_and_refuses_just_outside(
    solver, base, path, inside, outside, words
):
    validate = solvers.SOLVERS[solver].validate
    validate(_with(base, path, inside))
    with pytest.raises(ParameterError) as info:
        validate(_with(base, path, outside))
    (line,) = str(info.value).splitlines()[1:]  # exactly one problem, on the field itself
    assert line.startswith(f"  {path}: "), line
    assert f"(found {outside!r})" in line, line
    for w in words:
        assert w in line, line


def test_hexahedra_count_like_the_tetrahedra_of_the_same_grid():
    # A Q2 hexahedron has as many unknowns as the 6 P2 tetrahedra of its box (8 per box).
    hexes = _with(BOX, "geometry.cell", "hexahedron")
    solvers.SOLVERS["elasticity"].validate(_with(hexes, "geometry.n_cells", [10, 10, 10]))
    with pytest.raises(ParameterError, match=r"geometry\.n_cells: 6600 cells"):
        solvers.SOLVERS["elasticity"].validate(_with(hexes, "geometry.n_cells", [11, 10, 10]))


# (case, solver, base, changes just reachable, changes unreachable, field, words)
# fmt: off
REACH = [
    ("furnace colder than the soak level", "heat_treatment", FURNACE,
     {"setpoint_c": 869.9}, {"setpoint_c": 870.0}, "ambient_c",
     ["never reach the soak level 850 °C", "setpoint_c 870 - soak_delta_c 20",
      "furnace at 850 °C", "above 850 °C"]),
    ("furnace colder than the setpoint by more than the soak band", "heat_treatment", FURNACE,
     {"ambient_c": 830.1}, {"ambient_c": 830.0}, "ambient_c", ["never reach the soak level 830"]),
    ("soak level below the start", "heat_treatment", FURNACE,
     {"setpoint_c": 40.1}, {"setpoint_c": 40.0}, "setpoint_c",
     ["soak level 20 °C", "not above the part (initial_temperature_c 20 °C)"]),
    ("soak band wider than the heat-up", "heat_treatment", FURNACE | {"setpoint_c": None},
     {"soak_delta_c": 829.9}, {"soak_delta_c": 830.0}, "soak_delta_c",
     ["soak level 20 °C", "ambient_c 850 - soak_delta_c 830"]),
    ("set-point in a furnace colder than the part", "heat_treatment", FURNACE,
     {"initial_temperature_c": 829.9}, {"initial_temperature_c": 851.0}, "ambient_c",
     ["never reach setpoint_c 850 °C", "not hotter than the part"]),
    ("furnace as hot as the part", "heat_treatment", FURNACE | {"setpoint_c": None},
     {"ambient_c": 50.0}, {"ambient_c": 20.0}, "ambient_c", ["no heat flows"]),
    ("quench bath not colder than the target", "heat_treatment", QUENCH,
     {"ambient_c": 299.9}, {"ambient_c": 300.0}, "ambient_c",
     ["never fall below cool_below_c 300 °C", "bath at 300 °C", "below 300 °C"]),
    ("quench target not below the start", "heat_treatment", QUENCH,
     {"cool_below_c": 849.9}, {"cool_below_c": 850.0}, "cool_below_c",
     ["not below the part (initial_temperature_c 850 °C)"]),
    ("rate level beyond the furnace", "heat_treatment", FURNACE,
     {"rate_at_c": 849.9}, {"rate_at_c": 850.0}, "rate_at_c",
     ["never passes 850 °C", "from initial_temperature_c 20 °C towards ambient_c 850 °C"]),
    ("rate level before the start of a quench", "heat_treatment", QUENCH,
     {"rate_at_c": 849.0}, {"rate_at_c": 851.0}, "rate_at_c", ["never passes 851 °C"]),
    ("part cooled with nothing to watch", "heat_treatment",
     {k: v for k, v in QUENCH.items() if k != "cool_below_c"},
     {"end_time_s": 60.0}, {}, "ambient_c", ["colder than the part", "cool_below_c"]),
    ("mould not colder than ejection", "mould_cooling", MOULD,
     {"mould_temperature_c": 89.9}, {"mould_temperature_c": 90.0}, "mould_temperature_c",
     ["never cool to ejection_temperature_c 90 °C", "mould at 90 °C", "below 90 °C"]),
    ("ejection not below the melt", "mould_cooling", MOULD,
     {"ejection_temperature_c": 239.9}, {"ejection_temperature_c": 240.0},
     "ejection_temperature_c", ["not below melt_temperature_c 240 °C"]),
    ("solidification range reversed", "mould_cooling",
     {k: v for k, v in MOULD.items() if k != "thermal_diffusivity_m2_s"}
     | {"material": "pp", "latent_heat_j_kg": 1e5},
     {"solidification_range_c": [100.0, 100.1]}, {"solidification_range_c": [140.0, 100.0]},
     "solidification_range_c", ["solidus below liquidus"]),
]
# fmt: on


@pytest.mark.parametrize(
    "solver, base, reachable, unreachable, field, words",
    [c[1:] for c in REACH],
    ids=[c[0] for c in REACH],
)
def test_unreachable_targets_are_refused_at_validation(
    solver, base, reachable, unreachable, field, words
):
    validate = solvers.SOLVERS[solver].validate
    validate({**base, **reachable})
    bad = {**base, **unreachable}
    with pytest.raises(ParameterError) as info:
        validate(bad)
    (line,) = str(info.value).splitlines()[1:]
    assert line.startswith(f"  {field}: "), line
    assert f"(found {bad[field]!r})" in line, line
    for w in words:
        assert w in line, line


def test_model_validation_alone_locates_the_field():
    # Without the registry's formatting: pydantic's own error points at the field, not the model.
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        HeatTreatmentParams.model_validate({**FURNACE, "ambient_c": 800.0})
    (err,) = info.value.errors()
    assert err["loc"] == ("ambient_c",) and err["input"] == 800.0


def test_solver_and_validation_share_the_targets():
    # The solver watches exactly the levels validation checked (HeatTreatmentParams.targets).
    from solvers.heat_treatment import _targets

    p = solvers.SOLVERS["heat_treatment"].validate(FURNACE)
    assert _targets(p) == (True, 830.0, None, None)
    q = solvers.SOLVERS["heat_treatment"].validate({**QUENCH, "rate_at_c": 450.0})
    assert _targets(q) == (False, None, 300.0, 450.0)
    # with a fixed end time the soak level is watched only when a set-point asks for it
    r = solvers.SOLVERS["heat_treatment"].validate(
        {**FURNACE, "setpoint_c": None, "end_time_s": 2000.0}
    )
    assert _targets(r) == (True, None, None, None)


# Every parameter set of the VALIDATION.md cases, at the finest refinement the tests use.
VALIDATION_CASES = [
    ("heat_conduction", _with(BAR, "geometry.n_cells", 20) | {"numerics": {"dt_s": 0.5}}),
    (
        "heat_conduction",
        _with(PLATE_2D, "geometry.n_cells", [24, 40])
        | {
            "boundaries": {
                "bottom": {"type": "temperature", "temperature_c": 100.0},
                "right": {"type": "convection", "h_w_m2k": 750.0, "ambient_c": 0.0},
                "top": {"type": "convection", "h_w_m2k": 750.0, "ambient_c": 0.0},
            }
        },
    ),
    (
        "elasticity",
        {
            "geometry": {"kind": "elliptic_membrane", "n_cells": [24, 48]},
            "material": {"e_pa": 210e9, "nu": 0.3},
            "model": "plane_stress",
            "supports": [
                {"boundary": "x_axis", "components": ["y"]},
                {"boundary": "y_axis", "components": ["x"]},
            ],
            "loads": [{"boundary": "outer", "pressure_pa": -10e6}],
            "points": [[2.0, 0.0]],
        },
    ),
    ("heat_treatment", _with(FURNACE, "geometry.n_cells", 20)),
    ("heat_treatment", FURNACE | {"model": "lumped"}),
    ("heat_treatment", _with(FURNACE, "material", {"name": "steel_textbook", "k_w_mk": 4e4})),
    ("heat_treatment", _with(QUENCH, "geometry", {"kind": "plate", "thickness_m": 0.05})),
    ("heat_treatment", _with(QUENCH, "geometry.n_cells", 20)),
    ("mould_cooling", MOULD | {"numerics": {"steps_per_time_constant": 80}}),
    ("mould_cooling", MOULD | {"wall_thickness_m": 0.004}),
]


@pytest.mark.parametrize("solver, params", VALIDATION_CASES)
def test_validation_cases_stay_inside_the_bounds(solver, params):
    solvers.SOLVERS[solver].validate(params)


@pytest.mark.parametrize(("solver", "base", "dt_s"), [("heat_treatment", FURNACE, 0.01), ("mould_cooling", MOULD, 1e-6)])
def test_tiny_step_without_an_end_is_refused_before_the_time_loop(solver, base, dt_s):
    """No end given: the horizon is 60 time constants, known only in the solver. A 50 mm plate
    (tau ~ rho c L / h ~ 900 s) in steps of 0.01 s, or a 2 mm wall (tau = L^2 / alpha = 10 s)
    in steps of 1 us, would need millions of steps: refused at once, not solved for hours."""
    from solvers.worker import solve_in_subprocess

    params = _with(base, "numerics.dt_s", dt_s)
    solvers.SOLVERS[solver].validate(params)  # the end is unknown to validation: accepted
    with pytest.raises(ParameterError, match=r"numerics\.dt_s: .*default horizon .*exceed the limit"):
        solve_in_subprocess(solver, params, timeout=120)
