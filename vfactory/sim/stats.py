"""Lean statistics: time-weighted averages with warm-up truncation, and Student-t intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as _st


class TimeAverage:
    """Time average of a piecewise-constant quantity (queue length, WIP) after ``warmup``."""

    __slots__ = ("value", "last", "area", "warmup")

    def __init__(self, warmup: float, value: float = 0.0):
        self.value = value
        self.last = 0.0
        self.area = 0.0
        self.warmup = warmup

    def set(self, now: float, value: float) -> None:
        if now > self.warmup:
            t0 = self.last if self.last > self.warmup else self.warmup
            self.area += self.value * (now - t0)
        self.last = now
        self.value = value

    def mean(self, end: float) -> float:
        self.set(end, self.value)
        return self.area / (end - self.warmup)


@dataclass(frozen=True)
class Estimate:
    """Mean over replications with a Student-t 95 % confidence interval."""

    mean: float
    half_width: float | None
    n: int
    std: float | None

    @property
    def low(self) -> float | None:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.half_width is None else self.mean + self.half_width

    def contains(self, value: float) -> bool:
        return self.half_width is not None and self.low <= value <= self.high  # type: ignore[operator]

    def to_dict(self) -> dict:
        return {
            "mean": self.mean,
            "ci95": [self.low, self.high],
            "half_width": self.half_width,
            "n": self.n,
        }


def estimate(values, confidence: float = 0.95) -> Estimate:
    xs = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    n = len(xs)
    if n == 0:
        return Estimate(float("nan"), None, 0, None)
    mean = math.fsum(xs) / n
    if n < 2:
        return Estimate(mean, None, n, None)
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    sd = math.sqrt(var)
    t = float(_st.t.ppf(0.5 + confidence / 2, n - 1))
    return Estimate(mean, t * sd / math.sqrt(n), n, sd)
