"""The three raw DASCEN-LF logs (shared/real_lines, README there): ingest, clean with a
data-quality report, discover the line the README describes, and replay it.

Replay tolerance: the trace-driven replay releases every completed order at its observed time and
replays every observed stay (stations, and transfers between them) in FIFO order, so by
construction it reproduces the cleaned log; what remains is the rounding of the numbers written
into the YAML (1e-9 time units). The assertion allows 0.1 %, far below "a few percent": anything
larger would be a modelling error (an order overtaking another, a part blocked, a lost release).
"""

from __future__ import annotations

import math

import pytest

from vfactory import layout
from vfactory.calibrate import calibrate, load_mapping

SCENARIOS = ("01", "03", "06")
README_STATIONS = {
    "01": ["WS-03", "WS-04", "WS-05"],
    "03": ["WS-01", "WS-02", "WS-03", "WS-04", "WS-05"],
    "06": ["WS-01", "WS-02", "WS-03", "WS-04", "WS-05"],
}
README_PRODUCTS = {"01": {"RD", "TL", "SA"}, "03": {"HD"}, "06": {"HD", "SA", "RD", "TL"}}
REPLAY_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def replays(scenario_log, dascen_mapping):
    mp = load_mapping(dascen_mapping)
    return {s: calibrate(scenario_log(s), mp, mode="replay") for s in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_quality_report_counts_what_the_readme_says_happens(replays, scenario):
    q = replays[scenario].log.quality
    c = q.counts
    assert q.rows_in > 0 and q.rows_used > 0
    # "the location tags drop and duplicate events"
    assert c["exact_duplicate"] + c["duplicate_event"] + c["tag_bounce"] > 0
    assert c["missing_exit"] + c["missing_entry"] + c["unmatched_exit"] > 0
    # "some timestamps are out of order"
    assert c["out_of_order"] > 0
    # "events outside the production run"
    assert c["outside_run"] > 0
    # every rule has its reason in the report
    rules = q.to_dict()["rules"]
    assert all(r["why"] and r["action"] for r in rules.values())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_discovery_matches_the_readme(replays, scenario):
    cal = replays[scenario]
    assert cal.discovery.stations == README_STATIONS[scenario]
    assert set(cal.discovery.routes) <= README_PRODUCTS[scenario]
    # "processed 10 production orders": every order is either calibrated or accounted for
    orders = cal.log.orders
    assert len(orders) + cal.log.quality.counts["no_part_events"] == 10
    assert len(cal.log.completed) + cal.log.quality.counts["incomplete_order"] == len(orders)
    # each WS has one operator (README), as the mapping says
    assert all(n == 1 for n in cal.discovery.servers.values())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_layout_validates_and_replay_reproduces_utilisation_and_lead_time(replays, scenario):
    cal = replays[scenario]
    factory = layout.loads(cal.built.yaml)  # validates on its own
    assert set(cal.built.stations) <= set(factory.stations)
    m = cal.measured.kpis
    r = cal.result
    assert m["completed"] >= 7  # most of the 10 orders survive cleaning
    for st in cal.built.stations:
        key = f"stations.{st}.utilisation"
        assert 0 < m[key] < 1
        assert math.isclose(r[key].mean, m[key], rel_tol=REPLAY_TOLERANCE), key
    assert math.isclose(r["lead_time.mean"].mean, m["lead_time.mean"], rel_tol=REPLAY_TOLERANCE)
    assert math.isclose(r["throughput"].mean, m["throughput"], rel_tol=REPLAY_TOLERANCE)
    assert math.isclose(r["wip"].mean, m["wip"], rel_tol=REPLAY_TOLERANCE)


def test_measured_kpis_are_consistent_with_littles_law(replays):
    """WIP = throughput × mean lead time over a run that starts and ends empty (Little)."""
    for cal in replays.values():
        m = cal.measured.kpis
        assert math.isclose(m["wip"], m["throughput"] * m["lead_time.mean"], rel_tol=1e-9)


def test_stochastic_layout_validates_and_simulates(scenario_log, dascen_mapping):
    mp = load_mapping(dascen_mapping)
    cal = calibrate(scenario_log("06"), mp, mode="stochastic", replications=5)
    # ten orders: every fit falls back to the empirical distribution
    assert all(f.chosen in ("empirical", "constant") for f in cal.fits.values())
    assert "dist: empirical" in cal.built.yaml
    r = cal.result
    assert r["completed"].mean > 0
    # the default handling is the stations' load_time: a loading row beside each utilisation
    loaded = [s for s in cal.built.stations if cal.factory.stations[s].load_time is not None]
    assert loaded == cal.built.stations  # every DASCEN station shows handling after the wait
    assert len(cal.twin) == 4 + len(cal.built.stations) + len(loaded)
    for row in cal.twin:
        assert row.ci_low is not None and row.ci_low <= row.simulated <= row.ci_high


def test_options_observed_buffers_and_handling_at_the_station(scenario_log, dascen_mapping):
    mp = load_mapping(dascen_mapping)
    # observed buffer capacities: the replay stays exact (no part is ever refused by a buffer)
    cal = calibrate(scenario_log("01"), mp, mode="replay", buffers="observed")
    caps = {s: cal.factory.stations[s].buffer for s in cal.built.stations}
    assert all(isinstance(c, int) and c >= 1 for c in caps.values())
    for row in cal.twin:
        assert math.isclose(row.simulated, row.measured, rel_tol=REPLAY_TOLERANCE), row
    # handling at the station: no transfer delays; each process time grows by its handling time
    st = calibrate(scenario_log("01"), mp, mode="stochastic", handling="station", simulate=False)
    assert set(st.factory.stations) == set(README_STATIONS["01"])
    fitted = st.factory.stations["WS-03"].process_time["RD"].values
    observed = cal.factory.stations["WS-03"].process_time["RD"].values
    assert sum(fitted) > sum(observed)
