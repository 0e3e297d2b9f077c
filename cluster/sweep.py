"""Parameter sweep designs: full factorial grids, Latin hypercube and Sobol samples.

A sweep is described per parameter by a short string, as on the command line
(``--param stations.furnace.temperature=820:900:5``):

- ``start:stop:step`` — every value from start to stop *inclusive* (a full-factorial axis;
  integers stay integers);
- ``start:stop`` — a continuous range (for Latin hypercube / Sobol designs);
- ``a,b,c`` — an explicit list (numbers or words);
- ``v`` — a single fixed value.

``design(specs, method, n, seed)`` turns them into a list of ``{path: value}`` dicts, one
per point, in a reproducible order: the tasks of a sweep. Samples use scipy.stats.qmc
with a seed, so the same call gives the same points everywhere.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

METHODS = ("factorial", "lhs", "sobol")

Value = int | float | str


class SweepSpecError(ValueError):
    """A parameter range that cannot be read; the message names the parameter."""


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


def _decimals(text: str) -> int:
    try:
        exponent = Decimal(text.strip()).as_tuple().exponent
    except InvalidOperation:
        return 12
    return max(0, -exponent) if isinstance(exponent, int) else 12


def parse_values(name: str, text: str) -> list[Value]:
    """The values of one factorial axis (see the module docstring for the forms)."""
    text = text.strip()
    if not text:
        raise SweepSpecError(
            f"parameter {name!r}: empty value; expected start:stop:step, a,b,c or a single value"
        )
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise SweepSpecError(f"parameter {name!r}: expected start:stop:step, found {text!r}")
        nums = [_number(p) for p in parts]
        if any(v is None for v in nums):
            raise SweepSpecError(
                f"parameter {name!r}: start, stop and step must be numbers, found {text!r}"
            )
        start, stop, step = nums  # type: ignore[misc]
        if step <= 0:  # type: ignore[operator]
            raise SweepSpecError(f"parameter {name!r}: step must be > 0, found {step}")
        if stop < start:  # type: ignore[operator]
            raise SweepSpecError(f"parameter {name!r}: stop {stop} is below start {start}")
        count = math.floor((stop - start) / step + 1e-9) + 1  # type: ignore[operator]
        if all(isinstance(v, int) for v in nums):
            return [start + k * step for k in range(count)]  # type: ignore[operator]
        # Round to the inputs' decimals: 0.1 steps give 0.3, not 0.30000000000000004.
        places = max(_decimals(p) for p in parts)
        return [round(start + k * step, places) for k in range(count)]  # type: ignore[operator]
    if "," in text:
        items = [p.strip() for p in text.split(",")]
        if any(not p for p in items):
            raise SweepSpecError(f"parameter {name!r}: empty item in list {text!r}")
        return [_coerce(p) for p in items]
    return [_coerce(text)]


def parse_bounds(name: str, text: str) -> tuple[float, float]:
    """``(low, high)`` of a continuous range ``start:stop`` (a ``:step`` is ignored)."""
    parts = text.strip().split(":")
    nums = [_number(p) for p in parts]
    if len(parts) not in (2, 3) or any(v is None for v in nums):
        raise SweepSpecError(
            f"parameter {name!r}: a sampled parameter needs a numeric range "
            f"start:stop, found {text!r}"
        )
    low, high = float(nums[0]), float(nums[1])  # type: ignore[arg-type]
    if not high > low:
        raise SweepSpecError(f"parameter {name!r}: stop {high} must be above start {low}")
    return low, high


def _coerce(text: str) -> Value:
    num = _number(text)
    return text if num is None else num


def full_factorial(axes: Mapping[str, Sequence[Value]]) -> list[dict[str, Value]]:
    """Every combination of the axes' values; the last parameter varies fastest."""
    names = list(axes)
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(axes[n] for n in names))
    ]


def latin_hypercube(
    bounds: Mapping[str, tuple[float, float]], n: int, seed: int = 0
) -> list[dict[str, float]]:
    """``n`` Latin-hypercube points: each parameter's range cut in n equal strata, one point
    in each."""
    from scipy.stats import qmc

    if n < 1:
        raise SweepSpecError(f"a Latin hypercube needs n >= 1 points, found {n}")
    unit = qmc.LatinHypercube(d=len(bounds), seed=seed).random(n)
    return _scaled(bounds, unit)


def sobol(
    bounds: Mapping[str, tuple[float, float]], n: int, seed: int = 0, scramble: bool = True
) -> list[dict[str, float]]:
    """``n`` scrambled Sobol points (``n`` a power of two, which keeps their balance)."""
    from scipy.stats import qmc

    if n < 1 or n & (n - 1):
        lower = 1 << max(0, n.bit_length() - 1)
        raise SweepSpecError(
            f"a Sobol design needs a power of two points, found {n} (use {lower} or {lower * 2})"
        )
    unit = qmc.Sobol(d=len(bounds), scramble=scramble, seed=seed).random_base2(n.bit_length() - 1)
    return _scaled(bounds, unit)


def _scaled(bounds: Mapping[str, tuple[float, float]], unit: Any) -> list[dict[str, float]]:
    names = list(bounds)
    lows = [bounds[k][0] for k in names]
    highs = [bounds[k][1] for k in names]
    from scipy.stats import qmc

    points = qmc.scale(unit, lows, highs)
    return [{k: float(v) for k, v in zip(names, row, strict=True)} for row in points]


def design(
    specs: Mapping[str, str],
    method: str = "factorial",
    n: int | None = None,
    seed: int = 0,
) -> list[dict[str, Value]]:
    """The points of a sweep over ``specs`` (parameter path -> range string).

    ``method``: ``factorial`` (ranges need a step, lists allowed), ``lhs`` or ``sobol``
    (numeric ``start:stop`` ranges, ``n`` points; fixed single values are added to every
    point).
    """
    if not specs:
        raise SweepSpecError("a sweep needs at least one parameter")
    if method == "factorial":
        return full_factorial({k: parse_values(k, v) for k, v in specs.items()})
    if method not in METHODS:
        raise SweepSpecError(f"unknown sweep method {method!r}; expected one of {METHODS}")
    if n is None:
        raise SweepSpecError(f"the {method} method needs the number of points n")
    fixed = {k: parse_values(k, v)[0] for k, v in specs.items() if ":" not in v}
    ranged = {k: parse_bounds(k, v) for k, v in specs.items() if ":" in v}
    if not ranged:
        raise SweepSpecError(f"the {method} method needs at least one start:stop range")
    points = latin_hypercube(ranged, n, seed) if method == "lhs" else sobol(ranged, n, seed)
    return [{**fixed, **p} for p in points]
