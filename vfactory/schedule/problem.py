"""Plain-data scheduling problem: jobs made of operations on eligible machines.

One model covers the classic job shop (one eligible machine per operation), the flexible job shop
(several eligible machines, each with its own duration) and parallel machines with
sequence-dependent setups (one-operation jobs).  It knows nothing of the line layout: a routing
table ``{product: [[(machine, duration_per_unit), ...alternatives], ...operations]}`` turns orders
into jobs, so the layout only has to produce that table.

Also here: the reader of order files (CSV or YAML) and of problem YAML files, with errors that say
``file:line``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Routing = Mapping[str, Sequence[Sequence[tuple[str, float]]]]
"""``{product: [[(machine, duration per unit), ...alternatives], ...operations in route order]}``"""

SetupTable = Mapping[str, Mapping[tuple[str, str], float]]
"""``setup[machine][(previous product, next product)]``; a missing entry means no setup."""


class ProblemError(ValueError):
    """A scheduling input (order file, problem file, instance file) is malformed."""


@dataclass(frozen=True)
class Operation:
    """One step of a job: the machines that can do it, with the duration on each."""

    alternatives: tuple[tuple[str, float], ...]

    def __post_init__(self) -> None:
        if not self.alternatives:
            raise ProblemError("an operation needs at least one eligible machine")
        machines = [m for m, _ in self.alternatives]
        if len(set(machines)) != len(machines):
            raise ProblemError(f"an operation lists a machine twice: {machines}")
        for m, d in self.alternatives:
            if not (isinstance(d, int | float) and math.isfinite(d) and d >= 0):
                raise ProblemError(f"duration on machine {m!r} must be a finite number >= 0, got {d!r}")

    @property
    def machines(self) -> tuple[str, ...]:
        return tuple(m for m, _ in self.alternatives)

    def duration(self, machine: str) -> float:
        for m, d in self.alternatives:
            if m == machine:
                return d
        raise KeyError(machine)

    @property
    def min_duration(self) -> float:
        return min(d for _, d in self.alternatives)


@dataclass(frozen=True)
class Job:
    """An order on the shop floor: operations in route order, release, due date and weight."""

    id: str
    operations: tuple[Operation, ...]
    product: str = ""
    release: float = 0.0
    due: float | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.operations:
            raise ProblemError(f"job {self.id!r} has no operations")
        if self.release < 0:
            raise ProblemError(f"job {self.id!r}: release must be >= 0, got {self.release}")
        if self.weight < 0:
            raise ProblemError(f"job {self.id!r}: weight must be >= 0, got {self.weight}")


@dataclass(frozen=True)
class Problem:
    """A scheduling problem: jobs, machines and optional sequence-dependent setups."""

    jobs: tuple[Job, ...]
    machines: tuple[str, ...] = ()
    setups: Mapping[str, Mapping[tuple[str, str], float]] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        used: list[str] = []
        for job in self.jobs:
            for op in job.operations:
                for m in op.machines:
                    if m not in used:
                        used.append(m)
        if not self.machines:
            object.__setattr__(self, "machines", tuple(sorted(used, key=_natural_key)))
        unknown = sorted(set(used) - set(self.machines))
        if unknown:
            raise ProblemError(f"operations use machines not in the machine list: {unknown}")
        ids = [j.id for j in self.jobs]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ProblemError(f"duplicate job ids: {dup}")
        for m, table in self.setups.items():
            if m not in self.machines:
                raise ProblemError(f"setup table for unknown machine {m!r}")
            for key, t in table.items():
                if t < 0:
                    raise ProblemError(f"setup {m}{key} must be >= 0, got {t}")

    # --- convenience -------------------------------------------------------------------------
    @property
    def n_operations(self) -> int:
        return sum(len(j.operations) for j in self.jobs)

    @property
    def is_flexible(self) -> bool:
        return any(len(op.alternatives) > 1 for j in self.jobs for op in j.operations)

    @property
    def has_setups(self) -> bool:
        return any(t > 0 for table in self.setups.values() for t in table.values())

    @property
    def has_due_dates(self) -> bool:
        return any(j.due is not None for j in self.jobs)

    @property
    def is_integral(self) -> bool:
        """True when every time in the data is an integer (so optimal makespans are integers)."""
        values: list[float] = []
        for j in self.jobs:
            values.append(j.release)
            if j.due is not None:
                values.append(j.due)
            values.extend(d for op in j.operations for _, d in op.alternatives)
        values.extend(t for table in self.setups.values() for t in table.values())
        return all(float(v).is_integer() for v in values)

    def setup(self, machine: str, prev_product: str | None, next_product: str) -> float:
        """Setup time on ``machine`` between two products (0 before the first job)."""
        if prev_product is None:
            return 0.0
        table = self.setups.get(machine)
        if not table:
            return 0.0
        return float(table.get((prev_product, next_product), 0.0))

    def job(self, job_id: str) -> Job:
        for j in self.jobs:
            if j.id == job_id:
                return j
        raise KeyError(job_id)


def _natural_key(name: str) -> tuple:
    digits = "".join(c for c in name if c.isdigit())
    prefix = "".join(c for c in name if not c.isdigit())
    return (prefix, int(digits) if digits else -1, name)


# --- orders ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Order:
    """A customer order: ``quantity`` units of ``product``, released, due and weighted."""

    id: str
    product: str
    quantity: float = 1.0
    release: float = 0.0
    due: float | None = None
    weight: float = 1.0
    source: str = ""  # "file:line", for error messages downstream


_ORDER_FIELDS = ("id", "product", "quantity", "release", "due", "weight")


def _number(value: Any, where: str, name: str, *, minimum: float | None = 0.0) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ProblemError(f"{where}: field '{name}': expected a number, found {value!r}") from None
    if not math.isfinite(x):
        raise ProblemError(f"{where}: field '{name}': expected a finite number, found {value!r}")
    if minimum is not None and x < minimum:
        raise ProblemError(f"{where}: field '{name}': expected a number >= {minimum:g}, found {value!r}")
    return x


def _order_from_record(rec: Mapping[str, Any], where: str, index: int) -> Order:
    unknown = sorted(set(rec) - set(_ORDER_FIELDS))
    if unknown:
        raise ProblemError(
            f"{where}: unknown field(s) {unknown}; expected some of {list(_ORDER_FIELDS)}"
        )
    product = rec.get("product")
    if product is None or str(product).strip() == "":
        raise ProblemError(f"{where}: field 'product': expected a product name, found nothing")
    def field(name: str, default: float | None) -> float | None:
        raw = rec.get(name)
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return default  # an empty CSV cell or a missing key means the default
        return _number(raw, where, name)

    quantity = field("quantity", 1.0)
    assert quantity is not None
    if quantity <= 0:
        raise ProblemError(f"{where}: field 'quantity': expected a number > 0, found {quantity:g}")
    return Order(
        id=str(rec.get("id") or f"O{index + 1}"),
        product=str(product).strip(),
        quantity=quantity,
        release=field("release", 0.0) or 0.0,
        due=field("due", None),
        weight=field("weight", 1.0) or 0.0,
        source=where,
    )


def read_orders(path: str | Path) -> list[Order]:
    """Read orders from CSV (header: product, quantity, release, due, weight[, id]) or YAML.

    YAML is either a list of mappings or a mapping with key ``orders``.  Errors name the file and
    line of the offending record.
    """
    path = Path(path)
    if not path.is_file():
        raise ProblemError(f"{path}: orders file not found")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _read_orders_yaml(path)
    if suffix in (".csv", ".txt"):
        return _read_orders_csv(path)
    raise ProblemError(f"{path}: orders file must be .csv, .yaml or .yml, found '{suffix}'")


def _read_orders_csv(path: Path) -> list[Order]:
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    rows = list(csv.reader(lines))
    # skip blank lines and '#' comments, but keep the real line numbers
    numbered = [(i + 1, r) for i, r in enumerate(rows) if r and not r[0].lstrip().startswith("#")]
    numbered = [(n, r) for n, r in numbered if any(c.strip() for c in r)]
    if not numbered:
        raise ProblemError(f"{path}:1: empty orders file; expected a header line 'product,quantity,release,due,weight'")
    header_line, header = numbered[0]
    header = [h.strip().lower() for h in header]
    if "product" not in header:
        raise ProblemError(
            f"{path}:{header_line}: header must name a 'product' column; found {header}"
        )
    unknown = [h for h in header if h not in _ORDER_FIELDS]
    if unknown:
        raise ProblemError(
            f"{path}:{header_line}: unknown column(s) {unknown}; expected some of {list(_ORDER_FIELDS)}"
        )
    orders = []
    for k, (line, row) in enumerate(numbered[1:]):
        where = f"{path}:{line}"
        if len(row) != len(header):
            raise ProblemError(f"{where}: expected {len(header)} fields ({','.join(header)}), found {len(row)}")
        rec = {h: c.strip() for h, c in zip(header, row, strict=True)}
        orders.append(_order_from_record(rec, where, k))
    _check_unique_ids(orders)
    return orders


def _yaml_records(path: Path) -> list[tuple[int, Any]]:
    """Return (line, python value) for each entry of the top-level orders list."""
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ProblemError(f"{path}:{line}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if root is None:
        raise ProblemError(f"{path}:1: empty orders file")
    node = root
    if isinstance(root, yaml.MappingNode):
        node = None
        for k, v in root.value:
            if k.value == "orders":
                node = v
        if node is None:
            raise ProblemError(f"{path}:{root.start_mark.line + 1}: expected a key 'orders'")
    if not isinstance(node, yaml.SequenceNode):
        raise ProblemError(f"{path}:{node.start_mark.line + 1}: expected a list of orders")
    loader_cls = yaml.SafeLoader
    out = []
    for item in node.value:
        loader = loader_cls("")
        value = loader.construct_document(item)
        out.append((item.start_mark.line + 1, value))
    return out


def _read_orders_yaml(path: Path) -> list[Order]:
    orders = []
    for k, (line, rec) in enumerate(_yaml_records(path)):
        where = f"{path}:{line}"
        if not isinstance(rec, dict):
            raise ProblemError(f"{where}: expected a mapping with product, quantity, ...; found {rec!r}")
        orders.append(_order_from_record(rec, where, k))
    _check_unique_ids(orders)
    return orders


def _check_unique_ids(orders: Sequence[Order]) -> None:
    seen: dict[str, str] = {}
    for o in orders:
        if o.id in seen:
            raise ProblemError(f"{o.source}: duplicate order id {o.id!r} (first at {seen[o.id]})")
        seen[o.id] = o.source


def job_for(order: Order, operations: Iterable[Operation]) -> Job:
    """The job of one order: its operations, with the order's product, dates and weight."""
    return Job(
        id=order.id,
        operations=tuple(operations),
        product=order.product,
        release=order.release,
        due=order.due,
        weight=order.weight,
    )


def problem_from_orders(
    orders: Iterable[Order],
    routing: Routing,
    setups: SetupTable | None = None,
    *,
    machines: Sequence[str] = (),
    name: str = "",
) -> Problem:
    """One job per order; each operation's duration is ``quantity × duration per unit``.

    The order is treated as one lot that visits the route's machines in sequence (no lot
    splitting).  ``routing`` comes from the caller (later: from the layout's stations).
    """
    jobs = []
    for o in orders:
        if o.product not in routing:
            where = f"{o.source}: " if o.source else ""
            raise ProblemError(
                f"{where}field 'product': unknown product {o.product!r}; "
                f"the routing knows {sorted(routing)}"
            )
        ops = [
            Operation(tuple((str(m), float(d) * o.quantity) for m, d in step))
            for step in routing[o.product]
        ]
        jobs.append(job_for(o, ops))
    return Problem(jobs=tuple(jobs), machines=tuple(machines), setups=dict(setups or {}), name=name)


# --- problem YAML ------------------------------------------------------------------------------
def read_problem_yaml(path: str | Path, orders_path: str | Path | None = None) -> Problem:
    """Read a problem YAML: ``routing`` + ``orders`` (inline or from ``orders_path``) + ``setups``.

    ::

        name: press shop
        machines: [press1, press2, oven]        # optional
        routing:                                # product: list of operations
          bracket: [[[press1, 2.0], [press2, 2.5]], [[oven, 4.0]]]
        setups:                                 # optional, per machine
          press1: [{from: bracket, to: hinge, time: 3}]
        orders: [{product: bracket, quantity: 10, release: 0, due: 80, weight: 2}]
    """
    path = Path(path)
    if not path.is_file():
        raise ProblemError(f"{path}: problem file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ProblemError(f"{path}:{line}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict) or "routing" not in data:
        raise ProblemError(f"{path}:1: expected a mapping with keys 'routing' and 'orders'")
    routing: dict[str, list[list[tuple[str, float]]]] = {}
    for product, ops in (data["routing"] or {}).items():
        if not isinstance(ops, list) or not ops:
            raise ProblemError(f"{path}: routing.{product}: expected a list of operations")
        steps = []
        for i, alts in enumerate(ops):
            if not isinstance(alts, list) or not alts:
                raise ProblemError(
                    f"{path}: routing.{product}[{i}]: expected a list of [machine, duration] pairs"
                )
            pairs = []
            for a in alts:
                if not (isinstance(a, list | tuple) and len(a) == 2):
                    raise ProblemError(
                        f"{path}: routing.{product}[{i}]: expected [machine, duration], found {a!r}"
                    )
                pairs.append((str(a[0]), _number(a[1], f"{path}: routing.{product}[{i}]", "duration")))
            steps.append(pairs)
        routing[str(product)] = steps
    setups: dict[str, dict[tuple[str, str], float]] = {}
    for machine, entries in (data.get("setups") or {}).items():
        table = setups.setdefault(str(machine), {})
        for e in entries or []:
            if not isinstance(e, dict) or not {"from", "to", "time"} <= set(e):
                raise ProblemError(
                    f"{path}: setups.{machine}: expected entries {{from, to, time}}, found {e!r}"
                )
            table[(str(e["from"]), str(e["to"]))] = _number(e["time"], f"{path}: setups.{machine}", "time")
    if orders_path is not None:
        orders = read_orders(orders_path)
    elif "orders" in data:
        orders = _read_orders_yaml(path)
    else:
        raise ProblemError(f"{path}: no 'orders' in the file and no orders file given (--orders)")
    return problem_from_orders(
        orders,
        routing,
        setups,
        machines=[str(m) for m in data.get("machines") or []],
        name=str(data.get("name") or path.stem),
    )
