"""Validated parameters of every solver (pydantic models) and each solver's VERSION.

Pure Python, no dolfinx: the main process validates parameters and computes cache keys with it
before any worker is started. Lengths are metres, temperatures degrees Celsius, SI elsewhere;
the unit is part of each field name.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from solvers.materials import MATERIALS, Material

VERSIONS: dict[str, str] = {
    "heat_conduction": "1.0",
    "heat_treatment": "1.0",
    "mould_cooling": "1.0",
    "elasticity": "1.0",
}


class ParameterError(ValueError):
    """Invalid solver parameters; the message names the solver, the field, expected vs found."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


Table = list[tuple[float, float]]


def _check_table(name: str, table: Table | None) -> Table | None:
    if table is None:
        return None
    if len(table) < 1:
        raise ValueError(f"{name} needs at least one (temperature_c, value) row")
    temps = [t for t, _ in table]
    if any(b <= a for a, b in zip(temps, temps[1:], strict=False)):
        raise ValueError(f"{name} temperatures must increase strictly, found {temps}")
    if any(v <= 0 for _, v in table):
        raise ValueError(f"{name} values must be positive")
    return table


class MaterialSpec(_Model):
    """A material: a table name, optionally overridden, or all values given explicitly."""

    name: str | None = None
    k_w_mk: float | None = Field(None, gt=0)
    rho_kg_m3: float | None = Field(None, gt=0)
    c_j_kgk: float | None = Field(None, gt=0)
    e_pa: float | None = Field(None, gt=0)
    nu: float | None = Field(None, ge=0, lt=0.5)
    alpha_1_k: float | None = Field(None, ge=0)
    yield_pa: float | None = Field(None, gt=0)
    k_table: Table | None = None
    c_table: Table | None = None
    latent_heat_j_kg: float = Field(0.0, ge=0)
    solidus_c: float | None = None
    liquidus_c: float | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in MATERIALS:
            raise ValueError(f"unknown material {v!r}; known: {', '.join(sorted(MATERIALS))}")
        return v

    @field_validator("k_table", "c_table")
    @classmethod
    def _tables(cls, v: Table | None, info: Any) -> Table | None:
        return _check_table(info.field_name, v)

    @model_validator(mode="after")
    def _latent(self) -> MaterialSpec:
        if self.latent_heat_j_kg > 0:
            if self.solidus_c is None or self.liquidus_c is None:
                raise ValueError("latent_heat_j_kg needs solidus_c and liquidus_c")
            if not self.liquidus_c > self.solidus_c:
                raise ValueError("liquidus_c must be above solidus_c")
        return self

    def resolved(self) -> dict[str, Any]:
        """Plain dict of every property (table values where not overridden; None if unknown)."""
        base: Material | None = MATERIALS[self.name] if self.name else None
        out: dict[str, Any] = {}
        for key in ("k_w_mk", "rho_kg_m3", "c_j_kgk", "e_pa", "nu", "alpha_1_k", "yield_pa"):
            v = getattr(self, key)
            out[key] = v if v is not None else (getattr(base, key) if base else None)
        # An explicit constant overrides the table's temperature dependence too.
        out["k_table"] = self.k_table or (base.k_table if base and self.k_w_mk is None else None)
        out["c_table"] = self.c_table or (base.c_table if base and self.c_j_kgk is None else None)
        out["latent_heat_j_kg"] = self.latent_heat_j_kg
        out["solidus_c"] = self.solidus_c
        out["liquidus_c"] = self.liquidus_c
        return out

    def require(self, *keys: str) -> dict[str, Any]:
        r = self.resolved()
        missing = [
            k
            for k in keys
            if r[k] is None
            and not (k == "k_w_mk" and r["k_table"])
            and not (k == "c_j_kgk" and r["c_table"])
        ]
        if missing:
            raise ValueError(f"material needs {', '.join(missing)} (give a table name or values)")
        return r


def _material(v: Any) -> Any:
    return {"name": v} if isinstance(v, str) else v


class GeometrySpec(_Model):
    """Built-in parametric geometry or a user mesh (``kind='mesh'``)."""

    kind: Literal[
        "interval",
        "plate",
        "cylinder",
        "sphere",
        "axisymmetric_cylinder",
        "rectangle",
        "box",
        "elliptic_membrane",
        "mesh",
    ]
    length_m: float | None = Field(None, gt=0)
    thickness_m: float | None = Field(None, gt=0)
    diameter_m: float | None = Field(None, gt=0)
    width_m: float | None = Field(None, gt=0)
    height_m: float | None = Field(None, gt=0)
    depth_m: float | None = Field(None, gt=0)
    # elliptic_membrane (NAFEMS LE1 shape): inner and outer semi-axes
    inner_a_m: float = Field(2.0, gt=0)
    inner_b_m: float = Field(1.0, gt=0)
    outer_a_m: float = Field(3.25, gt=0)
    outer_b_m: float = Field(2.75, gt=0)
    n_cells: int | list[int] | None = None
    cell: Literal["triangle", "quadrilateral", "tetrahedron", "hexahedron"] | None = None
    # user mesh
    file: str | None = None
    unit: str = "m"
    axisymmetric: bool = False

    @model_validator(mode="after")
    def _sizes(self) -> GeometrySpec:
        need = {
            "interval": ["length_m"],
            "plate": ["thickness_m"],
            "cylinder": ["diameter_m"],
            "sphere": ["diameter_m"],
            "axisymmetric_cylinder": ["diameter_m", "length_m"],
            "rectangle": ["width_m", "height_m"],
            "box": ["width_m", "height_m", "depth_m"],
            "mesh": ["file"],
            "elliptic_membrane": [],
        }[self.kind]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"geometry kind {self.kind!r} needs {', '.join(missing)}")
        if self.kind == "elliptic_membrane" and not (
            self.outer_a_m > self.inner_a_m and self.outer_b_m > self.inner_b_m
        ):
            raise ValueError("elliptic_membrane: outer semi-axes must exceed inner ones")
        return self


class BoundaryCondition(_Model):
    """On a named boundary: fixed temperature, or convection (+ radiation) to an ambient."""

    type: Literal["temperature", "convection"]
    temperature_c: float | str | None = (
        None  # number, or expression in t (s), e.g. "100*sin(pi*t/40)"
    )
    h_w_m2k: float = Field(0.0, ge=0)
    ambient_c: float | None = None
    emissivity: float = Field(0.0, ge=0, le=1)
    radiation_ambient_c: float | None = None

    @model_validator(mode="after")
    def _complete(self) -> BoundaryCondition:
        if self.type == "temperature":
            if self.temperature_c is None:
                raise ValueError("type 'temperature' needs temperature_c")
            if isinstance(self.temperature_c, str):
                time_expression(self.temperature_c)(0.0)  # fail early on a bad expression
        elif self.ambient_c is None:
            raise ValueError("type 'convection' needs ambient_c")
        return self


_SAFE = {n: getattr(math, n) for n in ("sin", "cos", "tan", "exp", "log", "sqrt", "pi", "tanh")}


def time_expression(text: str) -> Any:
    """A function t -> value from a small arithmetic expression in ``t`` (math functions only)."""
    try:
        code = compile(text, "<temperature_c>", "eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse temperature expression {text!r}: {exc.msg}") from None
    bad = [n for n in code.co_names if n not in _SAFE and n != "t"]
    if bad:
        raise ValueError(
            f"temperature expression {text!r} uses unknown names {bad}; "
            f"allowed: t, {', '.join(sorted(_SAFE))}"
        )

    def f(t: float) -> float:
        return float(eval(code, {"__builtins__": {}}, {**_SAFE, "t": t}))  # noqa: S307

    return f


class Numerics(_Model):
    degree: int = Field(2, ge=1, le=3)
    dt_s: float | None = Field(None, gt=0)
    steps_per_time_constant: int = Field(200, ge=10)
    picard_iterations: int | None = Field(None, ge=1, le=50)
    max_time_s: float | None = Field(None, gt=0)


class HeatConductionParams(_Model):
    """Generic heat conduction: any geometry, any boundary conditions, steady or transient."""

    geometry: GeometrySpec
    material: MaterialSpec
    initial_temperature_c: float = 20.0
    boundaries: dict[str, BoundaryCondition] = {}
    steady: bool = False
    end_time_s: float | None = Field(None, gt=0)
    probes: dict[str, list[float]] = {}
    numerics: Numerics = Field(default_factory=lambda: Numerics.model_validate({}))
    time_series: bool = False
    xdmf: str | None = None

    @field_validator("material", mode="before")
    @classmethod
    def _material_by_name(cls, v: Any) -> Any:
        return _material(v)

    @model_validator(mode="after")
    def _end(self) -> HeatConductionParams:
        if not self.steady and self.end_time_s is None:
            raise ValueError("a transient run needs end_time_s (or set steady: true)")
        self.material.require("rho_kg_m3", "k_w_mk", "c_j_kgk")
        return self


class HeatTreatmentParams(_Model):
    """A part heated in a furnace or quenched in a bath (convection + radiation on its surface)."""

    geometry: GeometrySpec
    material: MaterialSpec
    initial_temperature_c: float
    ambient_c: float = Field(..., description="furnace or bath temperature")
    h_w_m2k: float = Field(..., ge=0)
    emissivity: float = Field(0.0, ge=0, le=1)
    setpoint_c: float | None = None
    soak_delta_c: float = Field(10.0, gt=0)
    cool_below_c: float | None = None
    rate_at_c: float | None = None
    end_time_s: float | None = Field(None, gt=0)
    model: Literal["fe", "lumped"] = "fe"
    surface_tags: list[str] = ["surface"]
    core_point: list[float] | None = None
    surface_point: list[float] | None = None
    numerics: Numerics = Field(default_factory=lambda: Numerics.model_validate({}))
    time_series: bool = False
    xdmf: str | None = None

    @field_validator("material", mode="before")
    @classmethod
    def _material_by_name(cls, v: Any) -> Any:
        return _material(v)

    @model_validator(mode="after")
    def _consistent(self) -> HeatTreatmentParams:
        self.material.require("rho_kg_m3", "k_w_mk", "c_j_kgk")
        if self.h_w_m2k == 0 and self.emissivity == 0:
            raise ValueError("h_w_m2k and emissivity are both 0: the part never exchanges heat")
        heating = self.ambient_c > self.initial_temperature_c
        if self.setpoint_c is not None and not heating:
            raise ValueError(
                "setpoint_c (soak start) only applies when ambient_c is above initial_temperature_c"
            )
        if self.cool_below_c is not None and not (
            self.ambient_c < self.cool_below_c < self.initial_temperature_c
        ):
            raise ValueError(
                f"cool_below_c={self.cool_below_c} must lie between ambient_c={self.ambient_c} "
                f"and initial_temperature_c={self.initial_temperature_c}"
            )
        if self.geometry.kind == "mesh" and (self.core_point is None or self.surface_point is None):
            raise ValueError("a user mesh needs core_point and surface_point (in the mesh unit)")
        if self.geometry.kind not in (
            "plate",
            "cylinder",
            "sphere",
            "axisymmetric_cylinder",
            "mesh",
        ):
            raise ValueError(
                f"heat_treatment geometry kind must be plate, cylinder, sphere, "
                f"axisymmetric_cylinder or mesh, found {self.geometry.kind!r}"
            )
        return self


class MouldCoolingParams(_Model):
    """Cooling of a moulded wall (1D slab, both faces against the mould)."""

    wall_thickness_m: float = Field(..., gt=0)
    material: MaterialSpec | None = None
    thermal_diffusivity_m2_s: float | None = Field(None, gt=0)
    melt_temperature_c: float
    mould_temperature_c: float
    ejection_temperature_c: float
    contact_conductance_w_m2k: float | None = Field(None, gt=0)
    latent_heat_j_kg: float = Field(0.0, ge=0)
    solidification_range_c: tuple[float, float] | None = None
    numerics: Numerics = Field(default_factory=lambda: Numerics.model_validate({}))
    time_series: bool = False

    @field_validator("material", mode="before")
    @classmethod
    def _material_by_name(cls, v: Any) -> Any:
        return _material(v) if v is not None else None

    @model_validator(mode="after")
    def _consistent(self) -> MouldCoolingParams:
        if (self.material is None) == (self.thermal_diffusivity_m2_s is None):
            raise ValueError("give exactly one of material or thermal_diffusivity_m2_s")
        if not self.melt_temperature_c > self.ejection_temperature_c > self.mould_temperature_c:
            raise ValueError(
                "need melt_temperature_c > ejection_temperature_c > mould_temperature_c"
            )
        if self.thermal_diffusivity_m2_s is not None and (
            self.contact_conductance_w_m2k is not None or self.latent_heat_j_kg > 0
        ):
            raise ValueError("contact conductance and latent heat need a material (k, rho, c)")
        if self.latent_heat_j_kg > 0 and self.solidification_range_c is None:
            raise ValueError("latent_heat_j_kg needs solidification_range_c [solidus, liquidus]")
        return self


class Support(_Model):
    boundary: str
    components: list[Literal["x", "y", "z"]] | Literal["all"] = "all"


class Load(_Model):
    boundary: str
    pressure_pa: float | None = None  # positive pushes on the surface (against the outward normal)
    traction_pa: list[float] | None = None

    @model_validator(mode="after")
    def _one(self) -> Load:
        if (self.pressure_pa is None) == (self.traction_pa is None):
            raise ValueError(
                f"load on {self.boundary!r}: give exactly one of pressure_pa, traction_pa"
            )
        return self


class ElasticityParams(_Model):
    geometry: GeometrySpec
    material: MaterialSpec
    model: Literal["plane_stress", "plane_strain", "3d"] | None = None
    supports: list[Support]
    loads: list[Load] = []
    body_force_n_m3: list[float] | None = None
    temperature_change_c: float = 0.0
    points: list[list[float]] = []
    degree: int = Field(2, ge=1, le=3)
    xdmf: str | None = None

    @field_validator("material", mode="before")
    @classmethod
    def _material_by_name(cls, v: Any) -> Any:
        return _material(v)

    @model_validator(mode="after")
    def _consistent(self) -> ElasticityParams:
        self.material.require("e_pa", "nu")
        if self.temperature_change_c != 0:
            self.material.require("alpha_1_k")
        if not self.supports:
            raise ValueError("supports: at least one boundary must be held")
        return self


MODELS: dict[str, type[_Model]] = {
    "heat_conduction": HeatConductionParams,
    "heat_treatment": HeatTreatmentParams,
    "mould_cooling": MouldCoolingParams,
    "elasticity": ElasticityParams,
}


def validate(solver: str, params: dict[str, Any]) -> Any:
    """The validated model of ``params`` for ``solver``; ParameterError with field paths if bad."""
    if solver not in MODELS:
        raise ParameterError(f"unknown solver {solver!r}; known: {', '.join(sorted(MODELS))}")
    if not isinstance(params, dict):
        raise ParameterError(
            f"{solver}: parameters must be a mapping, found {type(params).__name__}"
        )
    try:
        return MODELS[solver].model_validate(params)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            found = err.get("input")
            found_s = "" if isinstance(found, dict) else f" (found {found!r})"
            msg = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"  {loc}: {msg}{found_s}")
        raise ParameterError(f"{solver}: invalid parameters\n" + "\n".join(lines)) from None
