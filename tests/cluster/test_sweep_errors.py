"""A sweep reports a failing point in that point's row and goes on with the others.

The heat-treatment example with a furnace at 10 °C is refused by the layout's physics checks
(colder than the part: no soak level is ever reached); 860 °C is an ordinary point. A sweep where
every point is refused cannot run at all and says why, naming a point.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vfactory import layout
from vfactory.sweep import SweepError, sweep

LINE = Path(__file__).resolve().parents[2] / "examples" / "heat_treatment" / "line.yaml"
PATH = "parameters.furnace_temperature_c"


def test_refused_point_is_that_rows_error(tmp_path, monkeypatch):
    monkeypatch.setenv("VFACTORY_CACHE_DIR", str(tmp_path / "cache"))
    factory = layout.load(LINE)
    df = sweep(factory, [{PATH: 10}, {PATH: 860}], kpis=["throughput_per_hour"], replications=2)
    cold, ok = df.iloc[0], df.iloc[1]
    assert isinstance(cold["error"], str)
    assert "point 0" in cold["error"] and "colder than the part" in cold["error"]
    assert cold["throughput_per_hour"] is None or cold["throughput_per_hour"] != cold["throughput_per_hour"]
    assert not isinstance(ok["error"], str)
    assert ok["throughput_per_hour"] > 0 and ok["throughput_per_hour.ci_low"] <= ok["throughput_per_hour"]


def test_sweep_where_every_point_is_refused_says_so():
    factory = layout.load(LINE)
    with pytest.raises(SweepError, match=r"every point is refused; the first: point 0 .*=5\)"):
        sweep(factory, [{PATH: 5}, {PATH: 10}], kpis=["throughput_per_hour"], replications=2)
