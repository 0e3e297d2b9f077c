"""Replay of a plan in the line simulation, against online dispatching under common random numbers.

Theory checked: right-shift of a feasible plan with exact durations changes nothing; with random
durations the expected makespan is at least the planned one (Jensen: E[max] >= max E), and for two
independent exponential jobs of mean m it is exactly 1.5 m; breakdowns can only delay a fixed
sequence (a max-plus system is monotone in its durations); CRN gives both policies the same
process time for the same operation.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vfactory.layout import load, loads
from vfactory.schedule.checker import check
from vfactory.schedule.commands import register
from vfactory.schedule.from_layout import problem_from_layout
from vfactory.schedule.planner import plan
from vfactory.schedule.problem import ProblemError, read_orders
from vfactory.schedule.replay import RandomTimes, replay
from vfactory.schedule.solution import Schedule, kpis
from vfactory.sim.stats import estimate

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "machining_assembly"

# The machining example with every random time replaced by its mean, no breakdowns, no shifts.
CONSTANT_LINE = """
factory: {name: machining-constant, time_unit: min, run_length: 14400}
products:
  housing_A: {route: [milling, drilling, deburr, wash, assembly, leak_test, pack], arrival: saturated}
  housing_B: {route: [milling, drilling, deburr, wash, assembly, leak_test, pack], arrival: {interarrival: 200}}
stations:
  milling:
    servers: 2
    process_time: {housing_A: 9, housing_B: 12}
    setup: {default: 20}
  drilling: {process_time: {housing_A: 4.5, housing_B: 5.5}}
  deburr: {process_time: 3}
  wash: {process_time: 3}
  assembly: {servers: 2, process_time: {housing_A: 8, housing_B: 11}}
  leak_test: {process_time: 3.5}
  pack: {process_time: 2}
"""


@pytest.fixture(scope="module")
def orders():
    return read_orders(EXAMPLE / "orders.csv")


@pytest.fixture(scope="module")
def machining(orders):
    f = load(EXAMPLE / "line.yaml")
    p = problem_from_layout(f, orders)
    return f, p, plan(p, "tardiness", time_limit=1, method="dispatch")


def test_exact_durations_reproduce_the_plan(orders):
    f = loads(CONSTANT_LINE)
    p = problem_from_layout(f, orders)
    s = plan(p, "tardiness", time_limit=1, method="dispatch")
    assert p.has_setups and check(p, s) == []
    r = replay(f, p, s, replications=2)
    for run in r.schedule_runs:
        assert run.kpis["makespan"] == pytest.approx(s.makespan, rel=1e-12)
        assert run.kpis["total_weighted_tardiness"] == pytest.approx(
            s.total_weighted_tardiness, rel=1e-12, abs=1e-9
        )
        for o in run.operations:  # a semi-active plan: every operation exactly where planned
            so = s.operation(o.job, o.index)
            assert (o.machine, o.start, o.end) == (
                so.machine,
                pytest.approx(so.start),
                pytest.approx(so.end),
            )
    assert r.deviation("makespan").mean == pytest.approx(0, abs=1e-9)
    assert r.deviation("makespan").half_width == pytest.approx(0, abs=1e-9)


def test_hold_to_plan_keeps_planned_idle_time(orders):
    f = loads(CONSTANT_LINE)
    p = problem_from_layout(f, orders)
    s = plan(p, "makespan", time_limit=1, method="dispatch")
    # delay the last operation of the schedule by 100: still feasible, no longer left-justified
    last = max(s.operations, key=lambda o: o.end)
    late = dataclasses.replace(last, start=last.start + 100, end=last.end + 100)
    ops = [late if o is last else o for o in s.operations]
    k = kpis(p, ops)
    delayed = dataclasses.replace(
        s,
        operations=ops,
        makespan=k["makespan"],
        total_weighted_tardiness=k["total_weighted_tardiness"],
    )
    assert check(p, delayed) == []
    free = replay(f, p, delayed, replications=1).schedule_runs[0]
    held = replay(f, p, delayed, replications=1, hold_to_plan=True).schedule_runs[0]
    assert free.kpis["makespan"] == pytest.approx(s.makespan)  # right-shift starts it at once
    assert held.kpis["makespan"] == pytest.approx(s.makespan + 100)
    for o in held.operations:
        assert o.start == pytest.approx(delayed.operation(o.job, o.index).start)


TWO_MACHINES = """
factory: {name: two-machines, time_unit: min, run_length: 1000}
products:
  pa: {route: [a], arrival: saturated}
  pb: {route: [b], arrival: saturated}
stations:
  a: {process_time: {dist: exponential, mean: 10}}
  b: {process_time: {dist: exponential, mean: 10}}
"""


def test_random_durations_make_the_expected_makespan_exceed_the_plan(tmp_path):
    f = loads(TWO_MACHINES)
    (tmp_path / "o.csv").write_text("product,quantity\npa,1\npb,1\n")
    p = problem_from_layout(f, tmp_path / "o.csv")
    s = plan(p, "makespan", time_limit=1, method="dispatch")
    assert s.makespan == 10  # both jobs in parallel, mean durations
    r = replay(f, p, s, replications=400, seed=3)
    est = r.realised("makespan")
    # E[max of two independent Exp(mean 10)] = 10 + 10/2 = 15 > 10 = max of the means
    assert est.low > s.makespan
    assert est.contains(15.0)
    # one operation per machine: online dispatching does the same thing with the same numbers
    diff = r.difference("makespan")
    assert diff.mean == 0 and diff.half_width == 0


def test_breakdowns_only_delay_a_fixed_sequence(machining):
    f, p, s = machining
    with_f = replay(f, p, s, replications=4, seed=11)
    without = replay(f, p, s, replications=4, seed=11, failures=False)
    assert sum(r.failures for r in with_f.schedule_runs) > 0  # breakdowns did happen
    assert all(r.failures == 0 for r in without.schedule_runs)
    for a, b in zip(with_f.schedule_runs, without.schedule_runs, strict=True):
        assert a.replication == b.replication
        assert a.kpis["makespan"] >= b.kpis["makespan"] - 1e-9
        for o in b.operations:  # same process times (CRN), never earlier with failures
            o_f = a.operation(o.job, o.index)
            assert o_f.work == o.work
            assert o_f.end >= o.end - 1e-9
    assert with_f.deviation("makespan").mean > without.deviation("makespan").mean


def test_shift_calendar_only_delays_and_nothing_works_before_the_first_shift(machining):
    f, p, s = machining
    calendar = replay(f, p, s, replications=2, failures=False, shifts=True)
    continuous = replay(f, p, s, replications=2, failures=False)
    for a, b in zip(calendar.schedule_runs, continuous.schedule_runs, strict=True):
        # the first shift starts at 360: all work happens after it
        assert all(o.end >= 360 + o.work - 1e-9 for o in a.operations)
        for o in b.operations:  # off-shift pauses only delay a fixed sequence
            assert a.operation(o.job, o.index).end >= o.end - 1e-9
        assert a.kpis["makespan"] > b.kpis["makespan"]


def test_online_baseline_sees_the_same_random_durations(machining):
    f, p, s = machining
    r = replay(f, p, s, replications=2, seed=5, rule="EDD")
    assert r.rule == "EDD"
    for plan_run, online_run in zip(r.schedule_runs, r.online_runs, strict=True):
        assert plan_run.replication == online_run.replication
        for o in plan_run.operations:
            assert online_run.operation(o.job, o.index).work == o.work
    # ... while another replication draws other numbers (milling is lognormal)
    first = ("A-101", 0)
    w0 = r.schedule_runs[0].operation(*first).work
    w1 = r.schedule_runs[1].operation(*first).work
    assert w0 != w1 and w0 == pytest.approx(20 * 9, rel=0.1)  # 20 parts of mean 9, cv 0.08
    # the paired difference is the mean of the per-replication differences
    d = r.difference("makespan")
    per = [
        a.kpis["makespan"] - b.kpis["makespan"]
        for a, b in zip(r.schedule_runs, r.online_runs, strict=True)
    ]
    assert d.mean == pytest.approx(sum(per) / 2)
    data = r.to_dict()
    json.dumps(data)
    assert data["seeds"] == {"base": 5, "replications": [0, 1]}
    assert data["planned"]["makespan"] == s.makespan


def test_a_lot_lasts_the_sum_of_its_parts_process_times(machining):
    f, p, _ = machining
    # 20 housings on a milling centre, lognormal mean 9, cv 0.08 per part
    draws = [RandomTimes(f, p, 1, r).work("A-101", 0, "milling#1") for r in range(300)]
    est = estimate(draws)
    assert est.contains(20 * 9)
    # independent parts: sd = sqrt(20) × 0.72 = 3.22 (one draw × 20 would give 14.4)
    assert 0.85 < est.std / (20**0.5 * 9 * 0.08) < 1.15
    # the machine among identical servers does not change the numbers (CRN)
    assert RandomTimes(f, p, 1, 0).work("A-101", 0, "milling#2") == draws[0]


def test_replay_refuses_a_schedule_of_another_problem(machining, tmp_path):
    f, p, s = machining
    other = dataclasses.replace(s, operations=s.operations[1:])
    with pytest.raises(ProblemError, match="does not fit the problem"):
        replay(f, p, other, replications=1)
    with pytest.raises(ValueError, match="unknown dispatching rule 'LIFO'"):
        replay(f, p, s, replications=1, rule="LIFO")


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        pass

    return app


def test_cli_plans_and_replays_the_machining_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(
        make_app(),
        [
            "schedule",
            str(EXAMPLE / "line.yaml"),
            "--orders",
            str(EXAMPLE / "orders.csv"),
            "--objective",
            "tardiness",
            "--method",
            "heuristic",
            "--time-limit",
            "1",
            "-n",
            "3",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "16 orders, 9 machines on 7 stations, 112 operations" in res.output
    assert "checker: feasible" in res.output and "online ATC" in res.output
    out = tmp_path / "results" / "machining-assembly-line" / "schedule"
    s = Schedule.from_dict(json.loads((out / "schedule.json").read_text()))
    p = problem_from_layout(load(EXAMPLE / "line.yaml"), EXAMPLE / "orders.csv")
    assert check(p, s) == []
    assert (out / "schedule.csv").is_file() and (out / "schedule_gantt.html").is_file()
    assert (out / "schedule_gantt.png").read_bytes()[:4] == b"\x89PNG"
    rep = json.loads((out / "replay.json").read_text())
    assert rep["replications"] == 3 and rep["seeds"]["base"] == 7  # the layout's seed
    assert rep["planned"]["makespan"] == s.makespan
    lo, hi = rep["schedule"]["makespan"]["ci95"]
    assert lo <= rep["schedule"]["makespan"]["mean"] <= hi
    assert len(rep["operations_replication_0"]["online"]) == 112


def test_cli_bad_orders_and_missing_orders_are_clear_errors(tmp_path):
    bad = tmp_path / "orders.csv"
    bad.write_text("product,quantity,due\nhousing_A,5,100\nhousing_X,5,100\n")
    res = CliRunner().invoke(
        make_app(), ["schedule", str(EXAMPLE / "line.yaml"), "--orders", str(bad)]
    )
    assert res.exit_code == 2
    assert "orders.csv:3: field 'product': unknown product 'housing_X'" in res.output
    assert "Traceback" not in res.output
    res = CliRunner().invoke(make_app(), ["schedule", str(EXAMPLE / "line.yaml")])
    assert res.exit_code == 2 and "give the orders to plan with --orders" in res.output
    (tmp_path / "shop.yaml").write_text("routing:\n  a: [[[m1, 2]]]\norders: [{product: a}]\n")
    res = CliRunner().invoke(make_app(), ["schedule", str(tmp_path / "shop.yaml"), "-n", "3"])
    assert res.exit_code == 2 and "apply to a line layout only" in res.output
    broken = tmp_path / "line.yaml"
    broken.write_text(
        (EXAMPLE / "line.yaml")
        .read_text()
        .replace("servers: 2\n    buffer: 8", "servers: two\n    buffer: 8")
    )
    res = CliRunner().invoke(
        make_app(), ["schedule", str(broken), "--orders", str(EXAMPLE / "orders.csv")]
    )
    assert (
        res.exit_code == 2
        and "line.yaml:" in res.output
        and "stations.milling.servers" in res.output
    )
