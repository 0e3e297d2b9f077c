"""The main job on the heat-treatment example: results.json follows its schema, the recommendation
beats the baseline by more than its CI, and re-running it reproduces the reported KPIs."""

from __future__ import annotations

import copy
import json
import math

import optuna
import pytest
from heat_run import LAYOUT, TRIALS, physics_cache
from scipy import stats

from vfactory.layout import load
from vfactory.optimize.evaluate import evaluate_task
from vfactory.optimize.study import Evaluator
from vfactory.report import SCHEMA_VERSION, validate


def t_ci(values: list[float]) -> tuple[float, float, float]:
    """Mean and Student-t 95 % interval, computed here from the replications (not by vfactory)."""
    n = len(values)
    m = math.fsum(values) / n
    s = math.sqrt(math.fsum((v - m) ** 2 for v in values) / (n - 1))
    h = stats.t.ppf(0.975, n - 1) * s / math.sqrt(n)
    return m, m - h, m + h


def reevaluate(run, params: dict, seed: int, replications: int) -> dict:
    factory = load(LAYOUT)
    task = Evaluator(factory, factory.study).task(params)
    task["replications"] = replications
    task["seed"] = seed
    with physics_cache(run.cache):
        return evaluate_task(task)


# -- schema ---------------------------------------------------------------------------------


def test_results_json_matches_the_schema(heat_run):
    on_disk = json.loads((heat_run.workdir / "results.json").read_text())
    assert on_disk["schema"] == SCHEMA_VERSION
    assert validate(on_disk) == []
    # every stage ran, so no section is null
    for key in ("physics", "baseline", "optimization", "schedule"):
        assert on_disk[key] is not None, key
    assert on_disk["artifacts"]["report"] == "report.html"


def test_the_schema_rejects_broken_results(heat_run):
    r = json.loads((heat_run.workdir / "results.json").read_text())
    bad = copy.deepcopy(r)
    bad["schema"] = "vfactory.results/2"
    del bad["baseline"]["kpis"]["throughput_per_hour"]
    bad["optimization"]["objectives"][0]["direction"] = "up"
    bad["baseline"]["kpis"]["wip"]["n"] = "ten"
    errors = "\n".join(validate(bad))
    assert "schema" in errors
    assert "throughput_per_hour" in errors
    assert "objectives.0.direction" in errors
    assert "baseline.kpis.wip.n" in errors


def test_files_and_study_are_where_the_results_say(heat_run):
    r, wd = heat_run.results, heat_run.workdir
    for f in r["artifacts"]["files"]:
        assert (wd / f).is_file(), f
    for name in r["physics"]["xdmf"]:  # ParaView needs the .h5 beside the .xdmf
        assert (wd / "fields" / name).is_file() and (wd / "fields" / name).with_suffix(".h5").is_file()
    study = optuna.load_study(study_name=r["optimization"]["study"],
                              storage=f"sqlite:///{wd / 'study.db'}")
    assert len(study.trials) == len(r["optimization"]["history"]) >= TRIALS
    # every stage reported progress, ending at 100 %
    done = {s for s, f in heat_run.stages if f == 1.0}
    assert {"physics", "optimize", "schedule", "report"} <= done
    assert {s for s, _ in heat_run.stages} >= {"physics", "baseline", "optimize", "schedule", "report"}


def test_station_states_partition_time_and_physics_binds_the_furnace(heat_run):
    base, ph = heat_run.results["baseline"], heat_run.results["physics"]
    for s in heat_run.results["layout"]["stations"]:
        total = sum(base["kpis"][f"stations.{s}.{st}"]["mean"]
                    for st in ("working", "setup", "blocked", "starved", "down", "off_shift"))
        assert total == pytest.approx(1.0, abs=1e-9), s
    # layout: austenitise time = core heat-up (solver, s) + soak_hold_min (60 min)
    soak_s = ph["solves"]["furnace"]["outputs"]["soak_start_s"]
    bound = ph["bindings"]["stations.austenitise.process_time.mean"]
    assert bound["unit"] == "min" and bound["value"] == pytest.approx(soak_s / 60 + 60)
    # heating from outside: the surface leads the core, and the core reaches the soak band
    series = ph["series"]["furnace"]
    assert all(sc >= cc - 1e-6 for sc, cc in zip(series["surface_c"], series["core_c"]))
    params = ph["solves"]["furnace"]["params"]
    assert series["core_c"][-1] >= params["ambient_c"] - params["soak_delta_c"] - 1e-6


# -- the recommendation ------------------------------------------------------------------------


def test_recommendation_beats_the_baseline_by_more_than_its_ci(heat_run):
    opt = heat_run.results["optimization"]
    assert opt["feasible"] and opt["trials"]["complete"] >= TRIALS
    (obj,) = opt["objectives"]
    assert obj["kpi"] == "energy_per_good_part_kwh" and obj["direction"] == "minimize"
    lo, hi = obj["improvement"]["ci95"]
    assert hi < 0, f"the improvement's CI [{lo}, {hi}] must lie below 0 (less energy)"
    # not only paired: the two CIs do not even overlap
    assert obj["recommended"]["ci95"][1] < obj["baseline"]["ci95"][0]
    assert obj["improvement"]["better"] and obj["improvement"]["significant"]
    for c in opt["constraints"]:
        assert c["satisfied"], c
    assert opt["recommended"]["params"] != opt["baseline"]["params"]


def test_rerunning_the_recommendation_reproduces_it_bit_for_bit(heat_run):
    opt = heat_run.results["optimization"]
    n, seed = opt["replications"], opt["seed"]
    rec = reevaluate(heat_run, opt["recommended"]["params"], seed, n)
    base = reevaluate(heat_run, {}, seed, n)
    for o in opt["objectives"]:
        for out, reported in ((rec, o["recommended"]), (base, o["baseline"])):
            assert out[o["kpi"]]["mean"] == reported["mean"]  # bit for bit
            assert len(out[o["kpi"]]["values"]) == n
            m, low, high = t_ci(out[o["kpi"]]["values"])
            assert reported["ci95"] == pytest.approx([low, high], rel=1e-9)
        diffs = [a - b for a, b in zip(rec[o["kpi"]]["values"], base[o["kpi"]]["values"])]
        m, low, high = t_ci(diffs)
        assert o["improvement"]["mean"] == pytest.approx(m, rel=1e-12)
        assert o["improvement"]["ci95"] == pytest.approx([low, high], rel=1e-9)
    for c in opt["constraints"]:
        assert rec[c["kpi"]]["mean"] == c["recommended"]["mean"]


def test_rerunning_with_another_seed_agrees_within_the_ci(heat_run):
    opt = heat_run.results["optimization"]
    (obj,) = opt["objectives"]
    other = reevaluate(heat_run, opt["recommended"]["params"], opt["seed"] + 1000,
                       opt["replications"])
    values = other[obj["kpi"]]["values"]
    assert other[obj["kpi"]]["mean"] != obj["recommended"]["mean"]  # really other random numbers
    _, low, high = t_ci(values)
    rep_low, rep_high = obj["recommended"]["ci95"]
    assert low <= rep_high and rep_low <= high, (
        f"new CI [{low}, {high}] does not overlap the reported [{rep_low}, {rep_high}]")
    # and the recommendation still beats the baseline's reported CI
    assert high < obj["baseline"]["ci95"][0]
