"""The result of scheduling: planned operations, objective, status, bound and gap.

A :class:`Schedule` lists, for each operation, the machine, planned start and end; it exposes the
per-machine sequences (what a line simulation replays) and exports to dict/JSON/CSV.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vfactory.schedule.problem import Problem

OBJECTIVES = ("makespan", "tardiness", "weighted_sum")

STATUSES = ("optimal", "feasible", "time-limit", "fallback")
"""``optimal``: proven (gap 0). ``time-limit``: the solver stopped at its time limit with a
schedule. ``feasible``: a schedule without proof (heuristics, or a solver stopping otherwise).
``fallback``: the exact solver gave nothing usable, the heuristic schedule is returned."""


@dataclass(frozen=True)
class Objective:
    """What to minimise: ``makespan``, ``tardiness`` (total weighted) or a ``weighted_sum``."""

    kind: str = "makespan"
    makespan_weight: float = 1.0
    tardiness_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.kind!r}")

    @classmethod
    def parse(cls, spec: str | Objective) -> Objective:
        """``"makespan"``, ``"tardiness"``, ``"weighted_sum"`` or ``"weighted_sum:1,5"`` (weights)."""
        if isinstance(spec, Objective):
            return spec
        kind, _, weights = spec.partition(":")
        kind = {"twt": "tardiness", "weighted_tardiness": "tardiness"}.get(kind, kind)
        if weights:
            try:
                a, b = (float(x) for x in weights.split(","))
            except ValueError:
                raise ValueError(
                    f"objective weights must be 'weighted_sum:<makespan w>,<tardiness w>', got {spec!r}"
                ) from None
            return cls(kind, a, b)
        return cls(kind)

    @property
    def coefficients(self) -> tuple[float, float]:
        """(weight of makespan, weight of total weighted tardiness)."""
        if self.kind == "makespan":
            return (1.0, 0.0)
        if self.kind == "tardiness":
            return (0.0, 1.0)
        return (self.makespan_weight, self.tardiness_weight)

    def value(self, makespan: float, weighted_tardiness: float) -> float:
        a, b = self.coefficients
        return a * makespan + b * weighted_tardiness

    def __str__(self) -> str:
        if self.kind == "weighted_sum":
            return f"weighted_sum:{self.makespan_weight:g},{self.tardiness_weight:g}"
        return self.kind


@dataclass(frozen=True)
class ScheduledOperation:
    """Operation ``index`` of job ``job`` planned on ``machine`` from ``start`` to ``end``."""

    job: str
    index: int
    machine: str
    start: float
    end: float
    product: str = ""


def completion_times(ops: Iterable[ScheduledOperation]) -> dict[str, float]:
    out: dict[str, float] = {}
    for o in ops:
        out[o.job] = max(out.get(o.job, -math.inf), o.end)
    return out


def kpis(problem: Problem, ops: Iterable[ScheduledOperation]) -> dict[str, float]:
    """Makespan, total weighted tardiness and number of tardy jobs of a list of operations."""
    comp = completion_times(ops)
    twt = 0.0
    tardy = 0
    for j in problem.jobs:
        if j.due is not None and j.id in comp:
            t = max(0.0, comp[j.id] - j.due)
            twt += j.weight * t
            tardy += t > 1e-9
    return {
        "makespan": max(comp.values(), default=0.0),
        "total_weighted_tardiness": twt,
        "tardy_jobs": float(tardy),
    }


@dataclass
class Schedule:
    """A production schedule and how it was obtained."""

    operations: list[ScheduledOperation]
    objective: str
    objective_value: float
    makespan: float
    total_weighted_tardiness: float
    status: str
    method: str
    bound: float | None = None
    gap: float | None = None
    solve_time_s: float = 0.0
    problem_name: str = ""
    machines: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def sequences(self) -> dict[str, list[ScheduledOperation]]:
        """Per machine, its operations in planned order (the dispatch list a simulation replays)."""
        seq: dict[str, list[ScheduledOperation]] = {m: [] for m in self.machines}
        for o in sorted(self.operations, key=lambda o: (o.start, o.end)):
            seq.setdefault(o.machine, []).append(o)
        return seq

    def operation(self, job: str, index: int) -> ScheduledOperation:
        for o in self.operations:
            if o.job == job and o.index == index:
                return o
        raise KeyError((job, index))

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem_name,
            "objective": self.objective,
            "objective_value": self.objective_value,
            "makespan": self.makespan,
            "total_weighted_tardiness": self.total_weighted_tardiness,
            "status": self.status,
            "method": self.method,
            "bound": self.bound,
            "gap": self.gap,
            "solve_time_s": self.solve_time_s,
            "machines": list(self.machines),
            "notes": list(self.notes),
            "operations": [asdict(o) for o in self.operations],
            "sequences": {
                m: [[o.job, o.index] for o in ops] for m, ops in self.sequences.items()
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Schedule:
        return cls(
            operations=[ScheduledOperation(**o) for o in d["operations"]],
            objective=d["objective"],
            objective_value=d["objective_value"],
            makespan=d["makespan"],
            total_weighted_tardiness=d["total_weighted_tardiness"],
            status=d["status"],
            method=d["method"],
            bound=d.get("bound"),
            gap=d.get("gap"),
            solve_time_s=d.get("solve_time_s", 0.0),
            problem_name=d.get("problem", ""),
            machines=tuple(d.get("machines", ())),
            notes=list(d.get("notes", [])),
        )

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        """One row per operation: job, index, product, machine, start, end, duration."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["job", "op", "product", "machine", "start", "end", "duration"])
        for o in sorted(self.operations, key=lambda o: (o.start, o.machine)):
            w.writerow([o.job, o.index, o.product, o.machine, _num(o.start), _num(o.end),
                        _num(o.end - o.start)])
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def summary(self) -> str:
        parts = [
            f"{self.problem_name or 'problem'}: {self.method} → {self.status}",
            f"objective {self.objective} = {_num(self.objective_value)}",
            f"makespan {_num(self.makespan)}",
        ]
        if self.total_weighted_tardiness:
            parts.append(f"weighted tardiness {_num(self.total_weighted_tardiness)}")
        if self.bound is not None:
            parts.append(f"bound {_num(self.bound)}")
        if self.gap is not None:
            parts.append(f"gap {100 * self.gap:.2f} %")
        parts.append(f"time {self.solve_time_s:.2f} s")
        return ", ".join(parts)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.6g}"


def relative_gap(value: float, bound: float | None) -> float | None:
    """(value − bound) / |value|, 0 when both are 0; None without a bound."""
    if bound is None or not math.isfinite(bound):
        return None
    if abs(value) < 1e-12:
        return 0.0 if abs(bound) < 1e-9 else None
    return max(0.0, (value - bound) / abs(value))
