"""Random streams and block samplers.

Every random source (a product's arrivals, a station's process times for one product, one failure
mode of one server, …) has its own numpy ``Generator`` seeded by
``SeedSequence(seed, spawn_key=(replication, crc32(source name)))``. Keys are names, not positions,
so two scenarios that differ at one station still share every other stream (common random numbers),
and adding a station does not shift anyone else's numbers.

Samplers draw blocks of numbers at once (numpy is fast per block, slow per call) and hand them out
as Python floats.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import numpy as np

from ..layout import SECONDS_PER, Distribution

BLOCK = 1024


def source_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, replication: int, source: str) -> np.random.Generator:
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication, source_key(source))))
    )


def _weibull_shape_for_cv(cv: float) -> float:
    from scipy.optimize import brentq

    def f(k: float) -> float:
        g1, g2 = math.gamma(1 + 1 / k), math.gamma(1 + 2 / k)
        return math.sqrt(g2 / g1**2 - 1) - cv

    return brentq(f, 0.05, 500.0)


def block_drawer(
    d: Distribution, factor: float
) -> Callable[[np.random.Generator, int], np.ndarray]:
    """A function (rng, n) -> n draws of ``d``, scaled by ``factor`` (unit conversion)."""
    kind = d.dist
    if kind == "constant":
        v = d.value * factor  # type: ignore[operator]
        return lambda rng, n: np.full(n, v)
    if kind == "exponential":
        m = d.mean * factor  # type: ignore[operator]
        return lambda rng, n: rng.exponential(m, n)
    if kind == "normal":
        m = d.mean * factor  # type: ignore[operator]
        s = m * d.cv_value
        # negative draws are clipped to zero; cv <= 0.5 is enforced by the layout so this is rare
        return lambda rng, n: np.maximum(rng.normal(m, s, n), 0.0)
    if kind == "lognormal":
        m, cv = d.mean * factor, d.cv_value  # type: ignore[operator]
        sigma2 = math.log1p(cv * cv)
        mu, sigma = math.log(m) - sigma2 / 2, math.sqrt(sigma2)
        return lambda rng, n: rng.lognormal(mu, sigma, n)
    if kind == "uniform":
        lo, hi = d.low * factor, d.high * factor  # type: ignore[operator]
        return lambda rng, n: rng.uniform(lo, hi, n)
    if kind == "triangular":
        lo, mo, hi = d.low * factor, d.mode * factor, d.high * factor  # type: ignore[operator]
        if lo == hi:
            return lambda rng, n: np.full(n, lo)
        return lambda rng, n: rng.triangular(lo, mo, hi, n)
    if kind == "gamma":
        if d.shape is not None and d.scale is not None:
            k, theta = d.shape, d.scale * factor
        else:
            cv = d.cv_value
            k, theta = 1 / cv**2, d.mean * factor * cv**2  # type: ignore[operator]
        return lambda rng, n: rng.gamma(k, theta, n)
    if kind == "weibull":
        k = d.shape  # type: ignore[assignment]
        scale = (d.scale if d.scale is not None else d.mean / math.gamma(1 + 1 / k)) * factor  # type: ignore[operator]
        return lambda rng, n: scale * rng.weibull(k, n)
    if kind == "empirical":
        vals = np.asarray(d.values, dtype=float) * factor
        if d.interpolate and len(vals) > 1:
            xs = np.sort(vals)
            qs = np.linspace(0.0, 1.0, len(xs))
            return lambda rng, n: np.interp(rng.random(n), qs, xs)
        return lambda rng, n: vals[rng.integers(0, len(vals), n)]
    if kind == "sequence":
        seq = np.asarray(d.values, dtype=float) * factor
        position = [0]

        def replay(rng, n):
            idx = (position[0] + np.arange(n)) % len(seq)
            position[0] += n
            return seq[idx]

        return replay
    raise AssertionError(kind)


class Sampler:
    """Draws from one distribution on one stream, a block at a time: ``sampler()`` -> float."""

    __slots__ = ("_rng", "_draw", "_buf", "_i", "mean")

    def __init__(self, d: Distribution, rng: np.random.Generator, time_unit: str):
        factor = SECONDS_PER[d.unit] / SECONDS_PER[time_unit] if d.unit else 1.0
        self._rng = rng
        self._draw = block_drawer(d, factor)
        self._buf: list[float] = []
        self._i = 0
        self.mean = d.mean_value * factor

    def __call__(self) -> float:
        i = self._i
        buf = self._buf
        if i >= len(buf):
            buf = self._buf = self._draw(self._rng, BLOCK).tolist()
            i = 0
        self._i = i + 1
        return buf[i]


class Uniforms:
    """Block-drawn U(0,1) numbers on one stream (scrap decisions)."""

    __slots__ = ("_rng", "_buf", "_i")

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        buf = self._buf
        if i >= len(buf):
            buf = self._buf = self._rng.random(BLOCK).tolist()
            i = 0
        self._i = i + 1
        return buf[i]
