"""Orders (CSV / YAML) onto a routing table, problem YAML, and the errors users see."""

from __future__ import annotations

import textwrap

import pytest

from vfactory.schedule.checker import check
from vfactory.schedule.planner import plan
from vfactory.schedule.problem import (
    ProblemError,
    problem_from_orders,
    read_orders,
    read_problem_yaml,
)

ROUTING = {
    "bracket": [[("press1", 2.0), ("press2", 2.5)], [("oven", 4.0)]],
    "hinge": [[("press1", 1.0)], [("oven", 3.0)], [("press2", 0.5)]],
}


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"))
    return p


def test_csv_orders_become_jobs_with_quantity_times_unit_duration(tmp_path):
    p = write(tmp_path, "orders.csv", """
        # comment lines and blank lines are allowed
        id,product,quantity,release,due,weight

        A1,bracket,10,0,80,2
        B7,hinge,4,5,,1
    """)
    orders = read_orders(p)
    assert [o.id for o in orders] == ["A1", "B7"]
    assert orders[1].due is None and orders[1].release == 5
    pb = problem_from_orders(orders, ROUTING)
    a1 = pb.job("A1")
    assert a1.operations[0].alternatives == (("press1", 20.0), ("press2", 25.0))
    assert a1.operations[1].alternatives == (("oven", 40.0),)
    assert a1.due == 80 and a1.weight == 2 and a1.product == "bracket"
    assert [op.machines for op in pb.job("B7").operations] == [("press1",), ("oven",), ("press2",)]


def test_yaml_orders_and_problem_file_plan_feasibly(tmp_path):
    p = write(tmp_path, "shop.yaml", """
        name: press shop
        routing:
          bracket: [[[press1, 2.0], [press2, 2.5]], [[oven, 4.0]]]
          hinge: [[[press1, 1.0]], [[oven, 3.0]], [[press2, 0.5]]]
        setups:
          press1: [{from: bracket, to: hinge, time: 3}, {from: hinge, to: bracket, time: 2}]
        orders:
          - {product: bracket, quantity: 3, release: 0, due: 20, weight: 2}
          - {product: hinge, quantity: 2, release: 1, due: 12}
          - {product: bracket, quantity: 1, release: 2, due: 15, weight: 3}
    """)
    pb = read_problem_yaml(p)
    assert pb.name == "press shop" and len(pb.jobs) == 3
    assert pb.setups["press1"][("bracket", "hinge")] == 3
    s = plan(pb, "weighted_sum:1,1", time_limit=10)
    assert check(pb, s) == [] and s.status == "optimal"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("o.csv", "product,quantity,release,due,weight\nbracket,10,0,80,2\nhinge,x,0,80,1\n",
         r"o\.csv:3: field 'quantity': expected a number, found 'x'"),
        ("o.csv", "product,quantity,release,due,weight\nbracket,10,0,80\n",
         r"o\.csv:2: expected 5 fields"),
        ("o.csv", "product,qty\nbracket,1\n", r"o\.csv:1: unknown column\(s\) \['qty'\]"),
        ("o.csv", "product,quantity,release\nbracket,-2,0\n",
         r"o\.csv:2: field 'quantity': expected a number >= 0, found '-2'"),
        ("o.csv", "product,quantity,release\nbracket,1,-1\n", r"o\.csv:2: field 'release'"),
        ("o.yaml", "orders:\n  - {product: bracket, quantity: 1}\n  - {product: hinge, due: soon}\n",
         r"o\.yaml:3: field 'due': expected a number, found 'soon'"),
        ("o.yaml", "- {product: bracket}\n- {quantity: 3}\n", r"o\.yaml:2: field 'product'"),
        ("o.yaml", "orders:\n  - {product: bracket\n", r"o\.yaml:\d+: invalid YAML"),
        ("o.yaml", "- {product: bracket, quantity: 0}\n",
         r"o\.yaml:1: field 'quantity': expected a number > 0, found 0"),
        ("o.xlsx", "x", r"must be \.csv, \.yaml or \.yml"),
    ],
)
def test_bad_orders_file_names_file_line_and_field(tmp_path, name, text, message):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ProblemError, match=message):
        read_orders(p)


def test_unknown_product_points_at_the_order_line(tmp_path):
    p = write(tmp_path, "o.csv", "product,quantity\nbracket,1\nwidget,2\n")
    with pytest.raises(ProblemError, match=r"o\.csv:3: field 'product': unknown product 'widget'"):
        problem_from_orders(read_orders(p), ROUTING)


def test_duplicate_order_id(tmp_path):
    p = write(tmp_path, "o.csv", "id,product\nA,bracket\nA,hinge\n")
    with pytest.raises(ProblemError, match=r"o\.csv:3: duplicate order id 'A' \(first at .*o\.csv:2\)"):
        read_orders(p)
