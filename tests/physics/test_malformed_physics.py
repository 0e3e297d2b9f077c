"""Bad physics and bindings sections fail at load time, located at file:line:column with the field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vfactory import layout

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "heat_treatment" / "line.yaml"
TEXT = EXAMPLE.read_text()
BIND = "  stations.austenitise.process_time.mean: "
BIND_LINE = BIND + '"time(furnace.soak_start_s) + soak_hold_min"'


def test_the_example_loads_with_its_physics():
    f = layout.load(EXAMPLE)
    assert set(f.physics) == {"furnace", "tempering_furnace"}
    assert f.physics["furnace"].solver == "heat_treatment"
    assert f.bindings["stations.austenitise.process_time.mean"].startswith("time(furnace.")


# (description, (old, new) in the example, text of the expected line, field path, expected words)
CASES = [
    (
        "unknown solver, did-you-mean",
        ("  furnace:\n    solver: heat_treatment", "  furnace:\n    solver: heat_treatmnt"),
        "solver: heat_treatmnt",
        "physics.furnace.solver",
        ["unknown solver 'heat_treatmnt'", "did you mean 'heat_treatment'"],
    ),
    (
        "unknown parameter in a solver-parameter expression",
        ('ambient_c: "=furnace_temperature_c"', 'ambient_c: "=furnace_temp_c"'),
        "=furnace_temp_c",
        "physics.furnace.params.ambient_c",
        ["unknown name 'furnace_temp_c'", "did you mean 'furnace_temperature_c'"],
    ),
    (
        "solver parameters invalid once parameters are substituted (negative diameter)",
        (
            '      geometry: {kind: cylinder, diameter_m: "=part_diameter_mm / 1000"}\n'
            "      material: steel_s235\n      initial_temperature_c: 20",
            '      geometry: {kind: cylinder, diameter_m: "=part_diameter_mm / 1000 - 1"}\n'
            "      material: steel_s235\n      initial_temperature_c: 20",
        ),
        '- 1"}',
        "physics.furnace.params.geometry.diameter_m",
        ["outside the accepted range (0, 10] m", "-0.96"],
    ),
    (
        "solver parameter out of range",
        ("      h_w_m2k: 15\n      emissivity: 0.8", "      h_w_m2k: 15\n      emissivity: 1.8"),
        "emissivity: 1.8",
        "physics.furnace.params.emissivity",
        ["less than or equal to 1", "1.8"],
    ),
    (
        "millimetres written as metres (a 40 m bar)",
        (
            '      geometry: {kind: cylinder, diameter_m: "=part_diameter_mm / 1000"}\n'
            "      material: steel_s235\n      initial_temperature_c: 20",
            '      geometry: {kind: cylinder, diameter_m: "=part_diameter_mm"}\n'
            "      material: steel_s235\n      initial_temperature_c: 20",
        ),
        'diameter_m: "=part_diameter_mm"}',
        "physics.furnace.params.geometry.diameter_m",
        ["outside the accepted range (0, 10] m", "millimetres written as metres", "found 40"],
    ),
    (
        "a 100 000 °C furnace",
        ("  furnace_temperature_c: 850\n", "  furnace_temperature_c: 100000\n"),
        'ambient_c: "=furnace_temperature_c"',
        "physics.furnace.params.ambient_c",
        ["outside the accepted range (-273.15, 2000] °C", "found 100000"],
    ),
    (
        "a furnace above what the steel data hold for",
        ("  furnace_temperature_c: 850\n", "  furnace_temperature_c: 1300\n"),
        'ambient_c: "=furnace_temperature_c"',
        "physics.furnace.params.ambient_c",
        ["(-273.15, 1200] °C", "'steel_s235'", "EN 1993-1-2", "found 1300"],
    ),
    (
        "furnace colder than the set-point's soak level",
        (
            "      h_w_m2k: 15\n      emissivity: 0.8\n      soak_delta_c: 10",
            "      h_w_m2k: 15\n      emissivity: 0.8\n      setpoint_c: 900\n      soak_delta_c: 10",
        ),
        'ambient_c: "=furnace_temperature_c"',
        "physics.furnace.params.ambient_c",
        ["never reach the soak level 890 °C", "furnace at 850 °C", "found 850"],
    ),
    (
        "tempering furnace colder than the parts put in",
        ("  temper_temperature_c: 600\n", "  temper_temperature_c: 50\n"),
        'ambient_c: "=temper_temperature_c"',
        "physics.tempering_furnace.params.ambient_c",
        ["colder than the part (initial_temperature_c 60 °C)", "found 50"],
    ),
    (
        "soak band wider than the heat-up",
        (
            "      h_w_m2k: 40\n      emissivity: 0.8\n      soak_delta_c: 10",
            "      h_w_m2k: 40\n      emissivity: 0.8\n      soak_delta_c: 560",
        ),
        "soak_delta_c: 560",
        "physics.tempering_furnace.params.soak_delta_c",
        ["soak level 40 °C", "not above the part (initial_temperature_c 60 °C)"],
    ),
    (
        "a mesh too big to solve",
        (
            '      geometry: {kind: cylinder, diameter_m: "=part_diameter_mm / 1000"}\n'
            "      material: steel_s235\n      initial_temperature_c: 60",
            '      geometry: {kind: cylinder, diameter_m: "=part_diameter_mm / 1000", '
            "n_cells: 200000}\n      material: steel_s235\n      initial_temperature_c: 60",
        ),
        "n_cells: 200000",
        "physics.tempering_furnace.params.geometry.n_cells",
        ["200 000 cells exceed the limit of 100 000 cells for a 1D solve", "hours"],
    ),
    (
        "unknown key in a solve",
        (
            "  furnace:\n    solver: heat_treatment\n    params:",
            "  furnace:\n    solver: heat_treatment\n    parmas:",
        ),
        "parmas:",
        "physics.furnace.parmas",
        ["unknown key 'parmas'", "did you mean 'params'"],
    ),
    (
        "time() in solver parameters",
        ('ambient_c: "=furnace_temperature_c"', 'ambient_c: "=time(furnace_temperature_c)"'),
        "=time(",
        "physics.furnace.params.ambient_c",
        ["belongs in bindings"],
    ),
    (
        "solve output used in solver parameters",
        ('ambient_c: "=temper_temperature_c"', 'ambient_c: "=furnace.core_final_c"'),
        "=furnace.core_final_c",
        "physics.tempering_furnace.params.ambient_c",
        ["layout parameters only"],
    ),
    (
        "physics name that cannot be used in an expression",
        ("  tempering_furnace:\n    solver", "  tempering-furnace:\n    solver"),
        "tempering-furnace:",
        "physics.tempering-furnace",
        ["physics solve name", "starting with a letter"],
    ),
    (
        "binding target field misspelt",
        (BIND, "  stations.austenitise.process_time.meen: "),
        "process_time.meen",
        "bindings.stations.austenitise.process_time.meen",
        ["no field 'meen'", "did you mean 'mean'"],
    ),
    (
        "binding target station misspelt",
        (BIND, "  stations.austenitize.process_time.mean: "),
        "stations.austenitize",
        "bindings.stations.austenitize.process_time.mean",
        ["no field 'austenitize' in stations", "did you mean 'austenitise'"],
    ),
    (
        "binding target is a section, not a number",
        (BIND, "  stations.austenitise.process_time: "),
        "stations.austenitise.process_time:",
        "bindings.stations.austenitise.process_time",
        ["is a section, not a number field"],
    ),
    (
        "binding target is a parameter",
        (BIND, "  parameters.soak_hold_min: "),
        "parameters.soak_hold_min:",
        "bindings.parameters.soak_hold_min",
        ["not 'parameters'"],
    ),
    (
        "binding expression syntax error",
        (BIND_LINE, BIND + '"time(furnace.soak_start_s) +"'),
        'soak_start_s) +"',
        "bindings.stations.austenitise.process_time.mean",
        ["cannot parse"],
    ),
    (
        "binding expression with a forbidden construct",
        (BIND_LINE, BIND + "\"__import__('os').getcwd()\""),
        "__import__",
        "bindings.stations.austenitise.process_time.mean",
        ["call to", "is not allowed"],
    ),
    (
        "binding to an unknown solve",
        (BIND_LINE, BIND + '"time(furnce.soak_start_s) + soak_hold_min"'),
        "furnce.soak_start_s",
        "bindings.stations.austenitise.process_time.mean",
        ["unknown physics solve 'furnce'", "did you mean 'furnace'"],
    ),
    (
        "binding to an unknown parameter",
        (BIND_LINE, BIND + '"time(furnace.soak_start_s) + soak_hold"'),
        '+ soak_hold"',
        "bindings.stations.austenitise.process_time.mean",
        ["unknown name 'soak_hold'", "did you mean 'soak_hold_min'"],
    ),
    (
        "binding that is a number, not an expression",
        (BIND_LINE, BIND + "90"),
        "process_time.mean: 90",
        "bindings.stations.austenitise.process_time.mean",
        ["valid string", "90"],
    ),
]


@pytest.mark.parametrize("desc, change, line_text, path, words", CASES, ids=[c[0] for c in CASES])
def test_malformed_physics_is_located(tmp_path, desc, change, line_text, path, words):
    old, new = change
    assert TEXT.count(old) == 1, f"test case {desc!r} does not match the example exactly once"
    text = TEXT.replace(old, new)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if line_text in s)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(layout.LayoutError) as info:
        layout.load(bad)
    matching = [i for i in info.value.issues if i.path == path]
    assert matching, f"no issue at {path}: {info.value}"
    issue = matching[0]
    assert (issue.file, issue.line) == (str(bad), line), str(issue)
    assert issue.column is not None and issue.column >= 1
    for w in words:
        assert w in issue.message, str(issue)
    assert str(issue).startswith(f"{bad}:{line}:")


def test_mesh_file_of_a_solve_must_exist(tmp_path):
    text = TEXT.replace(
        'geometry: {kind: cylinder, diameter_m: "=part_diameter_mm / 1000"}\n'
        "      material: steel_s235\n      initial_temperature_c: 20",
        "geometry: {kind: mesh, file: shaft.msh, unit: mm}\n"
        "      core_point: [0, 0]\n      surface_point: [20, 0]\n"
        "      material: steel_s235\n      initial_temperature_c: 20",
    )
    (tmp_path / "line.yaml").write_text(text)
    with pytest.raises(layout.LayoutError) as info:
        layout.load(tmp_path / "line.yaml")
    (issue,) = info.value.issues
    assert issue.path == "physics.furnace.params.geometry.file"
    assert "shaft.msh" in issue.message and "not found" in issue.message
    assert issue.line == next(i for i, s in enumerate(text.splitlines(), 1) if "shaft.msh" in s)


def test_validate_cli_refuses_a_too_cold_furnace_without_solving(tmp_path):
    # The set-point asks for a soak level (890 °C) above the 850 °C furnace: `vfactory validate`
    # fails with exit code 2 at the layout line and physics field, and never starts a solve (no
    # solver worker or dolfinx is imported: the check is the parameter validation itself).
    import subprocess
    import sys

    text = TEXT.replace(
        "      h_w_m2k: 15\n      emissivity: 0.8\n      soak_delta_c: 10",
        "      h_w_m2k: 15\n      emissivity: 0.8\n      setpoint_c: 900\n      soak_delta_c: 10",
    )
    bad = tmp_path / "cold_furnace.yaml"
    bad.write_text(text)
    line = next(
        i for i, s in enumerate(text.splitlines(), 1) if 'ambient_c: "=furnace_temperature_c"' in s
    )
    env = {**os.environ, "VFACTORY_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vfactory.cli", "validate", str(bad)],
        capture_output=True,
        text=True,
        cwd=EXAMPLE.parents[2],
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    problems = [s for s in proc.stderr.splitlines() if s.startswith(f"{bad}:")]
    assert len(problems) == 1, proc.stderr
    assert problems[0].startswith(f"{bad}:{line}:"), problems[0]
    assert "physics.furnace.params.ambient_c:" in problems[0]
    assert "never reach the soak level 890 °C" in problems[0]
    imported = {s.rsplit("|", 1)[-1].strip() for s in proc.stderr.splitlines() if "|" in s}
    assert "solvers.params" in imported  # the check ran ...
    assert not {"dolfinx", "solvers.worker", "solvers.heat_treatment"} & imported  # ... no solve
    assert not (tmp_path / "cache").exists()
