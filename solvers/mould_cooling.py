"""Injection-moulding cooling: time until a moulded wall may be ejected.

The wall (thickness s) is a 1D slab cooled from both faces, modelled on its half-thickness with a
symmetry plane at the centre. The face is held at the mould temperature (Dirichlet, ideal
contact) or exchanges heat through a contact conductance h_c. Latent heat of a semi-crystalline
polymer enters as an apparent heat capacity over ``solidification_range_c`` (see
solvers.conduction.Enthalpy).

Outputs: ``cooling_time_mean_s`` (mean temperature over the thickness reaches ejection),
``cooling_time_centreline_s`` (centre reaches ejection), ``dt_s``; with ``time_series`` a
``series`` dict (``t_s``, ``centre_c``, ``mean_c``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solvers import conduction
from solvers.bounds import check_step_count
from solvers.params import VERSIONS, GeometrySpec, MouldCoolingParams, validate

VERSION = VERSIONS["mould_cooling"]


def solve(params: dict[str, Any]) -> dict[str, Any]:
    """Cooling times to ejection of a moulded wall (see the module docstring)."""
    p: MouldCoolingParams = validate("mould_cooling", params)
    if p.thermal_diffusivity_m2_s is not None:
        # Only the diffusivity matters with a Dirichlet wall: k = a, rho c = 1.
        mat = {
            "rho_kg_m3": 1.0,
            "k_w_mk": p.thermal_diffusivity_m2_s,
            "c_j_kgk": 1.0,
            "k_table": None,
            "c_table": None,
            "latent_heat_j_kg": 0.0,
            "solidus_c": None,
            "liquidus_c": None,
        }
    else:
        mat = p.material.require("rho_kg_m3", "k_w_mk", "c_j_kgk")
        if p.latent_heat_j_kg > 0:
            mat.update(
                latent_heat_j_kg=p.latent_heat_j_kg,
                solidus_c=p.solidification_range_c[0],
                liquidus_c=p.solidification_range_c[1],
            )
    props = conduction.properties(mat)
    half = p.wall_thickness_m / 2
    c0 = float(props.enthalpy.c(np.array([p.melt_temperature_c]))[0])
    k0 = float(props.conductivity(np.array([p.melt_temperature_c]))[0])
    tau = half**2 * props.rho * c0 / k0
    if p.contact_conductance_w_m2k is not None:
        tau += props.rho * c0 * half / p.contact_conductance_w_m2k
    dt = p.numerics.dt_s or tau / p.numerics.steps_per_time_constant
    end = p.numerics.max_time_s or 60 * tau
    check_step_count(end, dt, None, p.numerics.max_time_s, tau)

    spec = GeometrySpec(kind="plate", thickness_m=p.wall_thickness_m)
    dirichlet = p.contact_conductance_w_m2k is None
    prob = conduction.problem_for(
        spec,
        p.numerics.degree,
        () if dirichlet else ("surface",),
        ("surface",) if dirichlet else (),
        "mould_cooling",
    )
    wall = p.mould_temperature_c
    eject = p.ejection_temperature_c

    def stop(hist: conduction.History) -> bool:
        return hist.mean[-1] <= eject and hist.probes["centre"][-1] <= eject

    run = conduction.Run(
        props=props,
        initial_c=p.melt_temperature_c,
        convection={}
        if dirichlet
        else {"surface": conduction.Convection(p.contact_conductance_w_m2k, wall)},
        temperature={"surface": lambda _t: wall} if dirichlet else {},
        probes={"centre": np.array([0.0])},
        dt=dt,
        end_time=end,
        picard=p.numerics.picard_iterations,
        record_mean=True,
        stop=stop,
    )
    hist = prob.run(run)
    t_mean = conduction.crossing_time(hist.t, hist.mean, eject)
    t_centre = conduction.crossing_time(hist.t, hist.probes["centre"], eject)
    if t_mean is None or t_centre is None:
        raise ValueError(f"mould_cooling: the wall does not reach {eject:g} °C within {end:g} s")
    out: dict[str, Any] = {
        "cooling_time_mean_s": t_mean,
        "cooling_time_centreline_s": t_centre,
        "dt_s": dt,
    }
    if p.time_series:
        out["series"] = {
            "t_s": list(map(float, hist.t)),
            "centre_c": list(map(float, hist.probes["centre"])),
            "mean_c": list(map(float, hist.mean)),
        }
    return out
