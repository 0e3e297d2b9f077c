"""Bad layouts fail before anything runs, pointing at file:line:column, the field and what was expected."""

from __future__ import annotations

import textwrap

import pytest

from vfactory import layout

GOOD = """\
factory:
  name: demo
  time_unit: min
  run_length: 1000
  warmup: 100
repair_crews:
  crew: {size: 1}
products:
  part:
    route: [saw, lathe]
    arrival:
      interarrival: {dist: exponential, mean: 5}
stations:
  saw:
    process_time: {dist: lognormal, mean: 2, cv: 0.2}
  lathe:
    buffer: 3
    process_time: 4
    failures:
      - {name: jam, mtbf: {dist: exponential, mean: 500}, mttr: 20, crew: crew}
"""


def test_the_good_layout_is_valid():
    f = layout.loads(GOOD, "good.yaml")
    assert list(f.stations) == ["saw", "lathe"]
    assert f.stations["lathe"].process_time.value == 4


# (description, replacement of a line of GOOD or a whole text, expected line, expected path, expected words)
CASES = [
    (
        "unknown key with did-you-mean",
        ("  lathe:\n    buffer: 3", "  lathe:\n    bufer: 3"),
        17,
        "stations.lathe.bufer",
        ["unknown key 'bufer'", "did you mean 'buffer'"],
    ),
    (
        "unknown top-level section",
        ("products:", "prodcts:"),
        8,
        "prodcts",
        ["did you mean 'products'"],
    ),
    (
        "unknown distribution family",
        ("{dist: lognormal, mean: 2, cv: 0.2}", "{dist: lognormel, mean: 2, cv: 0.2}"),
        15,
        "stations.saw.process_time.dist",
        ["lognormel"],
    ),
    (
        "distribution missing its cv",
        ("{dist: lognormal, mean: 2, cv: 0.2}", "{dist: lognormal, mean: 2}"),
        15,
        "stations.saw.process_time",
        ["needs", "cv"],
    ),
    (
        "distribution with a foreign parameter",
        ("{dist: exponential, mean: 5}", "{dist: exponential, mean: 5, cv: 1}"),
        12,
        "products.part.arrival.interarrival",
        ["does not take cv"],
    ),
    (
        "negative mean",
        ("{dist: exponential, mean: 5}", "{dist: exponential, mean: -5}"),
        12,
        "products.part.arrival.interarrival.mean",
        ["greater than 0", "-5"],
    ),
    (
        "text where a number is expected",
        ("    buffer: 3", "    buffer: three"),
        17,
        "stations.lathe.buffer",
        ["integer", "three"],
    ),
    (
        "negative buffer",
        ("    buffer: 3", "    buffer: -1"),
        17,
        "stations.lathe.buffer",
        ["greater than or equal to 0"],
    ),
    (
        "zero servers",
        ("    buffer: 3", "    buffer: 3\n    servers: 0"),
        18,
        "stations.lathe.servers",
        ["greater than or equal to 1"],
    ),
    (
        "route names a missing station with suggestion",
        ("route: [saw, lathe]", "route: [saw, lahte]"),
        10,
        "products.part.route[1]",
        ["unknown station 'lahte'", "did you mean 'lathe'"],
    ),
    (
        "failure names a missing crew",
        ("crew: crew}", "crew: crews}"),
        20,
        "stations.lathe.failures[0].crew",
        ["unknown repair crew 'crews'", "did you mean 'crew'"],
    ),
    (
        "per-product time for an unknown product",
        ("    process_time: 4", "    process_time: {part: 4, prt: 5}"),
        18,
        "stations.lathe.process_time.prt",
        ["unknown product 'prt'"],
    ),
    (
        "missing required field",
        ("  run_length: 1000\n", ""),
        1,
        "factory.run_length",
        ["required", "run_length"],
    ),
    (
        "warm-up not shorter than the run",
        ("  warmup: 100", "  warmup: 5000"),
        5,
        "factory.warmup",
        ["warmup", "shorter"],
    ),
    (
        "bad time unit",
        ("  time_unit: min", "  time_unit: minutes"),
        3,
        "factory.time_unit",
        ["'s', 'min' or 'h'", "minutes"],
    ),
    (
        "scrap probability above 1",
        ("    buffer: 3", "    buffer: 3\n    scrap: 1.5"),
        18,
        "stations.lathe.scrap",
        ["less than or equal to 1"],
    ),
    (
        "station on no route",
        ("stations:\n", "stations:\n  spare:\n    process_time: 1\n"),
        14,
        "stations.spare",
        ["on no product's route"],
    ),
    (
        "duplicate key",
        ("    buffer: 3", "    buffer: 3\n    buffer: 4"),
        18,
        "stations.lathe.buffer",
        ["duplicate key"],
    ),
    (
        "YAML syntax error",
        ("route: [saw, lathe]", "route: [saw, lathe"),
        11,
        "",
        ["YAML syntax error"],
    ),
    ("tab indentation", ("    buffer: 3", "\tbuffer: 3"), 17, "", ["YAML syntax error"]),
    (
        "route is a string, not a list",
        ("route: [saw, lathe]", "route: saw"),
        10,
        "products.part.route",
        ["tuple", "saw"],
    ),
    (
        "arrival neither a process nor 'saturated'",
        (
            "    arrival:\n      interarrival: {dist: exponential, mean: 5}\n",
            "    arrival: saturate\n",
        ),
        11,
        "products.part.arrival",
        ["saturated"],
    ),
    (
        "station name with a space",
        ("  saw:\n", "  saw blade:\n"),
        14,
        "stations.saw blade",
        ["letters, digits", "no spaces"],
    ),
    (
        "unknown failure mode",
        ("{name: jam,", "{name: jam, mode: sometimes,"),
        20,
        "stations.lathe.failures[0].mode",
        ["'time' or 'operation'", "sometimes"],
    ),
    (
        "normal with a huge cv",
        ("{dist: lognormal, mean: 2, cv: 0.2}", "{dist: normal, mean: 2, cv: 0.9}"),
        15,
        "stations.saw.process_time",
        ["lognormal or gamma"],
    ),
    (
        "triangular out of order",
        ("{dist: lognormal, mean: 2, cv: 0.2}", "{dist: triangular, low: 3, mode: 1, high: 4}"),
        15,
        "stations.saw.process_time",
        ["low <= mode <= high"],
    ),
    (
        "YAML anchors and aliases refused",
        ("  crew: {size: 1}", "  crew: &c {size: 1}\n  other: *c"),
        8,
        "",
        ["aliases"],
    ),
    (
        "empirical file missing",
        ("    process_time: 4", "    process_time: {dist: empirical, file: times.csv, column: t}"),
        18,
        "stations.lathe.process_time.file",
        ["not found"],
    ),
    (
        "empirical file outside the job folder",
        (
            "    process_time: 4",
            "    process_time: {dist: empirical, file: ../etc/passwd, column: t}",
        ),
        18,
        "stations.lathe.process_time.file",
        ["relative path inside"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_layout_is_located(case, tmp_path):
    _, (old, new), line, path, words = case
    assert old in GOOD, old
    text = GOOD.replace(old, new, 1)
    f = tmp_path / "line.yaml"
    f.write_text(text)
    with pytest.raises(layout.LayoutError) as info:
        layout.load(f)
    issues = info.value.issues
    assert issues, "a LayoutError lists at least one issue"
    first = issues[0]
    assert first.file == str(f)
    assert first.line == line, f"{first} (expected line {line})"
    assert first.column is not None and first.column >= 1
    if path:
        assert first.path == path, str(first)
    message = str(info.value)
    for w in words:
        assert w in message, f"{w!r} not in: {message}"
    # the text form is file:line:column: path: message
    assert message.startswith(f"{f}:{line}:")


def test_at_least_twenty_malformed_layouts():
    assert len(CASES) >= 20


def test_empty_and_non_mapping_files(tmp_path):
    for text, words in [
        ("", "empty"),
        ("- a\n- b\n", "expected a mapping"),
        ("just text", "expected a mapping"),
    ]:
        f = tmp_path / "x.yaml"
        f.write_text(text)
        with pytest.raises(layout.LayoutError, match=words):
            layout.load(f)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(layout.LayoutError, match="file not found"):
        layout.load(tmp_path / "nope.yaml")
    b = tmp_path / "bin.yaml"
    b.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(layout.LayoutError, match="not UTF-8"):
        layout.load(b)


def test_every_problem_is_reported_at_once(tmp_path):
    text = GOOD.replace("route: [saw, lathe]", "route: [sax, lathe]").replace(
        "crew: crew}", "crew: nobody}"
    )
    with pytest.raises(layout.LayoutError) as info:
        layout.loads(text, "x.yaml")
    paths = [i.path for i in info.value.issues]
    assert "products.part.route[0]" in paths and "stations.lathe.failures[0].crew" in paths


def test_empirical_distribution_reads_the_csv(tmp_path):
    (tmp_path / "times.csv").write_text("order,cycle_s\n1,60\n2,90\n3,\n4,120\n")
    text = GOOD.replace(
        "    process_time: 4",
        "    process_time: {dist: empirical, file: times.csv, column: cycle_s, unit: s}",
    )
    (tmp_path / "line.yaml").write_text(text)
    f = layout.load(tmp_path / "line.yaml")
    d = f.stations["lathe"].process_time
    assert d.values == (60.0, 90.0, 120.0)
    assert d.unit == "s"
    # a wrong column is named with the columns that exist
    (tmp_path / "bad.yaml").write_text(text.replace("column: cycle_s", "column: cycle"))
    with pytest.raises(layout.LayoutError, match=r"no column 'cycle'.*did you mean 'cycle_s'"):
        layout.load(tmp_path / "bad.yaml")
    (tmp_path / "t2.csv").write_text("cycle_s\n60\nabc\n")
    (tmp_path / "bad2.yaml").write_text(text.replace("times.csv", "t2.csv"))
    with pytest.raises(layout.LayoutError, match=r"t2.csv:3: cycle_s='abc' is not a number"):
        layout.load(tmp_path / "bad2.yaml")


def test_override_builds_a_validated_scenario():
    f = layout.loads(GOOD, "good.yaml")
    g = layout.override(f, {"stations.lathe.buffer": 7, "stations.saw.servers": 2})
    assert g.stations["lathe"].buffer == 7 and g.stations["saw"].servers == 2
    assert f.stations["lathe"].buffer == 3  # the original is immutable
    with pytest.raises(layout.LayoutError, match="greater than or equal to 0"):
        layout.override(f, {"stations.lathe.buffer": -2})
    with pytest.raises(layout.LayoutError, match="did you mean 'lathe'"):
        layout.override(f, {"stations.lath.buffer": 2})


def test_json_schema_describes_the_layout():
    s = layout.json_schema()
    assert s["title"] == "vfactory layout"
    assert set(s["required"]) == {"factory", "products", "stations"}
    station = s["$defs"]["Station"]["properties"]
    assert "buffer" in station and "description" in station["buffer"]


def test_schema_accepts_the_examples_and_rejects_a_typo():
    from pathlib import Path

    import jsonschema
    import yaml

    schema = layout.json_schema()
    root = Path(__file__).resolve().parents[2] / "examples"
    for p in sorted(root.glob("*/line.yaml")):
        jsonschema.validate(yaml.safe_load(p.read_text()), schema)
    bad = yaml.safe_load(textwrap.dedent(GOOD).replace("route:", "rout:"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
