"""Time zones, Parquet, and the cleaning rules on small hand-made logs whose answer is known."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from vfactory.calibrate import clean, ingest, mapping_from_dict, measure

COLS = {"case": "c", "product": "p", "location": "l", "event": "e", "timestamp": "t"}
MAP = {
    "columns": COLS,
    "events": {"release": ["gen"], "enter": ["in"], "leave": ["out"]},
    "locations": {"stations": ["M*"], "buffers": ["B*"], "sinks": ["OUT"]},
    "time_unit": "s",
}


def log(tmp_path, rows, name="log.csv", **extra):
    df = pd.DataFrame(rows, columns=["c", "p", "l", "e", "t"])
    p = tmp_path / name
    if name.endswith(".parquet"):
        df.to_parquet(p)
    else:
        df.to_csv(p, index=False)
    return p, mapping_from_dict({**MAP, **extra})


def test_offsets_are_honoured_and_naive_times_localised(tmp_path):
    # the same instant written three ways: +01:00 offset, Z, and naive Berlin winter time
    rows = [
        ("o", "A", "M1", "in", "2025-01-07 10:00:00+01:00"),
        ("o", "A", "M1", "out", "2025-01-07T09:00:30Z"),
        ("o", "A", "M2", "in", "2025-01-07 10:00:30"),
        ("o", "A", "M2", "out", "2025-01-07 10:01:30"),
    ]
    p, mp = log(tmp_path, rows, timezone="Europe/Berlin")
    ev = ingest(p, mp)
    assert (ev["time"] - ev["time"].iloc[0]).dt.total_seconds().tolist() == [0, 30, 30, 90]
    # summer time: naive 10:00 in Berlin is 08:00 UTC
    p, mp = log(tmp_path, [("o", "A", "M1", "in", "2025-07-07 10:00:00")], timezone="Europe/Berlin")
    assert ingest(p, mp)["time"].iloc[0] == pd.Timestamp("2025-07-07 08:00:00", tz="UTC")


def test_parquet_reads_like_csv(tmp_path):
    rows = [
        ("o", "A", "M1", "in", "2025-01-07 10:00:00+01:00"),
        ("o", "A", "M1", "out", "2025-01-07 10:02:00+01:00"),
    ]
    p1, mp = log(tmp_path, rows)
    p2, _ = log(tmp_path, rows, name="log.parquet")
    a, b = ingest(p1, mp), ingest(p2, mp)
    assert a["time"].tolist() == b["time"].tolist() and a["kind"].tolist() == b["kind"].tolist()


def t(sec: float) -> str:
    return (pd.Timestamp("2025-01-07 09:00:00", tz="UTC") + pd.Timedelta(seconds=sec)).isoformat()


def test_cleaning_rules_on_a_known_log(tmp_path):
    rows = [
        ("setup", "A", "B1", "gen", t(-7200)),  # two hours before the run: outside
        ("o1", "A", "B1", "gen", t(0)),
        ("o1", "A", "M1", "in", t(60)),  # no exit from B1: missing exit repaired at 60
        ("o1", "A", "M1", "in", t(65)),  # tag read twice: duplicate
        ("o1", "A", "M1", "out", t(200)),
        ("o1", "A", "M1", "in", t(215)),  # bounce back within 60 s: merged, M1 = [60, 300]
        ("o1", "A", "M2", "in", t(300)),
        ("o1", "A", "M1", "out", t(300)),
        ("o1", "A", "M2", "out", t(500)),
        ("o1", "A", "M2", "out", t(500)),  # exact duplicate
        ("o2", "A", "M1", "in", t(400)),  # exit stamped before entry: stamps swapped,
        ("o2", "A", "M1", "out", t(310)),  # and this row is out of order
        ("o2", "A", "M2", "out", t(620)),  # no entry into M2: missing entry, from 400,
        # and M2 still holds o1 until 500 (one server): o2's stay starts at 500
        ("o3", "A", "B1", "gen", t(100)),  # never leaves its buffer: incomplete
    ]
    p, mp = log(tmp_path, rows, run_gap_s=900)
    cl = clean(ingest(p, mp), mp)
    c = cl.quality.counts
    assert c["outside_run"] == 1
    assert c["exact_duplicate"] == 1
    assert c["duplicate_event"] == 1
    assert c["missing_exit"] >= 1
    assert c["tag_bounce"] == 1
    assert c["out_of_order"] >= 1
    assert c["negative_duration"] == 1
    assert c["missing_entry"] == 1
    assert c["incomplete_order"] == 1
    assert c["overlap"] == 1
    o1, o2 = cl.orders["o1"], cl.orders["o2"]
    assert [(v.location, v.arrive, v.depart) for v in o1.stations] == [
        ("M1", 60.0, 300.0),
        ("M2", 300.0, 500.0),
    ]
    assert [(v.location, v.arrive, v.depart) for v in o2.stations] == [
        ("M1", 310.0, 400.0),
        ("M2", 500.0, 620.0),
    ]
    m = measure(cl).kpis
    # lead times 500 and 310 s; busy M1 = 240 + 90, M2 = 200 + 120, over a 620 s run
    assert math.isclose(m["lead_time.mean"], (500 + 310) / 2)
    assert math.isclose(m["stations.M1.utilisation"], 330 / 620)
    assert math.isclose(m["stations.M2.utilisation"], 320 / 620)
    assert math.isclose(m["throughput"], 2 / 620)


def test_overlap_at_a_single_server_is_repaired(tmp_path):
    rows = [
        ("a", "A", "M1", "in", t(0)),
        ("a", "A", "M1", "out", t(100)),
        ("b", "A", "M1", "in", t(80)),
        ("b", "A", "M1", "out", t(150)),  # 20 s overlap
        ("c", "A", "M1", "in", t(110)),
        ("c", "A", "M1", "out", t(140)),  # inside b's stay
    ]
    p, mp = log(tmp_path, rows)
    cl = clean(ingest(p, mp), mp)
    assert cl.quality.counts["overlap"] == 1 and cl.quality.counts["overlap_dropped"] == 1
    assert cl.orders["b"].stations[0].arrive == 100.0
    assert cl.orders["c"].stations == []
    assert not cl.orders["c"].complete


@pytest.mark.parametrize("bad_tz", ["Mars/Olympus"])
def test_unknown_zone_is_a_log_error(tmp_path, bad_tz):
    from vfactory.calibrate import LogError

    p, mp = log(tmp_path, [("o", "A", "M1", "in", "2025-01-07 10:00:00")], timezone=bad_tz)
    with pytest.raises(LogError, match="Mars/Olympus"):
        ingest(p, mp)


def test_plant_names_become_valid_layout_names(tmp_path):
    from vfactory.calibrate import calibrate

    rows = [
        ("o1", "Stoßdämpfer defekt", "Säge 1", "in", t(0)),
        ("o1", "Stoßdämpfer defekt", "Säge 1", "out", t(60)),
        ("o2", "Stoßdämpfer defekt", "Säge 1", "in", t(70)),
        ("o2", "Stoßdämpfer defekt", "Säge 1", "out", t(100)),
    ]
    p, mp = log(tmp_path, rows, locations={"stations": ["Säge*"]})
    cal = calibrate(p, mp, simulate=False)
    assert list(cal.factory.stations) == ["Sage_1"]
    assert list(cal.factory.products) == ["Stodampfer_defekt"]
