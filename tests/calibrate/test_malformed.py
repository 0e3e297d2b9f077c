"""Malformed logs and mappings: a ``LogError`` that names the file, the row and/or the column."""

from __future__ import annotations

import pytest

from vfactory.calibrate import LogError, calibrate, ingest, load_mapping, mapping_from_dict

MAPPING = {
    "columns": {
        "case": "order",
        "product": "variant",
        "location": "where",
        "event": "what",
        "timestamp": "when",
    },
    "events": {"enter": ["in"], "leave": ["out"]},
}
GOOD = (
    "order,variant,where,what,when\n"
    "o1,A,M1,in,2025-01-07 09:00:00+01\n"
    "o1,A,M1,out,2025-01-07 09:01:00+01\n"
    "o2,A,M1,in,2025-01-07 09:02:00+01\n"
    "o2,A,M1,out,2025-01-07 09:03:30+01\n"
)


def write(tmp_path, text: str | bytes, name: str = "log.csv"):
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_a_good_log_reads(tmp_path):
    ev = ingest(write(tmp_path, GOOD), mapping_from_dict(MAPPING))
    assert list(ev["kind"]) == ["enter", "leave", "enter", "leave"]
    assert list(ev["row"]) == [2, 3, 4, 5]


def test_missing_column(tmp_path):
    text = GOOD.replace(",when", "").replace(",2025-01-07 09:00:00+01", "")
    text = "\n".join(",".join(line.split(",")[:4]) for line in GOOD.splitlines()) + "\n"
    with pytest.raises(LogError) as e:
        ingest(write(tmp_path, text), mapping_from_dict(MAPPING))
    assert e.value.column == "when" and e.value.row == 1
    assert "log.csv" in str(e.value) and "'when'" in str(e.value)


def test_unparseable_time_names_row_and_column(tmp_path):
    text = GOOD.replace("2025-01-07 09:02:00+01", "half past nine")
    with pytest.raises(LogError) as e:
        ingest(write(tmp_path, text), mapping_from_dict(MAPPING))
    assert e.value.row == 4 and e.value.column == "when"
    assert "half past nine" in str(e.value) and "log.csv:4" in str(e.value)


def test_mapping_names_absent_column(tmp_path):
    bad = {**MAPPING, "columns": {**MAPPING["columns"], "case": "Auftragsnummer"}}
    with pytest.raises(LogError) as e:
        ingest(write(tmp_path, GOOD), mapping_from_dict(bad))
    assert e.value.column == "Auftragsnummer"
    assert "columns: order, variant, where, what, when" in str(e.value)


def test_empty_file_and_header_only(tmp_path):
    with pytest.raises(LogError, match="empty"):
        ingest(write(tmp_path, ""), mapping_from_dict(MAPPING))
    with pytest.raises(LogError, match="no event rows"):
        ingest(write(tmp_path, "order,variant,where,what,when\n"), mapping_from_dict(MAPPING))


def test_non_csv_files(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
    with pytest.raises(LogError, match="not a text CSV") as e:
        ingest(write(tmp_path, png, "picture.csv"), mapping_from_dict(MAPPING))
    assert "picture.csv" in str(e.value)
    with pytest.raises(LogError, match="cannot read as Parquet"):
        ingest(write(tmp_path, GOOD, "log.parquet"), mapping_from_dict(MAPPING))
    with pytest.raises(LogError, match="not found"):
        ingest(tmp_path / "nothing.csv", mapping_from_dict(MAPPING))


def test_empty_case_value_names_the_row(tmp_path):
    text = GOOD.replace("o2,A,M1,out", ",A,M1,out")
    with pytest.raises(LogError) as e:
        ingest(write(tmp_path, text), mapping_from_dict(MAPPING))
    assert e.value.row == 5 and e.value.column == "order"


def test_no_known_event_word(tmp_path):
    bad = {**MAPPING, "events": {"enter": ["Eintritt"], "leave": ["Austritt"]}}
    with pytest.raises(LogError, match="no event word") as e:
        ingest(write(tmp_path, GOOD), mapping_from_dict(bad))
    assert e.value.column == "what"


def test_bad_mapping_files(tmp_path):
    p = write(tmp_path, "columns: {case: a, product: b}\n", "map.yaml")
    with pytest.raises(LogError) as e:
        load_mapping(p)
    assert e.value.column == "columns.location" and "map.yaml" in str(e.value)
    p = write(tmp_path, "columns: [unclosed\n", "broken.yaml")
    with pytest.raises(LogError, match="not valid YAML"):
        load_mapping(p)
    bad = {**MAPPING, "colour": "red"}
    with pytest.raises(LogError) as e:
        mapping_from_dict(bad)
    assert e.value.column == "colour"


def test_nothing_left_to_calibrate_is_a_clear_error(tmp_path):
    # an order that only enters: no departure, so no completed order
    text = "order,variant,where,what,when\no1,A,M1,in,2025-01-07 09:00:00+01\n"
    with pytest.raises(ValueError, match="no completed order"):
        calibrate(write(tmp_path, text), mapping_from_dict(MAPPING), simulate=False)


def test_filters_that_leave_nothing_and_bad_run_window(tmp_path):
    from vfactory.calibrate import clean

    p = write(tmp_path, GOOD)
    mp = mapping_from_dict({**MAPPING, "locations": {"stations": ["WS-*"]}})
    with pytest.raises(LogError, match="no usable event left.*unknown_location 4"):
        clean(ingest(p, mp), mp, str(p))
    mp = mapping_from_dict({**MAPPING, "run_window": ["yesterday", "today"]})
    with pytest.raises(LogError) as e:
        clean(ingest(p, mp), mp, str(p))
    assert e.value.column == "run_window" and "yesterday" in str(e.value)
