"""The search space: study variables as Optuna distributions, space-filling designs, overrides."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna

from ..layout.study import Study, Variable


def distribution(v: Variable) -> optuna.distributions.BaseDistribution:
    if v.choices is not None:
        return optuna.distributions.CategoricalDistribution(list(v.choices))
    if v.type == "int":
        return optuna.distributions.IntDistribution(
            int(math.ceil(v.low)),
            int(math.floor(v.high)),
            log=v.log,
            step=int(v.step or 1),  # type: ignore[arg-type]
        )
    return optuna.distributions.FloatDistribution(v.low, v.high, log=v.log, step=v.step)  # type: ignore[arg-type]


def search_space(study: Study) -> dict[str, optuna.distributions.BaseDistribution]:
    return {path: distribution(v) for path, v in study.variables.items()}


def _from_unit(u: float, v: Variable) -> Any:
    """Map u in [0, 1) onto a variable's range or choices."""
    if v.choices is not None:
        return v.choices[min(int(u * len(v.choices)), len(v.choices) - 1)]
    lo, hi = float(v.low), float(v.high)  # type: ignore[arg-type]
    if v.log:
        x = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    else:
        x = lo + u * (hi - lo)
    if v.type == "int" or v.step is not None:
        step = v.step or 1
        x = lo + round((x - lo) / step) * step
        x = min(max(x, lo), hi)
    return int(round(x)) if v.type == "int" else float(x)


def initial_design(study: Study) -> list[dict[str, Any]]:
    """Space-filling start (Sobol or Latin hypercube, seeded), distinct points only."""
    d = study.initial_design
    if d.kind == "none" or d.n == 0:
        return []
    from scipy.stats import qmc

    dim = len(study.variables)
    if d.kind == "sobol":
        m = max(0, math.ceil(math.log2(max(d.n, 1))))
        pts = qmc.Sobol(dim, scramble=True, seed=study.seed).random_base2(m)[: d.n]
    else:
        pts = qmc.LatinHypercube(dim, seed=study.seed).random(d.n)
    out, seen = [], set()
    for row in np.asarray(pts):
        point = {
            path: _from_unit(float(u), v) for (path, v), u in zip(study.variables.items(), row)
        }
        key = canonical(point)
        if key not in seen:
            seen.add(key)
            out.append(point)
    return out


def canonical(params: dict[str, Any]) -> str:
    import json

    def norm(x):
        return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else x

    return json.dumps({k: norm(params[k]) for k in sorted(params)}, sort_keys=True)
