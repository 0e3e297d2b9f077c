"""Orders on a line layout → a flexible job shop: machines, durations and setups from the layout.

Expected values are the means of the layout's distributions worked out by hand (triangular
(a+b+c)/3, uniform (a+b)/2), not taken from the code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vfactory.layout import load, loads
from vfactory.schedule.checker import check
from vfactory.schedule.from_layout import machine_server, problem_from_layout
from vfactory.schedule.planner import plan
from vfactory.schedule.problem import ProblemError, read_orders

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "machining_assembly"


@pytest.fixture(scope="module")
def machining():
    return load(EXAMPLE / "line.yaml")


def test_machines_durations_and_setups_of_the_machining_line(machining, tmp_path):
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "id,product,quantity,release,due,weight\nA1,housing_A,10,0,500,2\nB1,housing_B,4,30,,1\n"
    )
    p = problem_from_layout(machining, orders)
    # each server of a station is a machine; 2 milling centres and 2 assembly stations
    assert p.machines == (
        "milling#1", "milling#2", "drilling#1", "deburr#1", "wash#1",
        "assembly#1", "assembly#2", "leak_test#1", "pack#1",
    )  # fmt: skip
    a, b = p.jobs
    assert (a.id, a.product, a.release, a.due, a.weight) == ("A1", "housing_A", 0, 500, 2)
    assert (b.release, b.due) == (30, None)
    # the identical servers of a station are the alternatives of the operation there
    assert [op.machines for op in a.operations] == [
        ("milling#1", "milling#2"), ("drilling#1",), ("deburr#1",), ("wash#1",),
        ("assembly#1", "assembly#2"), ("leak_test#1",), ("pack#1",),
    ]  # fmt: skip
    # quantity × mean: lognormal 9, gamma 4.5, triangular (2.5+3+4.5)/3, constant 3,
    # lognormal 8, uniform (3+4)/2, constant 2 — per housing_A part
    expected_a = [90, 45, 10 * 10 / 3, 30, 80, 35, 20]
    for op, e in zip(a.operations, expected_a, strict=True):
        assert all(d == pytest.approx(e) for _, d in op.alternatives)
    expected_b = [4 * 12, 4 * 5.5, 4 * 10 / 3, 4 * 3, 4 * 11, 4 * 3.5, 4 * 2]
    assert [op.min_duration for op in b.operations] == pytest.approx(expected_b)
    # milling changes over with the triangular default (15+20+30)/3 both ways, nobody else does
    assert sorted(p.setups) == ["milling#1", "milling#2"]
    for m in ("milling#1", "milling#2"):
        assert p.setups[m] == pytest.approx(
            {("housing_A", "housing_B"): 65 / 3, ("housing_B", "housing_A"): 65 / 3}
        )
        assert p.setup(m, "housing_A", "housing_A") == 0
    assert p.name == "machining-assembly-line"
    assert machine_server(machining, "assembly#2") == ("assembly", 1)


def test_the_example_order_book_plans_feasibly(machining):
    orders = read_orders(EXAMPLE / "orders.csv")
    assert 12 <= len(orders) <= 20
    assert {o.product for o in orders} == {"housing_A", "housing_B"}
    assert all(o.due is not None and o.due > o.release for o in orders)
    p = problem_from_layout(machining, orders)
    s = plan(p, "tardiness", time_limit=1, method="dispatch")
    assert check(p, s) == []
    # the plan cannot beat the milling load split over its two machines
    milling = sum(j.operations[0].min_duration for j in p.jobs)
    assert s.makespan >= milling / 2


LINE = """
factory: {name: oven-line, time_unit: min, run_length: 1000}
products:
  a: {route: [saw, oven], arrival: saturated}
  b: {route: [oven], arrival: {interarrival: 10}}
stations:
  saw:
    process_time: {dist: lognormal, mean: 30, cv: 0.1, unit: s}
  oven:
    servers: 3
    batch_size: 30
    process_time: {dist: normal, mean: 120, cv: 0.03}
    setup:
      default: 5
      changeover:
        a: {b: {dist: uniform, low: 8, high: 12}}
"""


def test_batch_station_unit_conversion_and_changeover_matrix(tmp_path):
    f = loads(LINE)
    orders = tmp_path / "o.yaml"
    orders.write_text(
        "orders:\n  - {id: x, product: a, quantity: 45}\n  - {id: y, product: b, quantity: 30}\n"
    )
    p = problem_from_layout(f, orders)
    x, y = p.jobs
    assert x.operations[0].alternatives == (("saw#1", pytest.approx(45 * 0.5)),)  # 30 s = 0.5 min
    assert x.operations[1].machines == ("oven#1", "oven#2", "oven#3")
    assert x.operations[1].min_duration == pytest.approx(2 * 120)  # ceil(45 / 30) loads
    assert y.operations[0].min_duration == pytest.approx(120)  # exactly one load
    assert p.setups["oven#3"] == pytest.approx({("a", "b"): 10, ("b", "a"): 5})
    assert "saw#1" not in p.setups


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "product,quantity\nhousing_A,10\nhousing_C,5\n",
            "orders.csv:3: field 'product': unknown product 'housing_C'; "
            "the layout 'machining-assembly-line' makes ['housing_A', 'housing_B']",
        ),
        (
            "product,quantity\nhousing_A,2.5\n",
            "orders.csv:2: field 'quantity': expected a whole number of parts, found 2.5",
        ),
        ("product,quantity\nhousing_A,-3\n", "orders.csv:2: field 'quantity'"),
    ],
)
def test_bad_orders_name_file_and_line(machining, tmp_path, text, message):
    path = tmp_path / "orders.csv"
    path.write_text(text)
    with pytest.raises(ProblemError) as err:
        problem_from_layout(machining, path)
    assert message in str(err.value)


def test_unknown_product_in_yaml_orders_points_at_its_line(machining, tmp_path):
    path = tmp_path / "orders.yaml"
    path.write_text("orders:\n  - product: housing_A\n    quantity: 3\n  - product: gearbox\n")
    with pytest.raises(
        ProblemError, match=r"orders.yaml:4: field 'product': unknown product 'gearbox'"
    ):
        problem_from_layout(machining, path)


def test_machine_names_outside_the_layout_are_refused(machining):
    for bad in ("milling#3", "milling#0", "milling", "grinding#1"):
        with pytest.raises(ProblemError, match="is not a server of the layout"):
            machine_server(machining, bad)
