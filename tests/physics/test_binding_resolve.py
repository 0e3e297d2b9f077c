"""resolve(): solves through the cache, bound values written into a new Factory, clear refusals."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vfactory import layout
from vfactory.physics import PhysicsError, resolve

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "heat_treatment" / "line.yaml"
FURNACE_TIME = "stations.austenitise.process_time.mean"
TEMPER_TIME = "stations.temper.process_time.mean"

# The example's furnace solve written out by hand (Ø40 mm bar, 850 °C furnace), for the
# independent path through the solver registry.
FURNACE_850 = {
    "geometry": {"kind": "cylinder", "diameter_m": 0.04},
    "material": "steel_s235",
    "initial_temperature_c": 20.0,
    "ambient_c": 850.0,
    "h_w_m2k": 15.0,
    "emissivity": 0.8,
    "soak_delta_c": 10.0,
}
SOAK_HOLD_MIN = 60.0


def test_example_binds_furnace_heat_up_plus_hold_and_caches_by_point(tmp_path):
    import solvers

    f = layout.load(EXAMPLE)
    cache = tmp_path / "cache"
    first = resolve(f, cache_dir=cache)
    assert {n: s["cached"] for n, s in first.solves.items()} == {
        "furnace": False,
        "tempering_furnace": False,
    }

    # Independent path: the registry's solver in this process, on the parameters written out.
    direct = solvers.SOLVERS["heat_treatment"].solve(FURNACE_850)
    expected = direct["soak_start_s"] / 60.0 + SOAK_HOLD_MIN
    assert first.bindings[FURNACE_TIME] == pytest.approx(expected, rel=1e-9)
    assert first.units[FURNACE_TIME] == "min"
    furnace = first.factory.stations["austenitise"].process_time
    assert furnace.mean == pytest.approx(expected, rel=1e-9)
    assert (furnace.dist, furnace.cv) == ("normal", 0.03)  # the rest of the station is untouched
    assert f.stations["austenitise"].process_time.mean == 105  # the input layout is not changed
    # the tempering binding adds its own hold to its own solve
    temper = first.solves["tempering_furnace"]["soak_start_s"] / 60.0 + 120.0
    assert first.factory.stations["temper"].process_time.mean == pytest.approx(temper, rel=1e-12)

    again = resolve(f, cache_dir=cache)
    assert all(s["cached"] for s in again.solves.values())
    assert again.bindings == first.bindings

    hotter = layout.override(f, {"parameters.furnace_temperature_c": 870})
    hot = resolve(hotter, cache_dir=cache)
    assert hot.solves["furnace"]["cached"] is False  # a new point is a new solve
    assert hot.solves["furnace"]["cache_key"] != first.solves["furnace"]["cache_key"]
    assert hot.solves["tempering_furnace"]["cached"] is True  # its parameters did not change
    # Physics: a hotter furnace drives more heat into the bar, so the core gets there sooner.
    assert hot.bindings[FURNACE_TIME] < first.bindings[FURNACE_TIME] - 0.5
    assert hot.bindings[TEMPER_TIME] == first.bindings[TEMPER_TIME]

    # An output name that the solver does not produce is named, with a suggestion.
    data = layout.to_dict(f)
    data["bindings"][FURNACE_TIME] = "time(furnace.soak_start) + soak_hold_min"
    with pytest.raises(PhysicsError) as info:
        resolve(layout.from_dict(data), cache_dir=cache)
    msg = str(info.value)
    assert FURNACE_TIME in msg and "no output 'soak_start'" in msg and "soak_start_s" in msg


def test_solver_refusal_names_the_solve(tmp_path):
    # The core cannot reach the soak level (590 °C) within a fixed 60 s: only the solve finds
    # that out. (A level it can never reach fails earlier, when the layout is validated:
    # tests/physics/test_malformed_physics.py.)
    data = layout.to_dict(layout.load(EXAMPLE))
    data["physics"]["tempering_furnace"]["params"].update(setpoint_c=600, end_time_s=60)
    del data["physics"]["furnace"], data["bindings"][FURNACE_TIME]  # one solve is enough here
    with pytest.raises(PhysicsError, match=r"physics.tempering_furnace.*never reaches 590 °C"):
        resolve(layout.from_dict(data), cache_dir=tmp_path / "cache")


SMALL = """\
factory: {name: small, time_unit: min, run_length: 1000}
parameters: {hold_min: 60, hold_s: 5400}
products:
  part: {route: [oven, check], arrival: {interarrival: {dist: exponential, mean: 100}}}
stations:
  oven: {process_time: {dist: normal, mean: 10, cv: 0.05}, power_kw: {working: 50}}
  check: {process_time: {dist: constant, value: 1, unit: h}, scrap: 0.01}
"""


def _small(bindings: dict[str, str]):
    lines = "".join(f'  {k}: "{v}"\n' for k, v in bindings.items())
    return layout.loads(SMALL + "bindings:\n" + lines, "small.yaml")


def test_parameter_only_bindings_and_units_of_the_target(tmp_path):
    r = resolve(
        _small(
            {
                "stations.oven.process_time.mean": "hold_min + 5",
                "stations.check.process_time.value": "time(hold_s)",  # this dist is in hours
                "stations.oven.power_kw.working": "2 * hold_min",
                "stations.check.scrap": "hold_min / 6000",
            }
        ),
        cache_dir=tmp_path,
    )
    assert r.solves == {}
    assert r.factory.stations["oven"].process_time.mean == 65
    assert r.factory.stations["check"].process_time.value == pytest.approx(1.5)
    assert r.factory.stations["oven"].power_kw.working == 120
    assert r.factory.stations["check"].scrap == pytest.approx(0.01)
    assert r.units == {
        "stations.oven.process_time.mean": "min",
        "stations.check.process_time.value": "h",
        "stations.oven.power_kw.working": "kW",
        "stations.check.scrap": "",
    }


@pytest.mark.parametrize(
    "path, text, words",
    [
        ("stations.oven.process_time.mean", "hold_min - 100", ["= -40 min", "greater than 0"]),
        (
            "stations.check.scrap",
            "hold_min / 10",
            ["stations.check.scrap = 6", "less than or equal to 1"],
        ),
        ("stations.oven.servers", "hold_min / 7", ["stations.oven.servers = 8.57143", "integer"]),
        ("stations.oven.process_time.mean", "1 / (hold_min - 60)", ["division by zero"]),
    ],
)
def test_invalid_bound_values_name_the_binding_and_value(tmp_path, path, text, words):
    with pytest.raises(PhysicsError) as info:
        resolve(_small({path: text}), cache_dir=tmp_path)
    msg = str(info.value)
    assert f"binding {path}" in msg and text in msg, msg
    for w in words:
        assert w in msg, msg


def test_layout_without_physics_passes_through_without_solvers():
    code = textwrap.dedent(
        f"""
        import sys
        from vfactory import layout
        from vfactory.physics import resolve
        f = layout.load({str(ROOT / "examples" / "machining_assembly" / "line.yaml")!r})
        r = resolve(f)
        assert r.factory is f and r.solves == {{}} and r.bindings == {{}}
        heavy = [m for m in ("solvers", "dolfinx", "petsc4py", "mpi4py") if m in sys.modules]
        assert not heavy, heavy
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
