"""Probability distributions of times (process, interarrival, MTBF/MTTR, setup), as layout data.

A distribution is written either as a plain number (a constant) or as a mapping with ``dist`` and
its parameters; normal, lognormal and gamma take a mean with a coefficient of variation ``cv`` (or
``sd``), the way shop-floor data is usually summarised. ``unit`` (s, min, h) states the unit of the
numbers when it differs from the factory's time unit.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from .base import Section

TimeUnit = Literal["s", "min", "h"]
SECONDS_PER: dict[str, float] = {"s": 1.0, "min": 60.0, "h": 3600.0}

DIST_PARAMS: dict[str, tuple[set[str], list[set[str]]]] = {
    # name: (allowed parameters, alternatives of required sets)
    "constant": ({"value"}, [{"value"}]),
    "exponential": ({"mean"}, [{"mean"}]),
    "normal": ({"mean", "cv", "sd"}, [{"mean", "cv"}, {"mean", "sd"}]),
    "lognormal": ({"mean", "cv", "sd"}, [{"mean", "cv"}, {"mean", "sd"}]),
    "uniform": ({"low", "high"}, [{"low", "high"}]),
    "triangular": ({"low", "mode", "high"}, [{"low", "mode", "high"}]),
    "gamma": (
        {"mean", "cv", "sd", "shape", "scale"},
        [{"mean", "cv"}, {"mean", "sd"}, {"shape", "scale"}],
    ),
    "weibull": ({"shape", "scale", "mean"}, [{"shape", "scale"}, {"shape", "mean"}]),
    "empirical": ({"file", "column", "values", "interpolate"}, [{"values"}, {"file", "column"}]),
    "sequence": ({"file", "column", "values"}, [{"values"}, {"file", "column"}]),
}


class Distribution(Section):
    """A non-negative random duration."""

    dist: Literal[
        "constant",
        "exponential",
        "normal",
        "lognormal",
        "uniform",
        "triangular",
        "gamma",
        "weibull",
        "empirical",
        "sequence",
    ] = Field(
        description="Distribution family; 'sequence' replays its values in order (trace-driven), cycling."
    )
    value: float | None = Field(None, ge=0, description="constant: the value.")
    mean: float | None = Field(
        None, gt=0, description="Mean (exponential, normal, lognormal, gamma, weibull)."
    )
    cv: float | None = Field(None, gt=0, description="Coefficient of variation sd/mean.")
    sd: float | None = Field(None, gt=0, description="Standard deviation (alternative to cv).")
    low: float | None = Field(None, ge=0, description="uniform/triangular: lower bound.")
    mode: float | None = Field(None, ge=0, description="triangular: mode.")
    high: float | None = Field(None, ge=0, description="uniform/triangular: upper bound.")
    shape: float | None = Field(None, gt=0, description="gamma/weibull shape parameter.")
    scale: float | None = Field(None, gt=0, description="gamma/weibull scale parameter.")
    file: str | None = Field(
        None, description="empirical: CSV file with measured times (relative to the layout)."
    )
    column: str | None = Field(None, description="empirical: column of the CSV holding the times.")
    values: tuple[float, ...] | None = Field(
        None, description="empirical: the measured times (filled from file)."
    )
    interpolate: bool = Field(
        False, description="empirical: sample the piecewise-linear CDF instead of resampling."
    )
    unit: TimeUnit | None = Field(
        None, description="Unit of the numbers, if not the factory's time unit."
    )

    @model_validator(mode="after")
    def _check_parameters(self) -> Distribution:
        allowed, required = DIST_PARAMS[self.dist]
        given = {k for k in DIST_PARAMS_ALL if getattr(self, k) is not None}
        extra = given - allowed
        if extra:
            raise PydanticCustomError(
                "dist_params",
                "{dist} distribution does not take {extra}; it takes {allowed}",
                {
                    "dist": self.dist,
                    "extra": ", ".join(sorted(extra)),
                    "allowed": ", ".join(sorted(allowed)),
                },
            )
        if not any(req <= given for req in required):
            forms = " or ".join("(" + ", ".join(sorted(r)) + ")" for r in required)
            raise PydanticCustomError(
                "dist_params",
                "{dist} distribution needs {forms}; found ({given})",
                {"dist": self.dist, "forms": forms, "given": ", ".join(sorted(given)) or "nothing"},
            )
        if self.cv is not None and self.sd is not None:
            raise PydanticCustomError("dist_params", "give either cv or sd, not both", {})
        if (
            self.dist in ("uniform", "triangular")
            and self.low is not None
            and self.high is not None
        ):
            if self.high < self.low:
                raise PydanticCustomError(
                    "dist_params",
                    "high ({high}) must not be below low ({low})",
                    {"high": self.high, "low": self.low},
                )
            if self.dist == "triangular" and not (self.low <= self.mode <= self.high):  # type: ignore[operator]
                raise PydanticCustomError("dist_params", "triangular needs low <= mode <= high", {})
        if self.dist == "normal" and self.cv_value > 0.5:
            raise PydanticCustomError(
                "dist_params",
                f"normal with cv {self.cv_value:.2f} > 0.5 would often draw negative times; use lognormal or gamma",
                {},
            )
        if self.values is not None:
            if len(self.values) == 0:
                raise PydanticCustomError("dist_params", "empirical distribution has no values", {})
            if min(self.values) < 0:
                raise PydanticCustomError("dist_params", "empirical times must be >= 0", {})
        return self

    # -- derived quantities (in the distribution's own unit) ------------------------------------
    @property
    def cv_value(self) -> float:
        if self.cv is not None:
            return self.cv
        if self.sd is not None and self.mean:
            return self.sd / self.mean
        return 0.0

    @property
    def mean_value(self) -> float:
        """Mean of the distribution (before any unit conversion)."""
        d = self.dist
        if d == "constant":
            return float(self.value)  # type: ignore[arg-type]
        if d in ("exponential", "normal", "lognormal"):
            return float(self.mean)  # type: ignore[arg-type]
        if d == "uniform":
            return (self.low + self.high) / 2  # type: ignore[operator]
        if d == "triangular":
            return (self.low + self.mode + self.high) / 3  # type: ignore[operator]
        if d == "gamma":
            return self.mean if self.mean is not None else self.shape * self.scale  # type: ignore[operator]
        if d == "weibull":
            if self.mean is not None:
                return self.mean
            return self.scale * math.gamma(1 + 1 / self.shape)  # type: ignore[operator]
        if d in ("empirical", "sequence"):
            vals = self.values or ()
            return sum(vals) / len(vals) if vals else float("nan")
        raise AssertionError(d)


DIST_PARAMS_ALL = (
    "value",
    "mean",
    "cv",
    "sd",
    "low",
    "mode",
    "high",
    "shape",
    "scale",
    "file",
    "column",
    "values",
)


def constant(value: float) -> Distribution:
    return Distribution(dist="constant", value=value)


def coerce_distribution(value):
    """Layout shorthand: a bare number means a constant duration."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return {"dist": "constant", "value": value}
    return value
