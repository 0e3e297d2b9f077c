"""A station's ``load_time``: the part holds the server for the load time after leaving the queue
and before processing (state setup, reported alone as ``loading``; idle power; own random stream).

References are from theory or first principles: an M/G/1 queue whose service is load + process
(Pollaczek–Khinchine), deterministic lines whose state shares follow from their cycle, and
common random numbers (streams keyed by name: adding a load time moves no other number).
"""

from __future__ import annotations

import zlib

import pytest
from test_queueing_theory import check, single_station

from vfactory import layout, sim
from vfactory.layout import LayoutError
from vfactory.layout.capacity import offered_load
from vfactory.sim import simulate_replication


def load(text: str):
    return layout.loads(text, "load_time.yaml")


def test_mg1_with_load_time_follows_pollaczek_khinchine():
    # Poisson arrivals λ = 0.75, deterministic load d = 0.5, exponential process S with mean 0.5:
    # an M/G/1 queue with service B = d + S, E[B] = 1, E[B²] = Var S + E[B]² = 0.25 + 1 = 1.25,
    # ρ = 0.75: Wq = λ E[B²] / (2 (1 − ρ)) = 1.875, W = Wq + E[B] = 2.875. The server processes
    # λ E[S] = 0.375 of the time (utilisation) and loads λ d = 0.375 of the time.
    text = single_station(
        "{dist: exponential, mean: 1.3333333333333333}",
        "{dist: exponential, mean: 0.5}",
        run_length=60_000,
        warmup=1_000,
        seed=zlib.crc32(b"mg1-load-time"),
    ).replace("    process_time:", "    load_time: 0.5\n    process_time:")
    r = sim.run(load(text), replications=20)
    check(r, "stations.server.wait.mean", 1.875, 0.03)
    check(r, "lead_time.mean", 2.875, 0.03)
    check(r, "stations.server.utilisation", 0.375, 0.01)
    check(r, "stations.server.loading", 0.375, 0.01)
    check(r, "stations.server.starved", 0.25, 0.02)
    # loading is setup among the six states (no changeovers here)
    assert r["stations.server.setup"].mean == pytest.approx(r["stations.server.loading"].mean)


DET = """
factory: {name: det-load, time_unit: min, run_length: 1000, warmup: 100, seed: 5}
products:
  p:
    route: [a, b]
    arrival: saturated
stations:
  a:
    load_time: 0.5
    process_time: 1
    power_kw: {idle: 2, working: 10, setup: 30}
  b: {process_time: 0.5}
"""


def test_deterministic_load_time_holds_the_server_before_processing():
    # a's cycle: load 0.5 + process 1 = 1.5 per part; b (0.5) never holds a part up
    k, trace = simulate_replication(load(DET), 0, trace=True)
    assert k["throughput"] == pytest.approx(1 / 1.5, abs=1e-3)
    assert k["stations.a.working"] == pytest.approx(2 / 3, abs=1e-3)
    assert k["stations.a.utilisation"] == pytest.approx(2 / 3, abs=1e-3)  # loading is not work
    assert k["stations.a.loading"] == pytest.approx(1 / 3, abs=1e-3)
    assert k["stations.a.setup"] == pytest.approx(1 / 3, abs=1e-3)
    assert k["stations.a.starved"] == pytest.approx(0.0, abs=1e-9)  # saturated supply
    assert k["stations.a.active"] == pytest.approx(1.0, abs=1e-3)  # the server is never free
    assert "stations.b.loading" not in k  # only stations with a load time report it
    # release (= seizure at a) + 0.5 load + 1 process + 0.5 at b
    assert k["lead_time.mean"] == pytest.approx(2.0, abs=1e-9)
    # the trace's start marks the end of loading: 0.5 after the part was taken
    starts = [t for t, _, _, st, ev in trace if st == "a" and ev == "start"]
    assert starts[:4] == pytest.approx([0.5, 2.0, 3.5, 5.0])


def test_loading_draws_idle_power_not_setup_or_working_power():
    # 900 min = 15 h after warm-up; a: working 2/3 at 10 kW, loading 1/3 at idle 2 kW (not 30)
    k = simulate_replication(load(DET), 0)
    assert k["stations.a.energy_kwh"] == pytest.approx(15 * (2 / 3 * 10 + 1 / 3 * 2), rel=2e-3)


def test_operation_dependent_failure_clock_stops_while_loading():
    # failure after every 10 min of processing, 5 min repair; load 1 + process 1 per part:
    # 10 parts (20 min) + 5 min repair per cycle of 25 min: working 0.4, loading 0.4, down 0.2.
    # (Were the clock to run while loading: a failure every 5 parts, down 1/3.)
    text = """
factory: {name: op-load, time_unit: min, run_length: 25000, warmup: 0}
products:
  p: {route: [m], arrival: saturated}
stations:
  m:
    load_time: 1
    process_time: 1
    failures:
      - {name: f, mode: operation, mtbf: 10, mttr: 5}
"""
    k = simulate_replication(load(text), 0)
    assert k["stations.m.down"] == pytest.approx(0.2, abs=1e-3)
    assert k["stations.m.working"] == pytest.approx(0.4, abs=1e-3)
    assert k["stations.m.loading"] == pytest.approx(0.4, abs=1e-3)


def test_off_shift_pauses_loading_and_states_sum_to_one():
    # working 5 of every 10 min; load 2 + process 2 per part, both paused off shift: on shift the
    # server loads half the time and processes half the time
    text = """
factory:
  name: shift-load
  time_unit: min
  run_length: 20000
  warmup: 0
  shifts: {period: 10, working: [[0, 5]]}
products:
  p: {route: [m], arrival: saturated}
stations:
  m:
    load_time: 2
    process_time: 2
    failures:
      - {name: t, mode: time, mtbf: {dist: exponential, mean: 50}, mttr: 0.1}
"""
    k = simulate_replication(load(text), 0)
    states = sum(k[f"stations.m.{s}"] for s in sim.STATE_NAMES)
    assert states == pytest.approx(1.0, abs=1e-9)
    assert k["stations.m.off_shift"] == pytest.approx(0.5, abs=1e-3)
    assert k["stations.m.loading"] == pytest.approx(k["stations.m.working"], rel=0.02)
    assert k["stations.m.loading"] + k["stations.m.working"] + k["stations.m.down"] == (
        pytest.approx(0.5, abs=1e-3)
    )


CRN = """
factory: {name: crn-load, time_unit: min, run_length: 3000, seed: 11}
products:
  p:
    route: [a, b]
    arrival: {interarrival: {dist: exponential, mean: 5}}
stations:
  a: {process_time: {dist: exponential, mean: 2}}
  b: {LOADprocess_time: {dist: gamma, mean: 2, cv: 0.5}}
"""


def _durations(trace, station: str, first: str, second: str) -> list[float]:
    t0 = {}
    out = []
    for t, pid, _, st, ev in trace:
        if st == station and ev == first:
            t0[pid] = t
        elif st == station and ev == second:
            out.append(t - t0.pop(pid))
    return out


def test_load_time_has_its_own_stream_and_moves_no_other_number():
    _, plain = simulate_replication(load(CRN.replace("LOAD", "")), 0, trace=True)
    k, loaded = simulate_replication(
        load(CRN.replace("LOAD", "load_time: {dist: exponential, mean: 1}, ")), 0, trace=True
    )
    assert k["stations.b.loading"] > 0
    releases = [t for t, *_, ev in plain if ev == "release"]
    assert releases == [t for t, *_, ev in loaded if ev == "release"]
    # process draws at a and at b: the same numbers in the same order (b serves FIFO); at b they
    # are read back as finish − start at other clock times, hence equal up to rounding
    assert _durations(plain, "a", "start", "finish") == _durations(loaded, "a", "start", "finish")
    pb, lb = _durations(plain, "b", "start", "finish"), _durations(loaded, "b", "start", "finish")
    assert len(lb) > 100 and lb == pytest.approx(pb[: len(lb)], rel=1e-12, abs=1e-9)


def test_zero_or_unlisted_load_time_changes_nothing():
    base = layout.load("examples/machining_assembly/line.yaml")
    data = layout.to_dict(base)
    assert all("load_time" not in st for st in data["stations"].values())
    name = next(iter(data["stations"]))
    a = sim.run(base, replications=2).per_replication
    for lt in (0, {next(iter(data["products"])): 0}):
        data["stations"][name]["load_time"] = lt
        b = sim.run(layout.from_dict(data), replications=2).per_replication
        for ra, rb in zip(a, b):
            assert rb.pop(f"stations.{name}.loading") == 0.0
            assert ra == rb


def test_load_time_is_validated_and_in_the_schema():
    text = """
factory: {name: v, time_unit: min, run_length: 100}
products:
  A: {route: [m], arrival: {interarrival: 2}}
stations:
  m: {process_time: 1, load_time: LT}
"""
    f = load(text.replace("LT", "{A: {dist: gamma, mean: 1, cv: 0.5}}"))
    assert f.stations["m"].load_time_for("A").mean_value == 1.0
    assert load(text.replace("LT", "0.2")).stations["m"].load_time_for("A").value == 0.2
    with pytest.raises(LayoutError, match=r"stations\.m\.load_time\.B: unknown product 'B'"):
        load(text.replace("LT", "{B: 0.3}"))
    with pytest.raises(LayoutError, match=r"stations\.m\.load_time: exponential .* needs"):
        load(text.replace("LT", "{dist: exponential}"))
    schema = layout.json_schema()["$defs"]["Station"]["properties"]["load_time"]
    assert "setup" in schema["description"] and schema["default"] is None
    # the capacity check counts loading as busy time: 0.5 parts/min × (1 + 0.2) = 0.6
    (line,) = offered_load(load(text.replace("LT", "0.2")))
    assert "offered load 0.600 (load times included)" in line
