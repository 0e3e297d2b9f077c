"""General heat conduction: any built-in geometry or user mesh, any mix of boundary conditions.

The building block under heat_treatment and mould_cooling, exposed for parts those do not fit
(and for the NAFEMS T3/T4 checks). Boundaries not listed are insulated. A ``temperature`` boundary
may vary in time through an expression in ``t`` (seconds), e.g. ``"100*sin(pi*t/40)"``.

Outputs: ``probe_<name>_c`` (temperature at each probe point at the end time, or in steady
state), ``mean_temperature_c`` (r-weighted for axisymmetric domains), ``end_time_s``; with
``time_series`` a ``series`` dict (``t_s`` and one list per probe).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from solvers import conduction
from solvers.params import VERSIONS, HeatConductionParams, time_expression, validate

VERSION = VERSIONS["heat_conduction"]


def _temperature(value: float | str) -> Any:
    if isinstance(value, str):
        return time_expression(value)
    return lambda _t: float(value)


def solve(params: dict[str, Any]) -> dict[str, Any]:
    """Solve one conduction problem (see the module docstring)."""
    p: HeatConductionParams = validate("heat_conduction", params)
    props = conduction.properties(p.material.resolved())
    robin = tuple(sorted(n for n, bc in p.boundaries.items() if bc.type == "convection"))
    dirichlet = tuple(sorted(n for n, bc in p.boundaries.items() if bc.type == "temperature"))
    prob = conduction.problem_for(
        p.geometry, p.numerics.degree, robin, dirichlet, "heat_conduction"
    )
    scale = prob.dom.scale_to_si
    end = p.end_time_s or 0.0
    dt = p.numerics.dt_s or (end / p.numerics.steps_per_time_constant if end else 1.0)
    if end:  # land exactly on the end time
        dt = end / math.ceil(end / dt - 1e-9)
    run = conduction.Run(
        props=props,
        initial_c=p.initial_temperature_c,
        convection={
            n: conduction.Convection(
                p.boundaries[n].h_w_m2k,
                p.boundaries[n].ambient_c,
                p.boundaries[n].emissivity,
                p.boundaries[n].radiation_ambient_c,
            )
            for n in robin
        },
        temperature={n: _temperature(p.boundaries[n].temperature_c) for n in dirichlet},
        probes={n: np.asarray(pt, float) * scale for n, pt in p.probes.items()},
        dt=dt,
        end_time=end,
        steady=p.steady,
        picard=p.numerics.picard_iterations,
        record_mean=True,
        xdmf=p.xdmf,
    )
    hist = prob.run(run)
    out: dict[str, Any] = {f"probe_{n}_c": float(v[-1]) for n, v in hist.probes.items()}
    out["mean_temperature_c"] = float(hist.mean[-1])
    out["end_time_s"] = float(hist.t[-1])
    if p.time_series:
        out["series"] = {
            "t_s": list(map(float, hist.t)),
            **{n: list(map(float, v)) for n, v in hist.probes.items()},
        }
    return out
