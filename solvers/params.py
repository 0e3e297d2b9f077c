"""Validated parameters of every solver (pydantic models) and each solver's VERSION.

Pure Python, no dolfinx: the main process validates parameters and computes cache keys with it
before any worker is started. Lengths are metres, temperatures degrees Celsius, SI elsewhere;
the unit is part of each field name.

Validation also refuses what a solve could not sensibly do: values outside their physically
meaningful range (solvers.bounds: a 1 km bar, a 100 000 °C furnace, a mesh that takes hours),
temperatures above what the material data hold for, and targets the part can never reach (a
furnace colder than the soak level, a bath not colder than the quench target, a mould not
colder than the ejection temperature). Each error names the field, the value and what is
accepted, so ``vfactory validate`` reports it at the layout's file and line before any solve.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from solvers import bounds
from solvers.bounds import Range, number
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


#: A problem found by a cross-field check: (field location, value found, message).
_Problem = tuple[tuple, Any, str]


def _reject(model: str, problems: list[_Problem]) -> NoReturn:
    """Raise ``problems`` as validation errors located at their own fields.

    A ValueError from a model validator would point at the whole model; a ValidationError keeps
    each field's location, and pydantic prefixes it with the enclosing fields' locations.
    """
    raise ValidationError.from_exception_data(
        model,
        [
            InitErrorDetails(
                type=PydanticCustomError("physics", "{why}", {"why": msg}), loc=loc, input=value
            )
            for loc, value, msg in problems
        ],
    )


def _within(rng: Range) -> AfterValidator:
    def check(value: float) -> float:
        why = rng.problem(value)
        if why:
            raise PydanticCustomError("out_of_range", "{why}", {"why": why})
        return value

    return AfterValidator(check)


Length = Annotated[float, _within(bounds.LENGTH_M)]
Temperature = Annotated[float, _within(bounds.TEMPERATURE_C)]
Duration = Annotated[float, _within(bounds.DURATION_S)]
HeatTransfer = Annotated[float, _within(bounds.HEAT_TRANSFER_W_M2K)]


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
    solidus_c: Temperature | None = None
    liquidus_c: Temperature | None = None

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

    def temperature_range(self) -> Range:
        """Temperatures the data hold for: above absolute zero, up to the named material's
        ``max_temperature_c`` (the generic ceiling of solvers.bounds without one)."""
        base = MATERIALS[self.name] if self.name else None
        if base is None or base.max_temperature_c is None:
            return bounds.TEMPERATURE_C
        top = base.max_temperature_c
        return Range(
            bounds.ABSOLUTE_ZERO_C,
            top,
            "°C",
            f"the data of material {self.name!r} hold up to {number(top)} °C "
            f"({base.sources['max_temperature_c']})",
        )

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


def _temperature_problems(
    material: MaterialSpec | None, temperatures: Iterable[tuple[tuple, Any]]
) -> list[_Problem]:
    """Temperatures (location, value) above what ``material``'s data hold for."""
    rng = material.temperature_range() if material is not None else bounds.TEMPERATURE_C
    out: list[_Problem] = []
    for loc, v in temperatures:
        if isinstance(v, int | float) and not isinstance(v, bool):
            why = rng.problem(v)
            if why:
                out.append((loc, v, why))
    return out


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
    length_m: Length | None = None
    thickness_m: Length | None = None
    diameter_m: Length | None = None
    width_m: Length | None = None
    height_m: Length | None = None
    depth_m: Length | None = None
    # elliptic_membrane (NAFEMS LE1 shape): inner and outer semi-axes
    inner_a_m: Length = 2.0
    inner_b_m: Length = 1.0
    outer_a_m: Length = 3.25
    outer_b_m: Length = 2.75
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
        if self.n_cells is not None and self.kind != "mesh":
            why = _cells_problem(self.kind, self.n_cells)
            if why:
                _reject("GeometrySpec", [(("n_cells",), self.n_cells, why)])
        return self


#: Grid directions of each built-in geometry (the length of its n_cells list).
_DIRECTIONS = {
    "interval": 1,
    "plate": 1,
    "cylinder": 1,
    "sphere": 1,
    "axisymmetric_cylinder": 2,
    "rectangle": 2,
    "elliptic_membrane": 2,
    "box": 3,
}


def _cells_problem(kind: str, n_cells: int | list[int]) -> str | None:
    """Why ``n_cells`` does not fit geometry ``kind`` or is too big to solve (None if fine)."""
    dim = _DIRECTIONS[kind]
    n = [n_cells] * dim if isinstance(n_cells, int) else list(n_cells)
    if len(n) != dim:
        return (
            f"geometry kind {kind!r} needs {dim} cell count(s), one per direction, found {len(n)}"
        )
    if any(c < 1 for c in n):
        return "every cell count must be at least 1"
    return bounds.cell_count_problem(n)


class BoundaryCondition(_Model):
    """On a named boundary: fixed temperature, or convection (+ radiation) to an ambient."""

    type: Literal["temperature", "convection"]
    temperature_c: float | str | None = (
        None  # number, or expression in t (s), e.g. "100*sin(pi*t/40)"
    )
    h_w_m2k: HeatTransfer = 0.0
    ambient_c: Temperature | None = None
    emissivity: float = Field(0.0, ge=0, le=1)
    radiation_ambient_c: Temperature | None = None

    @model_validator(mode="after")
    def _complete(self) -> BoundaryCondition:
        if self.type == "temperature":
            if self.temperature_c is None:
                raise ValueError("type 'temperature' needs temperature_c")
            if isinstance(self.temperature_c, str):
                time_expression(self.temperature_c)(0.0)  # fail early on a bad expression
            else:
                found = _temperature_problems(None, [(("temperature_c",), self.temperature_c)])
                if found:
                    _reject("BoundaryCondition", found)
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
    dt_s: Duration | None = None
    steps_per_time_constant: Annotated[int, _within(bounds.STEPS_PER_TIME_CONSTANT)] = 200
    picard_iterations: int | None = Field(None, ge=1, le=50)
    max_time_s: Duration | None = None


def _step_problems(numerics: Numerics, end_field: str, end_s: float | None) -> list[_Problem]:
    """A given time step too small for the run's end (too many steps to solve)."""
    if numerics.dt_s is None or end_s is None:
        return []
    why = bounds.step_count_problem(end_s, numerics.dt_s, end_field)
    return [(("numerics", "dt_s"), numerics.dt_s, why)] if why else []


class _Part(_Model):
    """A part: its geometry and its material (a table name, or property values)."""

    geometry: GeometrySpec
    material: MaterialSpec

    @field_validator("material", mode="before")
    @classmethod
    def _material_by_name(cls, v: Any) -> Any:
        return _material(v)


class _HeatedPart(_Part):
    """A part whose temperature field is solved: it needs k, rho and c, and every temperature
    it is given must lie where its material data hold."""

    initial_temperature_c: Temperature = 20.0
    numerics: Numerics = Field(default_factory=lambda: Numerics.model_validate({}))
    time_series: bool = False
    xdmf: str | None = None

    def _temperatures(self) -> list[tuple[tuple, Any]]:
        """(location, value) of every temperature the part is given or may reach."""
        return [(("initial_temperature_c",), self.initial_temperature_c)]

    def _run_end(self) -> tuple[str, float | None]:
        """(field, value) that ends a transient run, if any (for the time-step count)."""
        return "end_time_s", None

    def _problems(self) -> list[_Problem]:
        return _temperature_problems(self.material, self._temperatures()) + _step_problems(
            self.numerics, *self._run_end()
        )

    @model_validator(mode="after")
    def _thermal(self) -> _HeatedPart:
        self.material.require("rho_kg_m3", "k_w_mk", "c_j_kgk")
        problems = self._problems()
        if problems:
            _reject(type(self).__name__, problems)
        return self


class HeatConductionParams(_HeatedPart):
    """Generic heat conduction: any geometry, any boundary conditions, steady or transient."""

    boundaries: dict[str, BoundaryCondition] = {}
    steady: bool = False
    end_time_s: Duration | None = None
    probes: dict[str, list[float]] = {}

    @model_validator(mode="after")
    def _end(self) -> HeatConductionParams:
        if not self.steady and self.end_time_s is None:
            raise ValueError("a transient run needs end_time_s (or set steady: true)")
        return self

    def _temperatures(self) -> list[tuple[tuple, Any]]:
        out = super()._temperatures()
        for name, bc in self.boundaries.items():
            for key in ("temperature_c", "ambient_c", "radiation_ambient_c"):
                out.append((("boundaries", name, key), getattr(bc, key)))
        return out

    def _run_end(self) -> tuple[str, float | None]:
        return "end_time_s", None if self.steady else self.end_time_s


@dataclass(frozen=True)
class Targets:
    """The core temperatures a heat-treatment run watches for (None: not asked for)."""

    heating: bool  # the furnace is hotter than the part
    soak_c: float | None  # setpoint (default: the furnace) minus soak_delta_c
    cool_below_c: float | None
    rate_at_c: float | None


class HeatTreatmentParams(_HeatedPart):
    """A part heated in a furnace or quenched in a bath (convection + radiation on its surface)."""

    initial_temperature_c: Temperature
    ambient_c: Temperature = Field(..., description="furnace or bath temperature")
    h_w_m2k: HeatTransfer
    emissivity: float = Field(0.0, ge=0, le=1)
    setpoint_c: Temperature | None = None
    soak_delta_c: float = Field(10.0, gt=0)
    cool_below_c: Temperature | None = None
    rate_at_c: Temperature | None = None
    end_time_s: Duration | None = None
    model: Literal["fe", "lumped"] = "fe"
    surface_tags: list[str] = ["surface"]
    core_point: list[float] | None = None
    surface_point: list[float] | None = None

    def targets(self) -> Targets:
        """What the run watches for; validation has made sure the core can reach each level."""
        heating = self.ambient_c > self.initial_temperature_c
        soak = None
        # With a fixed end time the soak level is reported only when asked for (setpoint_c).
        if heating and (self.setpoint_c is not None or self.end_time_s is None):
            top = self.setpoint_c if self.setpoint_c is not None else self.ambient_c
            soak = top - self.soak_delta_c
        return Targets(heating, soak, self.cool_below_c, self.rate_at_c)

    def _temperatures(self) -> list[tuple[tuple, Any]]:
        return super()._temperatures() + [
            ((key,), getattr(self, key))
            for key in ("ambient_c", "setpoint_c", "cool_below_c", "rate_at_c")
        ]

    def _run_end(self) -> tuple[str, float | None]:
        if self.end_time_s is not None:
            return "end_time_s", self.end_time_s
        return "numerics.max_time_s", self.numerics.max_time_s

    def _problems(self) -> list[_Problem]:
        return super()._problems() + _unreachable(self)

    @model_validator(mode="after")
    def _consistent(self) -> HeatTreatmentParams:
        if self.h_w_m2k == 0 and self.emissivity == 0:
            raise ValueError("h_w_m2k and emissivity are both 0: the part never exchanges heat")
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


def _unreachable(p: HeatTreatmentParams) -> list[_Problem]:
    """Core temperatures a heat treatment asks for that the part can never reach.

    The core moves from initial_temperature_c towards ambient_c and never gets past it, so a
    level is reached only if it lies strictly between the two (reaching ambient_c itself takes
    forever). The solver relies on this check (HeatTreatmentParams.targets).
    """
    t = p.targets()
    t0, amb = p.initial_temperature_c, p.ambient_c
    part = f"the part (initial_temperature_c {number(t0)} °C)"
    if amb == t0:
        return [(("ambient_c",), amb, "equals initial_temperature_c: no heat flows")]
    out: list[_Problem] = []
    if p.setpoint_c is not None and not t.heating:
        out.append(
            (
                ("ambient_c",),
                amb,
                f"the core would never reach setpoint_c {number(p.setpoint_c)} °C: a furnace at "
                f"{number(amb)} °C is not hotter than {part}; ambient_c must be above "
                f"{number(max(p.setpoint_c - p.soak_delta_c, t0))} °C",
            )
        )
    if t.soak_c is not None:
        given = (
            f"setpoint_c {number(p.setpoint_c)} - soak_delta_c {number(p.soak_delta_c)}"
            if p.setpoint_c is not None
            else f"ambient_c {number(amb)} - soak_delta_c {number(p.soak_delta_c)}"
        )
        if t.soak_c >= amb:
            out.append(
                (
                    ("ambient_c",),
                    amb,
                    f"the core would never reach the soak level {number(t.soak_c)} °C ({given}) "
                    f"in a furnace at {number(amb)} °C: ambient_c must be above "
                    f"{number(t.soak_c)} °C (or lower setpoint_c)",
                )
            )
        elif t.soak_c <= t0:
            loc = "setpoint_c" if p.setpoint_c is not None else "soak_delta_c"
            out.append(
                (
                    (loc,),
                    getattr(p, loc),
                    f"the soak level {number(t.soak_c)} °C ({given}) is not above {part}: the "
                    f"core starts there; it must lie between {number(t0)} and {number(amb)} °C",
                )
            )
    cool = t.cool_below_c
    if cool is not None:
        if cool >= t0:
            out.append(
                (
                    ("cool_below_c",),
                    cool,
                    f"is not below {part}: the core starts there; it must lie between "
                    f"ambient_c {number(amb)} and {number(t0)} °C",
                )
            )
        elif amb >= cool:
            out.append(
                (
                    ("ambient_c",),
                    amb,
                    f"the core would never fall below cool_below_c {number(cool)} °C in a bath "
                    f"at {number(amb)} °C: ambient_c (the quench medium) must be below "
                    f"{number(cool)} °C",
                )
            )
    rate = t.rate_at_c
    if rate is not None and not min(t0, amb) < rate < max(t0, amb):
        out.append(
            (
                ("rate_at_c",),
                rate,
                f"the core never passes {number(rate)} °C: it goes from initial_temperature_c "
                f"{number(t0)} °C towards ambient_c {number(amb)} °C; rate_at_c must lie between the two",
            )
        )
    if not t.heating and cool is None and rate is None and p.end_time_s is None and not out:
        out.append(
            (
                ("ambient_c",),
                amb,
                f"a furnace at {number(amb)} °C is colder than {part}, so the core never heats "
                f"up and no soak level is reached; for a quench give cool_below_c, rate_at_c or "
                f"end_time_s",
            )
        )
    return out


class MouldCoolingParams(_Model):
    """Cooling of a moulded wall (1D slab, both faces against the mould)."""

    wall_thickness_m: Annotated[float, _within(bounds.WALL_THICKNESS_M)]
    material: MaterialSpec | None = None
    thermal_diffusivity_m2_s: float | None = Field(None, gt=0)
    melt_temperature_c: Temperature
    mould_temperature_c: Temperature
    ejection_temperature_c: Temperature
    contact_conductance_w_m2k: (
        Annotated[float, _within(bounds.CONTACT_CONDUCTANCE_W_M2K)] | None
    ) = None
    latent_heat_j_kg: float = Field(0.0, ge=0)
    solidification_range_c: tuple[Temperature, Temperature] | None = None
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
        problems = _temperature_problems(
            self.material,
            [
                ((key,), getattr(self, key))
                for key in ("melt_temperature_c", "mould_temperature_c", "ejection_temperature_c")
            ],
        )
        problems += _never_ejected(self)
        problems += _step_problems(self.numerics, "numerics.max_time_s", self.numerics.max_time_s)
        if problems:
            _reject("MouldCoolingParams", problems)
        if self.thermal_diffusivity_m2_s is not None and (
            self.contact_conductance_w_m2k is not None or self.latent_heat_j_kg > 0
        ):
            raise ValueError("contact conductance and latent heat need a material (k, rho, c)")
        if self.latent_heat_j_kg > 0 and self.solidification_range_c is None:
            raise ValueError("latent_heat_j_kg needs solidification_range_c [solidus, liquidus]")
        return self


def _never_ejected(p: MouldCoolingParams) -> list[_Problem]:
    """Moulding temperatures that make ejection impossible (or meaningless).

    The wall cools from the melt towards the mould (coolant) temperature and never gets past
    it, so ejection must lie strictly between the two.
    """
    melt, mould, eject = p.melt_temperature_c, p.mould_temperature_c, p.ejection_temperature_c
    out: list[_Problem] = []
    if eject >= melt:
        out.append(
            (
                ("ejection_temperature_c",),
                eject,
                f"is not below melt_temperature_c {number(melt)} °C: the wall starts cold enough "
                f"to eject; ejection_temperature_c must lie between the mould and the melt",
            )
        )
    elif mould >= eject:
        out.append(
            (
                ("mould_temperature_c",),
                mould,
                f"the wall would never cool to ejection_temperature_c {number(eject)} °C "
                f"against a mould at {number(mould)} °C: mould_temperature_c (the coolant side) "
                f"must be below {number(eject)} °C",
            )
        )
    rng = p.solidification_range_c
    if rng is not None and not rng[0] < rng[1]:
        out.append(
            (
                ("solidification_range_c",),
                list(rng),
                "needs [solidus, liquidus] with solidus below liquidus",
            )
        )
    return out


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


class ElasticityParams(_Part):
    """Linear (thermo-)elastic part or fixture under supports and loads."""

    model: Literal["plane_stress", "plane_strain", "3d"] | None = None
    supports: list[Support]
    loads: list[Load] = []
    body_force_n_m3: list[float] | None = None
    temperature_change_c: Annotated[float, _within(bounds.TEMPERATURE_CHANGE_K)] = 0.0
    points: list[list[float]] = []
    degree: int = Field(2, ge=1, le=3)
    xdmf: str | None = None

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
