"""Surrogates for expensive physics: a Gaussian-process (or RBF) model of each solver output as a
function of the study's layout parameters, fitted on a space-filling design of real solves.

The fitted model travels as plain data (the design and its outputs) and is refitted wherever it is
used (a GP on a few dozen points fits in milliseconds), so trials stay plain-data tasks. Its
leave-one-out error is reported; the search runs on predictions and its best candidates are
verified with the real solver before anything is recommended.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..layout import Factory, override
from ..layout.study import Study


@dataclass
class SurrogateData:
    kind: str  # "gp" or "rbf"
    inputs: list[str]  # layout parameter names
    bounds: list[tuple[float, float]]
    X: list[list[float]]
    Y: dict[str, dict[str, list[float]]]  # solve -> output -> values at X
    cv_relative_rmse: dict[str, float] = field(default_factory=dict)  # "solve.output" -> error
    real_solves: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> SurrogateData:
        return cls(**{**d, "bounds": [tuple(b) for b in d["bounds"]]})


def _scale(X: np.ndarray, bounds) -> np.ndarray:
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    return (X - lo) / np.where(hi > lo, hi - lo, 1.0)


def _model(kind: str, X: np.ndarray, y: np.ndarray):
    """A callable x -> y fitted on (X, y), inputs already scaled to [0, 1]."""
    if kind == "rbf":
        from scipy.interpolate import RBFInterpolator

        rbf = RBFInterpolator(X, y, kernel="thin_plate_spline", degree=1)
        return lambda x: rbf(np.atleast_2d(x))
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        length_scale=np.full(X.shape[1], 0.5), length_scale_bounds=(1e-2, 1e2), nu=2.5
    ) + WhiteKernel(1e-8, (1e-12, 1e-2))
    gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0, n_restarts_optimizer=2)
    gp.fit(X, y)
    return lambda x: gp.predict(np.atleast_2d(x))


def _numeric_outputs(outputs: dict) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in outputs.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("cached",)
        and math.isfinite(float(v))
    }


def fit(factory: Factory, spec: Study, n: int, kind: str = "gp", seed: int = 0, inprocess: bool = False) -> SurrogateData:
    """Solve the physics for real on ``n`` Sobol points of the study's parameter ranges and fit."""
    from scipy.stats import qmc

    from ..physics import resolve

    inputs, bounds = [], []
    for path, v in spec.variables.items():
        if path.startswith("parameters.") and v.choices is None:
            inputs.append(path.split(".", 1)[1])
            bounds.append((float(v.low), float(v.high)))  # type: ignore[arg-type]
    if not inputs:
        raise ValueError("a physics surrogate needs numeric study variables under parameters.")
    m = max(1, math.ceil(math.log2(max(n, 2))))
    unit = qmc.Sobol(len(inputs), scramble=True, seed=seed).random_base2(m)[:n]
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    X = lo + unit * (hi - lo)
    Y: dict[str, dict[str, list[float]]] = {}
    for x in X:
        scenario = override(factory, {f"parameters.{k}": float(v) for k, v in zip(inputs, x)})
        res = resolve(scenario, inprocess=inprocess)
        for solve, outputs in res.solves.items():
            for key, value in _numeric_outputs(outputs).items():
                Y.setdefault(solve, {}).setdefault(key, []).append(value)
    # keep outputs defined at every design point
    Y = {s: {k: v for k, v in outs.items() if len(v) == len(X)} for s, outs in Y.items()}
    data = SurrogateData(kind, inputs, bounds, X.tolist(), Y, real_solves=len(X) * len(Y))
    data.cv_relative_rmse = cross_validate(data)
    return data


def cross_validate(data: SurrogateData) -> dict[str, float]:
    """Leave-one-out relative RMSE of every modelled output."""
    X = _scale(np.asarray(data.X), data.bounds)
    errs = {}
    for solve, outs in data.Y.items():
        for key, values in outs.items():
            y = np.asarray(values)
            if np.ptp(y) == 0:
                errs[f"{solve}.{key}"] = 0.0
                continue
            pred = np.empty_like(y)
            for i in range(len(y)):
                mask = np.arange(len(y)) != i
                pred[i] = _model(data.kind, X[mask], y[mask])(X[i])[0]
            scale = np.sqrt(np.mean(y**2)) or 1.0
            errs[f"{solve}.{key}"] = float(np.sqrt(np.mean((pred - y) ** 2)) / scale)
    return errs


class Predictor:
    """Refits the models from plain data once; ``predict(parameters) -> {solve: {output: value}}``."""

    def __init__(self, data: SurrogateData):
        self.data = data
        X = _scale(np.asarray(data.X), data.bounds)
        self.models = {
            (s, k): _model(data.kind, X, np.asarray(v)) for s, outs in data.Y.items() for k, v in outs.items()
        }

    def predict(self, parameters: dict[str, float]) -> dict[str, dict[str, Any]]:
        x = _scale(np.array([[float(parameters[k]) for k in self.data.inputs]]), self.data.bounds)
        out: dict[str, dict[str, Any]] = {}
        for (s, k), model in self.models.items():
            out.setdefault(s, {})[k] = float(model(x)[0])
        return out


_CACHE: dict[int, Predictor] = {}


def predictor(data_dict: dict) -> Predictor:
    """A worker-local predictor for the surrogate carried by a task (refit once per process)."""
    key = hash(repr(sorted(data_dict.items(), key=lambda kv: kv[0])))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = Predictor(SurrogateData.from_dict(data_dict))
    return _CACHE[key]
