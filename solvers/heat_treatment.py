"""Heat treatment: a part heated in a furnace or quenched in a bath, to the times a line needs.

``solve(params) -> dict`` (params: solvers.params.HeatTreatmentParams). Outputs, all floats:

- ``soak_start_s``: the core reaches ``setpoint_c - soak_delta_c`` (heating; setpoint defaults
  to the furnace temperature; with a fixed ``end_time_s`` only if ``setpoint_c`` is given);
- ``cool_below_s``: the core falls below ``cool_below_c`` (cooling);
- ``max_surface_core_diff_c``: largest |T_surface - T_core| over the run;
- ``cooling_rate_c_per_s``: -dT_core/dt when the core passes ``rate_at_c`` (negative = heating);
- ``heat_absorbed_j_per_m2`` (plate: per m² of plate, full thickness), ``heat_absorbed_j_per_m``
  (long cylinder: per metre of bar) or ``heat_absorbed_j`` (axisymmetric part, sphere, 3D mesh):
  enthalpy gained from t = 0 to ``end_time_s`` (negative in a quench);
- ``end_time_s``, ``core_final_c``, ``surface_final_c``; with ``time_series`` a ``series`` dict of
  lists ``t_s``, ``core_c``, ``surface_c``.

``model: lumped`` integrates the lumped-capacitance ODE ρ c(T) (V/A) dT/dt = -q(T) instead: the
right answer only when Bi = h (V/A) / k << 1, offered because it is what hand calculations give.
Without ``end_time_s`` the run stops as soon as every requested event has happened.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from solvers import conduction, geometry
from solvers.bounds import check_step_count
from solvers.params import VERSIONS, HeatTreatmentParams, validate

VERSION = VERSIONS["heat_treatment"]


def _targets(p: HeatTreatmentParams) -> tuple[bool, float | None, float | None, float | None]:
    # Validation (solvers.params) has refused levels the core can never reach.
    t = p.targets()
    return t.heating, t.soak_c, t.cool_below_c, t.rate_at_c


def _volume_to_area(spec: Any) -> float:
    """V/A of the built-in shapes (the lumped-capacitance length)."""
    if spec.kind == "plate":
        return spec.thickness_m / 2
    if spec.kind == "cylinder":
        return spec.diameter_m / 4
    if spec.kind == "sphere":
        return spec.diameter_m / 6
    if spec.kind == "axisymmetric_cylinder":
        r, length = spec.diameter_m / 2, spec.length_m
        return r * length / (2 * length + 2 * r)
    raise ValueError(
        "heat_treatment: model 'lumped' needs a built-in geometry "
        "(plate, cylinder, sphere, axisymmetric_cylinder)"
    )


def _time_scale(p: HeatTreatmentParams, lc: float, props: conduction.Properties) -> float:
    """Conduction plus film time constant, Lc²/α + ρc Lc/h_eff (the step size is a fraction)."""
    t0 = p.initial_temperature_c
    c0 = float(props.enthalpy.c(np.array([t0]))[0])
    k0 = float(props.conductivity(np.array([t0]))[0])
    tm = 0.5 * (t0 + p.ambient_c) + conduction.KELVIN
    h_eff = p.h_w_m2k + 4 * p.emissivity * conduction.STEFAN_BOLTZMANN * tm**3
    return lc**2 * props.rho * c0 / k0 + props.rho * c0 * lc / h_eff


def _stopper(
    heating: bool, soak: float | None, cool: float | None, rate_level: float | None
) -> Any:
    def passed(y: list[float], level: float) -> bool:
        return (
            len(y) >= 2
            and (y[-2] - level) * (y[-1] - level) <= 0
            or (len(y) >= 1 and ((y[-1] >= level) if heating else (y[-1] <= level)))
        )

    reached: dict[str, bool] = {}

    def stop(hist: conduction.History) -> bool:
        core = hist.probes["core"]
        for name, level in (("soak", soak), ("cool", cool), ("rate", rate_level)):
            if level is not None and not reached.get(name):
                # The rate needs one sample beyond the crossing for a centred derivative.
                reached[name] = passed(core[:-1] if name == "rate" else core, level)
        return all(
            reached.get(n)
            for n, lv in (("soak", soak), ("cool", cool), ("rate", rate_level))
            if lv is not None
        )

    return stop


def _outputs(
    p: HeatTreatmentParams,
    t: list[float],
    core: list[float],
    surf: list[float],
    heating: bool,
    soak: float | None,
    cool: float | None,
    rate_level: float | None,
    heat: float,
    unit: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, level in (("soak_start_s", soak), ("cool_below_s", cool)):
        if level is not None:
            tc = conduction.crossing_time(t, core, level)
            if tc is None:
                raise ValueError(
                    f"heat_treatment: the core never reaches {level:g} °C within "
                    f"{t[-1]:g} s (raise end_time_s or numerics.max_time_s)"
                )
            out[key] = tc
    if rate_level is not None:
        r = conduction.rate_at(t, core, rate_level)
        if r is None:
            raise ValueError(
                f"heat_treatment: the core never passes rate_at_c={rate_level:g} °C "
                f"within {t[-1]:g} s"
            )
        out["cooling_rate_c_per_s"] = -r
    out["max_surface_core_diff_c"] = float(np.max(np.abs(np.subtract(surf, core))))
    out[f"heat_absorbed_{unit}"] = float(heat)
    out["end_time_s"] = float(t[-1])
    out["core_final_c"] = float(core[-1])
    out["surface_final_c"] = float(surf[-1])
    if p.time_series:
        out["series"] = {
            "t_s": [float(v) for v in t],
            "core_c": [float(v) for v in core],
            "surface_c": [float(v) for v in surf],
        }
    return out


def _solve_lumped(p: HeatTreatmentParams, props: conduction.Properties) -> dict[str, Any]:
    from scipy.integrate import solve_ivp

    heating, soak, cool, rate_level = _targets(p)
    lc = _volume_to_area(p.geometry)
    tau = _time_scale(p, lc, props)
    amb_k = p.ambient_c + conduction.KELVIN

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        T = y[0]
        q = p.h_w_m2k * (p.ambient_c - T) + p.emissivity * conduction.STEFAN_BOLTZMANN * (
            amb_k**4 - (T + conduction.KELVIN) ** 4
        )
        return np.array([q / (props.rho * float(props.enthalpy.c(np.array([T]))[0]) * lc)])

    end = p.end_time_s or p.numerics.max_time_s or 60 * tau
    named = [
        (k, lv)
        for k, lv in (("soak_start_s", soak), ("cool_below_s", cool), ("rate", rate_level))
        if lv is not None
    ]
    events = [lambda _t, y, lv=lv: y[0] - lv for _, lv in named]
    if p.end_time_s is None and named:
        last = max(lv for _, lv in named) if heating else min(lv for _, lv in named)
        ev_stop = lambda _t, y: y[0] - last  # noqa: E731
        ev_stop.terminal = True  # type: ignore[attr-defined]
        events.append(ev_stop)
    sol = solve_ivp(
        rhs,
        (0.0, end),
        [p.initial_temperature_c],
        method="LSODA",
        rtol=1e-10,
        atol=1e-8,
        events=events or None,
        dense_output=True,
    )
    out: dict[str, Any] = {}
    for i, (key, lv) in enumerate(named):
        if len(sol.t_events[i]) == 0:
            raise ValueError(f"heat_treatment: the part never reaches {lv:g} °C within {end:g} s")
        if key != "rate":
            out[key] = float(sol.t_events[i][0])
    if rate_level is not None:
        out["cooling_rate_c_per_s"] = -float(rhs(0.0, np.array([rate_level]))[0])
    T_end = float(sol.y[0, -1])
    out["max_surface_core_diff_c"] = 0.0
    _, unit = geometry.measure_factor(p.geometry, 1)
    dh = float(
        props.enthalpy(np.array([T_end]))[0]
        - props.enthalpy(np.array([p.initial_temperature_c]))[0]
    )
    out[f"heat_absorbed_{unit}"] = props.rho * dh * _lumped_volume(p.geometry)
    out.update(
        end_time_s=float(sol.t[-1]), core_final_c=T_end, surface_final_c=T_end, model="lumped"
    )
    if p.time_series:
        tt = np.linspace(0.0, float(sol.t[-1]), 201)
        TT = sol.sol(tt)[0]
        out["series"] = {"t_s": tt.tolist(), "core_c": TT.tolist(), "surface_c": TT.tolist()}
    return out


def _lumped_volume(spec: Any) -> float:
    """Volume matching the unit of heat_absorbed (per m² of plate, per m of bar, whole part)."""
    if spec.kind == "plate":
        return spec.thickness_m
    if spec.kind == "cylinder":
        return math.pi * spec.diameter_m**2 / 4
    if spec.kind == "sphere":
        return math.pi * spec.diameter_m**3 / 6
    return math.pi * spec.diameter_m**2 / 4 * spec.length_m


def solve(params: dict[str, Any]) -> dict[str, Any]:
    """Run one heat treatment (see the module docstring for inputs and outputs)."""
    p: HeatTreatmentParams = validate("heat_treatment", params)
    props = conduction.properties(p.material.resolved())
    if p.model == "lumped":
        return _solve_lumped(p, props)
    heating, soak, cool, rate_level = _targets(p)
    spec = p.geometry
    prob = conduction.problem_for(
        spec, p.numerics.degree, tuple(p.surface_tags), (), "heat_treatment"
    )
    if spec.kind == "mesh":
        s = prob.dom.scale_to_si
        core, surf = [c * s for c in p.core_point], [c * s for c in p.surface_point]
        vol = conduction._compat.assemble_scalar(prob.M_vol)
        lc = vol / conduction._compat.assemble_scalar(prob.M_area)
    else:
        core, surf = geometry.core_and_surface(spec)
        lc = _volume_to_area(spec)
    tau = _time_scale(p, lc, props)
    dt = p.numerics.dt_s or tau / p.numerics.steps_per_time_constant
    end = p.end_time_s or p.numerics.max_time_s or 60 * tau
    check_step_count(end, dt, p.end_time_s, p.numerics.max_time_s, tau)
    if p.end_time_s:  # land exactly on the requested end time
        dt = end / math.ceil(end / dt - 1e-9)
    amb = p.ambient_c
    run = conduction.Run(
        props=props,
        initial_c=p.initial_temperature_c,
        convection={
            name: conduction.Convection(p.h_w_m2k, amb, p.emissivity) for name in p.surface_tags
        },
        temperature={},
        probes={"core": np.array(core), "surface": np.array(surf)},
        dt=dt,
        end_time=end,
        picard=p.numerics.picard_iterations,
        stop=None if p.end_time_s else _stopper(heating, soak, cool, rate_level),
        xdmf=p.xdmf,
    )
    hist = prob.run(run)
    factor, unit = geometry.measure_factor(spec, prob.dom.tdim)
    heat = factor * (hist.heat_content_j[-1] - hist.heat_content_j[0])
    out = _outputs(
        p,
        hist.t,
        hist.probes["core"],
        hist.probes["surface"],
        heating,
        soak,
        cool,
        rate_level,
        heat,
        unit,
    )
    out["dt_s"] = dt
    out["model"] = "fe"
    return out
