"""Benchmark of the FEniCSx solvers: time per case, repeated solves, and the result cache.

For every validation case on its default mesh, in a fresh spawned worker:

- ``first (cold JIT)``: first solve with an empty JIT directory (compiles every form);
- ``first (warm JIT)``: first solve in another fresh worker, compiled modules on disk;
- ``repeat``: median of solves with *changed parameters* in the same worker (no recompilation:
  parameters are fem.Constants / Function values and the compiled problem is cached).

Then the on-disk result cache: a miss (solve in a spawned worker) against a hit.
Writes benchmarks/results/solvers.json and solvers.md. Run: ``python benchmarks/bench_solvers.py``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STEEL = "steel_textbook"
CASES: list[dict[str, Any]] = [
    {
        "case": "NAFEMS T3 (1D transient)",
        "solver": "heat_conduction",
        "params": {
            "geometry": {"kind": "interval", "length_m": 0.1},
            "material": {"k_w_mk": 35.0, "c_j_kgk": 440.5, "rho_kg_m3": 7200.0},
            "initial_temperature_c": 0.0,
            "boundaries": {
                "left": {"type": "temperature", "temperature_c": 0.0},
                "right": {"type": "temperature", "temperature_c": "100*sin(pi*t/40)"},
            },
            "end_time_s": 32.0,
            "probes": {"x08": [0.08]},
            "numerics": {"dt_s": 0.5},
        },
        "vary": [
            ("material", {"k_w_mk": 30.0, "c_j_kgk": 440.5, "rho_kg_m3": 7200.0}),
            ("material", {"k_w_mk": 40.0, "c_j_kgk": 450.0, "rho_kg_m3": 7000.0}),
            ("end_time_s", 30.0),
        ],
        "output": "probe_x08_c",
        "reference": 36.60,
    },
    {
        "case": "NAFEMS T4 (2D steady)",
        "solver": "heat_conduction",
        "params": {
            "geometry": {"kind": "rectangle", "width_m": 0.6, "height_m": 1.0},
            "material": {"k_w_mk": 52.0, "c_j_kgk": 1.0, "rho_kg_m3": 1.0},
            "steady": True,
            "boundaries": {
                "bottom": {"type": "temperature", "temperature_c": 100.0},
                "right": {"type": "convection", "h_w_m2k": 750.0, "ambient_c": 0.0},
                "top": {"type": "convection", "h_w_m2k": 750.0, "ambient_c": 0.0},
            },
            "probes": {"a": [0.6, 0.2]},
        },
        "vary": [
            ("material", {"k_w_mk": 45.0, "c_j_kgk": 1.0, "rho_kg_m3": 1.0}),
            ("material", {"k_w_mk": 60.0, "c_j_kgk": 1.0, "rho_kg_m3": 1.0}),
            ("initial_temperature_c", 50.0),
        ],
        "output": "probe_a_c",
        "reference": 18.25,
    },
    {
        "case": "NAFEMS LE1 (plane stress)",
        "solver": "elasticity",
        "params": {
            "geometry": {"kind": "elliptic_membrane"},
            "material": {"e_pa": 210e9, "nu": 0.3},
            "model": "plane_stress",
            "supports": [
                {"boundary": "x_axis", "components": ["y"]},
                {"boundary": "y_axis", "components": ["x"]},
            ],
            "loads": [{"boundary": "outer", "pressure_pa": -10e6}],
            "points": [[2.0, 0.0]],
        },
        "vary": [
            ("material", {"e_pa": 200e9, "nu": 0.29}),
            ("material", {"e_pa": 70e9, "nu": 0.33}),
            ("temperature_change_c", 0.0),
        ],
        "output": "stress_pa",
        "reference": 92.7e6,
    },
    {
        "case": "Furnace heating, 50 mm plate",
        "solver": "heat_treatment",
        "params": {
            "geometry": {"kind": "plate", "thickness_m": 0.05},
            "material": STEEL,
            "initial_temperature_c": 20.0,
            "ambient_c": 850.0,
            "h_w_m2k": 100.0,
            "setpoint_c": 850.0,
            "soak_delta_c": 20.0,
        },
        "vary": [
            ("ambient_c", 900.0),
            ("h_w_m2k", 120.0),
            ("geometry", {"kind": "plate", "thickness_m": 0.06}),
        ],
        "output": "soak_start_s",
        "reference": 3719.0,
    },
    {
        "case": "Oil quench, 50 mm plate",
        "solver": "heat_treatment",
        "params": {
            "geometry": {"kind": "plate", "thickness_m": 0.05},
            "material": STEEL,
            "initial_temperature_c": 850.0,
            "ambient_c": 60.0,
            "h_w_m2k": 1000.0,
            "cool_below_c": 300.0,
        },
        "vary": [("h_w_m2k", 800.0), ("ambient_c", 40.0), ("cool_below_c", 350.0)],
        "output": "cool_below_s",
        "reference": 150.8,
    },
    {
        "case": "Oil quench, 40 mm bar",
        "solver": "heat_treatment",
        "params": {
            "geometry": {"kind": "cylinder", "diameter_m": 0.04},
            "material": STEEL,
            "initial_temperature_c": 850.0,
            "ambient_c": 60.0,
            "h_w_m2k": 1000.0,
            "cool_below_c": 300.0,
        },
        "vary": [
            ("h_w_m2k", 800.0),
            ("geometry", {"kind": "cylinder", "diameter_m": 0.05}),
            ("cool_below_c", 350.0),
        ],
        "output": "cool_below_s",
        "reference": 57.3,
    },
    {
        "case": "Injection-moulding wall, 2 mm",
        "solver": "mould_cooling",
        "params": {
            "wall_thickness_m": 0.002,
            "thermal_diffusivity_m2_s": 1e-7,
            "melt_temperature_c": 240.0,
            "mould_temperature_c": 50.0,
            "ejection_temperature_c": 90.0,
        },
        "vary": [
            ("wall_thickness_m", 0.003),
            ("mould_temperature_c", 40.0),
            ("ejection_temperature_c", 100.0),
        ],
        "output": "cooling_time_centreline_s",
        "reference": 7.29,
    },
]


def _value(result: dict[str, Any], key: str) -> float:
    v = result[key]
    return float(v[0][1]) if key == "stress_pa" else float(v)


def run_case(case: dict[str, Any], repeats: bool) -> dict[str, Any]:
    """Inside a fresh worker: first solve, then solves with changed parameters."""
    import solvers
    from solvers import _compat, compiled

    t0 = time.perf_counter()
    first = solvers.solve(case["solver"], case["params"])
    t_first = time.perf_counter() - t0
    out = {
        "first_s": t_first,
        "value": _value(first, case["output"]),
        "forms_compiled_first": _compat.JIT_STATS["forms"],
        "dolfinx": _compat.dolfinx_version(),
    }
    if repeats:
        forms_before = _compat.JIT_STATS["forms"]
        times = []
        for key, value in case["vary"]:
            t0 = time.perf_counter()
            solvers.solve(case["solver"], {**case["params"], key: value})
            times.append(time.perf_counter() - t0)
        out["repeat_s"] = statistics.median(times)
        out["forms_compiled_repeat"] = _compat.JIT_STATS["forms"] - forms_before
        out["problem_builds"] = compiled.STATS["builds"]
    return out


def _in_fresh_worker(case: dict[str, Any], repeats: bool, jit_dir: str) -> dict[str, Any]:
    from solvers.worker import worker_initializer

    with ProcessPoolExecutor(
        1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker_initializer,
        initargs=(jit_dir,),
    ) as pool:
        return pool.submit(run_case, case, repeats).result()


def bench_cache(jit_dir: str) -> dict[str, Any]:
    from vfactory.physics.cache import cached_solve

    os.environ["VFACTORY_JIT_DIR"] = jit_dir
    case = CASES[-1]
    with tempfile.TemporaryDirectory() as cache_dir:
        t0 = time.perf_counter()
        miss = cached_solve(case["solver"], case["params"], cache_dir=cache_dir)
        t_miss = time.perf_counter() - t0
        hits = []
        for _ in range(20):
            t0 = time.perf_counter()
            hit = cached_solve(case["solver"], case["params"], cache_dir=cache_dir)
            hits.append(time.perf_counter() - t0)
    assert not miss["cached"] and hit["cached"]
    t_hit = statistics.median(hits)
    return {"case": case["case"], "miss_s": t_miss, "hit_s": t_hit, "speedup": t_miss / t_hit}


def main() -> None:
    rows = []
    dolfinx_version = "?"
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(CASES):
            jit_dir = str(Path(tmp) / f"jit{i}")  # empty per case: the cold run compiles all
            cold = _in_fresh_worker(case, True, jit_dir)
            warm = _in_fresh_worker(case, False, jit_dir)
            row = {
                "case": case["case"],
                "solver": case["solver"],
                "first_cold_jit_s": cold["first_s"],
                "first_warm_jit_s": warm["first_s"],
                "repeat_s": cold["repeat_s"],
                "speedup_vs_cold": cold["first_s"] / cold["repeat_s"],
                "speedup_vs_warm": warm["first_s"] / cold["repeat_s"],
                "forms_compiled_first": cold["forms_compiled_first"],
                "forms_compiled_repeat": cold["forms_compiled_repeat"],
                "value": cold["value"],
                "reference": case["reference"],
                "rel_error": abs(cold["value"] - case["reference"]) / case["reference"],
            }
            rows.append(row)
            dolfinx_version = cold["dolfinx"]
            print(
                f"{row['case']:32s} cold {row['first_cold_jit_s']:6.2f} s  warm "
                f"{row['first_warm_jit_s']:6.2f} s  repeat {row['repeat_s']:7.4f} s  "
                f"x{row['speedup_vs_warm']:.0f} (warm)  err {row['rel_error']:.2%}",
                flush=True,
            )
        cache = bench_cache(jit_dir)
    print(f"cache: miss {cache['miss_s']:.2f} s, hit {cache['hit_s'] * 1e3:.2f} ms")
    doc = {
        "benchmark": "solvers",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": {
            "python": platform.python_version(),
            "dolfinx": dolfinx_version,
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_avg_1min": os.getloadavg()[0],
        },
        "cases": rows,
        "cache": cache,
        "goal": "repeat solve with changed parameters >= 5x faster than the first",
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "solvers.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        "# Solver benchmark",
        "",
        f"{doc['created']}, dolfinx {dolfinx_version}, {os.cpu_count()} CPUs "
        f"(load {doc['environment']['load_avg_1min']:.1f}), default meshes, one spawned "
        "worker per case (MPI.COMM_SELF, OMP_NUM_THREADS=1).",
        "",
        "| case | first solve, cold JIT (s) | first solve, warm JIT (s) | repeat, changed "
        "params (s) | speed-up vs warm first | forms compiled on repeat | result vs reference |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['first_cold_jit_s']:.2f} | {r['first_warm_jit_s']:.2f}"
            f" | {r['repeat_s']:.4f} | {r['speedup_vs_warm']:.0f}x | "
            f"{r['forms_compiled_repeat']} | {r['rel_error']:.2%} |"
        )
    lines += [
        "",
        f"Result cache ({cache['case']}): miss (solve in a spawned worker) "
        f"{cache['miss_s']:.2f} s, hit {cache['hit_s'] * 1e3:.2f} ms "
        f"({cache['speedup']:.0f}x).",
        "",
    ]
    (out / "solvers.md").write_text("\n".join(lines))
    print(f"wrote {out / 'solvers.json'} and {out / 'solvers.md'}")


if __name__ == "__main__":
    main()
