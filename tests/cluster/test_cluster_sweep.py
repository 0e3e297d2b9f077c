"""Sweep designs: counts and endpoints of factorial grids, the stratification property of
Latin hypercubes and the balance of Sobol nets, seeding, and clear errors."""

from __future__ import annotations

import pytest

from cluster.sweep import (
    SweepSpecError,
    design,
    full_factorial,
    latin_hypercube,
    parse_values,
    sobol,
)


def test_inclusive_integer_range_like_the_cli_example():
    values = parse_values("stations.furnace.temperature", "820:900:5")
    assert values[0] == 820 and values[-1] == 900 and len(values) == 17
    assert all(isinstance(v, int) for v in values)


def test_decimal_steps_land_on_round_values():
    assert parse_values("x", "0:1:0.1") == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert parse_values("x", "1:2:0.3") == [1.0, 1.3, 1.6, 1.9]  # stop not on the grid


def test_lists_and_single_values():
    assert parse_values("rule", "SPT,EDD, ATC") == ["SPT", "EDD", "ATC"]
    assert parse_values("buffer", "2,4,8") == [2, 4, 8]
    assert parse_values("shift", "8") == [8]


def test_full_factorial_is_the_cartesian_product():
    points = design({"a": "1:3:1", "b": "x,y", "c": "0.5"})
    assert len(points) == 3 * 2 * 1
    assert points[0] == {"a": 1, "b": "x", "c": 0.5}
    assert points[1] == {"a": 1, "b": "y", "c": 0.5}  # the last parameter varies fastest
    assert {(p["a"], p["b"]) for p in points} == {(a, b) for a in (1, 2, 3) for b in "xy"}
    assert full_factorial({}) == [{}]


def test_latin_hypercube_puts_one_point_in_each_stratum():
    n = 20
    points = latin_hypercube({"t": (820.0, 900.0), "time": (10.0, 30.0)}, n, seed=7)
    for name, (low, high) in {"t": (820.0, 900.0), "time": (10.0, 30.0)}.items():
        strata = sorted(int((p[name] - low) / (high - low) * n) for p in points)
        assert strata == list(range(n))


def test_sobol_points_are_balanced_and_seeded():
    n = 64
    bounds = {"t": (820.0, 900.0), "b": (1.0, 9.0), "s": (0.0, 1.0)}
    points = sobol(bounds, n, seed=3)
    for name, (low, high) in bounds.items():
        # A (t, m, s)-net in base 2: every dyadic interval of length 1/8 holds n/8 points.
        cells = [int((p[name] - low) / (high - low) * 8) for p in points]
        assert all(cells.count(c) == n // 8 for c in range(8))
    assert sobol(bounds, n, seed=3) == points
    assert sobol(bounds, n, seed=4) != points


def test_sampled_design_keeps_fixed_values_and_is_reproducible():
    specs = {"stations.furnace.temperature": "820:900", "stations.quench.medium": "oil"}
    a = design(specs, "lhs", n=8, seed=11)
    assert a == design(specs, "lhs", n=8, seed=11)
    assert all(p["stations.quench.medium"] == "oil" for p in a)
    assert all(820 <= p["stations.furnace.temperature"] <= 900 for p in a)


@pytest.mark.parametrize(
    ("specs", "kwargs", "message"),
    [
        ({"t": "820:900:0"}, {}, "step must be > 0"),
        ({"t": "900:820:5"}, {}, "below start"),
        ({"t": "820:nine:5"}, {}, "must be numbers"),
        ({"t": "1:2:3:4"}, {}, "start:stop:step"),
        ({"t": "820:900"}, {"method": "sobol", "n": 12}, "power of two"),
        ({"t": "820:900"}, {"method": "lhs"}, "number of points"),
        ({"t": "820:900"}, {"method": "grid"}, "unknown sweep method"),
        ({"t": "a,b"}, {"method": "lhs", "n": 4}, "start:stop range"),
        ({}, {}, "at least one parameter"),
    ],
)
def test_bad_specs_say_what_is_wrong(specs, kwargs, message):
    with pytest.raises(SweepSpecError, match=message):
        design(specs, **kwargs)


def test_error_names_the_parameter():
    with pytest.raises(SweepSpecError, match="'stations.furnace.temperature'"):
        parse_values("stations.furnace.temperature", "820:900:-5")
