"""Orders on a line layout → a scheduling :class:`Problem` (a flexible job shop with setups).

Each station's servers become identical parallel machines named ``<station>#<i>`` (i = 1 …
servers), all of them alternatives for every operation at that station.  An order is one lot that
follows its product's route without lot splitting; an operation lasts ``quantity × mean process
time`` (at a batch station ``ceil(quantity / batch_size) × mean batch time``), in the layout's time
unit.  Setups are the means of the station's changeover matrix (its ``default`` for pairs not in
the matrix).  The plan ignores buffers, scrap and the shift calendar; :mod:`.replay` says how far
reality drifts from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from vfactory.layout import SECONDS_PER, Distribution, Factory, Station
from vfactory.schedule.problem import (
    Operation,
    Order,
    Problem,
    ProblemError,
    job_for,
    read_orders,
)

MACHINE_SEPARATOR = "#"


def machine_name(station: str, server: int) -> str:
    """Machine name of server ``server`` (0-based, as in the simulation) of ``station``."""
    return f"{station}{MACHINE_SEPARATOR}{server + 1}"


def machine_server(factory: Factory, machine: str) -> tuple[str, int]:
    """``"milling#2"`` → ``("milling", 1)``: station and 0-based server index in ``factory``."""
    station, sep, number = machine.rpartition(MACHINE_SEPARATOR)
    spec = factory.stations.get(station) if sep else None
    if spec is None or not number.isdigit() or not 1 <= int(number) <= spec.servers:
        raise ProblemError(
            f"machine {machine!r} is not a server of the layout {factory.name!r}; expected "
            f"'<station>{MACHINE_SEPARATOR}<1..servers>' with stations {sorted(factory.stations)}"
        )
    return station, int(number) - 1


def station_machines(factory: Factory) -> list[str]:
    """All machines of the layout, station by station in layout order."""
    return [machine_name(s, i) for s, spec in factory.stations.items() for i in range(spec.servers)]


def mean_time(d: Distribution, time_unit: str) -> float:
    """Mean of ``d`` in ``time_unit`` (a distribution may state its own unit)."""
    factor = SECONDS_PER[d.unit] / SECONDS_PER[time_unit] if d.unit else 1.0
    return d.mean_value * factor


def cycles(quantity: float, station: Station) -> int:
    """Number of process cycles for a lot of ``quantity`` parts: parts, or batches at an oven."""
    return math.ceil(round(quantity) / station.batch_size)


def operation_time(factory: Factory, station: str, product: str, quantity: float) -> float:
    """Expected duration of a lot of ``quantity`` parts of ``product`` at ``station``."""
    spec = factory.stations[station]
    return cycles(quantity, spec) * mean_time(spec.process_time_for(product), factory.time_unit)


def changeover(station: Station, prev: str, nxt: str) -> Distribution | None:
    """The changeover distribution from ``prev`` to ``nxt`` (None: no setup), as the simulation."""
    if prev == nxt or station.setup is None:
        return None
    return station.setup.changeover.get(prev, {}).get(nxt, station.setup.default)


def setup_table(factory: Factory) -> dict[str, dict[tuple[str, str], float]]:
    """Mean setup times per machine and ordered pair of products routed through its station."""
    table: dict[str, dict[tuple[str, str], float]] = {}
    for sname, spec in factory.stations.items():
        if spec.setup is None:
            continue
        products = [p for p, prod in factory.products.items() if sname in prod.route]
        pairs: dict[tuple[str, str], float] = {}
        for a in products:
            for b in products:
                d = changeover(spec, a, b)
                if d is not None:
                    pairs[(a, b)] = mean_time(d, factory.time_unit)
        if pairs:
            for i in range(spec.servers):
                table[machine_name(sname, i)] = dict(pairs)
    return table


def problem_from_layout(
    factory: Factory, orders: Iterable[Order] | str | Path, *, name: str = ""
) -> Problem:
    """One job per order on the layout's stations (see the module docstring).

    ``orders`` is a list of :class:`Order` or the path of an orders file (CSV or YAML).  An order
    naming a product the layout does not know, or a fractional quantity of parts, is a
    :class:`ProblemError` naming the order's ``file:line``.
    """
    if isinstance(orders, str | Path):
        orders = read_orders(orders)
    jobs = []
    for o in orders:
        where = f"{o.source}: " if o.source else f"order {o.id!r}: "
        product = factory.products.get(o.product)
        if product is None:
            raise ProblemError(
                f"{where}field 'product': unknown product {o.product!r}; "
                f"the layout {factory.name!r} makes {sorted(factory.products)}"
            )
        if not float(o.quantity).is_integer():
            raise ProblemError(
                f"{where}field 'quantity': expected a whole number of parts, found {o.quantity:g}"
            )
        ops = []
        for sname in product.route:
            d = operation_time(factory, sname, o.product, o.quantity)
            n = factory.stations[sname].servers
            ops.append(Operation(tuple((machine_name(sname, i), d) for i in range(n))))
        jobs.append(job_for(o, ops))
    if not jobs:
        raise ProblemError("no orders to schedule")
    return Problem(
        jobs=tuple(jobs),
        machines=tuple(station_machines(factory)),
        setups=setup_table(factory),
        name=name or factory.name,
    )
