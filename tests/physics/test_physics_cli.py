"""`vfactory physics` (outputs, cache, bound values, XDMF for ParaView) and `vfactory simulate`
on a physics-bound layout."""

from __future__ import annotations

import json
from pathlib import Path

import meshio
import pytest
import typer
from typer.testing import CliRunner

from vfactory import layout
from vfactory.physics import resolve
from vfactory.physics.commands import register

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "heat_treatment" / "line.yaml"
FURNACE_TIME = "stations.austenitise.process_time.mean"


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _read_xdmf(path: Path) -> tuple:
    """Points and the last temperature field, read with meshio.

    dolfinx writes 1D meshes with the topology type "PolyLine"; meshio's table only knows the
    XDMF spelling "Polyline" (ParaView reads both), so read a copy with that spelling.
    """
    copy = path.with_name("meshio-" + path.name)
    copy.write_text(path.read_text().replace('"PolyLine"', '"Polyline"'))
    with meshio.xdmf.TimeSeriesReader(copy) as reader:
        points, cells = reader.read_points_cells()
        steps = [reader.read_data(k) for k in range(reader.num_steps)]
    return points, cells, steps


def test_physics_command_prints_outputs_bindings_and_writes_fields(tmp_path):
    fields, out = tmp_path / "fields", tmp_path / "physics.json"
    args = ["physics", str(EXAMPLE), "--xdmf", str(fields), "--json", str(out)]
    res = CliRunner().invoke(_app(), args)
    assert res.exit_code == 0, res.output
    assert "furnace: heat_treatment 1.0  (solved in" in res.output
    assert "tempering_furnace: heat_treatment 1.0  (solved in" in res.output
    assert "soak_start_s" in res.output and "max_surface_core_diff_c" in res.output

    report = json.loads(out.read_text())
    soak = report["solves"]["furnace"]["outputs"]["soak_start_s"]
    bound = report["bindings"][FURNACE_TIME]
    assert bound["unit"] == "min" and bound["value"] == pytest.approx(soak / 60 + 60, rel=1e-12)
    assert f"{FURNACE_TIME} = {bound['value']:.6g} min" in res.output
    assert report["solves"]["furnace"]["params"]["ambient_c"] == 850  # parameter substituted

    for name, ambient, start in (("furnace", 850.0, 20.0), ("tempering_furnace", 600.0, 60.0)):
        xdmf = fields / f"{name}.xdmf"
        assert xdmf.exists() and xdmf.with_suffix(".h5").stat().st_size > 0
        points, cells, steps = _read_xdmf(xdmf)
        radius = points[:, 0].max() - points[:, 0].min()
        assert radius == pytest.approx(0.02, rel=1e-9)  # Ø40 mm bar: the radial line 0..r
        t0, first, _ = steps[0]
        t_end, last, _ = steps[-1]
        assert t0 == 0 and first["temperature_c"].min() == pytest.approx(start)
        # the run ends at soak start: the whole section is within 10 °C below the furnace
        assert ambient - 10.5 < last["temperature_c"].min() <= last["temperature_c"].max() < ambient
        assert t_end == pytest.approx(report["solves"][name]["outputs"]["end_time_s"], rel=1e-6)

    again = CliRunner().invoke(_app(), args)
    assert again.exit_code == 0, again.output
    assert again.output.count("(from cache)") == 2


def test_physics_command_user_errors_exit_2_without_traceback(tmp_path):
    bad = tmp_path / "line.yaml"
    bad.write_text(EXAMPLE.read_text().replace("emissivity: 0.8", "emissivity: 1.8", 1))
    res = CliRunner().invoke(_app(), ["physics", str(bad)])
    assert res.exit_code == 2
    line = next(i for i, s in enumerate(bad.read_text().splitlines(), 1) if "1.8" in s)
    assert f"{bad}:{line}:" in res.output and "physics.furnace.params.emissivity" in res.output
    assert "Traceback" not in res.output

    # valid layout, invalid bound value (found only once the expression is evaluated)
    neg = tmp_path / "neg.yaml"
    neg.write_text(
        "factory: {name: neg, time_unit: min, run_length: 100}\nparameters: {hold_min: 5}\n"
        "products: {p: {route: [a], arrival: saturated}}\n"
        "stations: {a: {process_time: {dist: constant, value: 1}}}\n"
        'bindings: {stations.a.process_time.value: "hold_min - 10"}\n'
    )
    res = CliRunner().invoke(_app(), ["physics", str(neg)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "binding stations.a.process_time.value = -5" in res.output


def test_simulate_resolves_physics_first(tmp_path):
    from vfactory.cli import app

    # A saturated one-station line whose constant process time is the furnace heat-up plus hold:
    # its throughput is one part per bound process time.
    line = tmp_path / "oven.yaml"
    params = layout.to_dict(layout.load(EXAMPLE))["physics"]["furnace"]["params"]
    line.write_text(
        json.dumps(
            {
                "factory": {
                    "name": "oven",
                    "time_unit": "min",
                    "run_length": 20000,
                    "replications": 2,
                },
                "parameters": {
                    "part_diameter_mm": 40,
                    "furnace_temperature_c": 850,
                    "soak_hold_min": 60,
                },
                "products": {"bar": {"route": ["oven"], "arrival": "saturated"}},
                "stations": {"oven": {"process_time": {"dist": "constant", "value": 1}}},
                "physics": {"furnace": {"solver": "heat_treatment", "params": params}},
                "bindings": {
                    "stations.oven.process_time.value": "time(furnace.soak_start_s) + soak_hold_min"
                },
            }
        )
    )
    out = tmp_path / "sim.json"
    res = CliRunner().invoke(app, ["simulate", str(line), "-q", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "physics: 1 solves (0 from cache); stations.oven.process_time.value = " in res.output
    r = resolve(layout.load(line))  # same cache (VFACTORY_CACHE_DIR): a hit now
    assert r.solves["furnace"]["cached"] is True
    pt = r.bindings["stations.oven.process_time.value"]
    throughput = json.loads(out.read_text())["kpis"]["throughput"]["mean"]
    assert throughput == pytest.approx(int(20000 / pt) / 20000, rel=1e-9)
