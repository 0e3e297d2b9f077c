"""Physically meaningful ranges of solver inputs, each with the reason for its ends.

The parameter models (solvers.params) refuse a value outside its range when parameters are
validated, so a 1 km bar, a 100 000 °C furnace or a mesh that would take hours to solve fails
when a layout is checked (``vfactory validate``), not after an expensive spawned solve. The
limits are generous for real shop-floor processes; each message says what is accepted and why.
Pure Python: importing this module never imports dolfinx.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def number(v: float) -> str:
    """A value as people write it: 10, 1200, 0.05, -273.15, 1 000 000."""
    if math.isfinite(v) and float(v).is_integer() and abs(v) < 1e12:
        return f"{int(v):,}".replace(",", " ") if abs(v) >= 10_000 else str(int(v))
    return f"{v:g}"


@dataclass(frozen=True)
class Range:
    """An interval of accepted values, its unit, and why its ends are where they are."""

    low: float
    high: float
    unit: str
    why: str
    low_closed: bool = False
    high_closed: bool = True

    def __str__(self) -> str:
        lo = "[" if self.low_closed else "("
        hi = "]" if self.high_closed else ")"
        return f"{lo}{number(self.low)}, {number(self.high)}{hi} {self.unit}".rstrip()

    def contains(self, value: float) -> bool:
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        return above and below  # NaN is neither: refused

    def problem(self, value: float) -> str | None:
        """None if ``value`` is accepted; otherwise the message (accepted range and why)."""
        if self.contains(value):
            return None
        return f"outside the accepted range {self}: {self.why}"


#: Sizes of the built-in geometries: plate thickness, bar diameter, part length, ...
LENGTH_M = Range(
    0.0,
    10.0,
    "m",
    "a part, fixture or furnace load on a shop floor is at most a few metres (10 m covers long "
    "shafts and bars); a larger value is almost always millimetres written as metres",
)

#: Wall of an injection-moulded part (mould_cooling).
WALL_THICKNESS_M = Range(
    0.0,
    0.05,
    "m",
    "injection-moulded walls are millimetres thick (design guides: 1-4 mm; thick optical parts "
    "reach a few centimetres); a larger value is usually millimetres written as metres",
)

ABSOLUTE_ZERO_C = -273.15

#: Ceiling of every temperature when the material names none (explicit property values). A
#: named material has its own, lower ceiling (solvers.materials: max_temperature_c).
GENERIC_MAX_TEMPERATURE_C = 2000.0

TEMPERATURE_C = Range(
    ABSOLUTE_ZERO_C,
    GENERIC_MAX_TEMPERATURE_C,
    "°C",
    "above absolute zero and at most 2000 °C, the top of industrial furnaces (vacuum hardening "
    "and sintering); steels are austenitised below 1250 °C, polymers moulded below 350 °C",
)

TEMPERATURE_CHANGE_K = Range(
    -GENERIC_MAX_TEMPERATURE_C,
    GENERIC_MAX_TEMPERATURE_C,
    "K",
    "a change larger than the 2000 °C temperature ceiling",
    low_closed=True,
)

_CONVECTION_WHY = (
    "convection coefficients reach 2 500-100 000 W/m²K in boiling and condensation "
    "(Incropera et al., Fundamentals of Heat and Mass Transfer, Table 1.1); values up to 1e6 "
    "are accepted as the ideal-contact limit"
)
HEAT_TRANSFER_W_M2K = Range(
    0.0,
    1e6,
    "W/m²K",
    _CONVECTION_WHY + "; a fixed surface temperature is a boundary of type 'temperature'",
    low_closed=True,
)
CONTACT_CONDUCTANCE_W_M2K = Range(
    0.0,
    1e6,
    "W/m²K",
    _CONVECTION_WHY + "; ideal contact is no contact_conductance_w_m2k at all",
)

#: End times, time steps and time caps of a transient run.
DURATION_S = Range(
    0.0,
    30 * 86400.0,
    "s",
    "30 days (2 592 000 s) is longer than any furnace or moulding cycle (long annealing and "
    "nitriding cycles last hours to a few days)",
)

STEPS_PER_TIME_CONSTANT = Range(
    10,
    10_000,
    "",
    "the default 200 gives results within 1 % (tests/solvers); 10 000 is 50 times finer and "
    "a run of 60 time constants then already takes 600 000 steps",
    low_closed=True,
)

#: Largest number of time steps a transient run may take when dt_s is given.
MAX_TIME_STEPS = 1_000_000
_STEPS_WHY = (
    "even a 1D solve takes about a millisecond per step, a 3D one seconds (BDF2 with a direct "
    "LU solve per step)"
)

#: Largest built-in mesh per topological dimension, in cells (a quadrilateral or hexahedral
#: grid counts as the triangles or tetrahedra of the same grid: same unknowns at degree 2).
#: Measured on the project's 2-core server (dolfinx 0.5.2, PETSc LU, degree 2, EN 1993-1-2
#: k(T), c(T) tables and radiation, i.e. two factorisations per step, 1 thread): 1D 100 000
#: cells 0.2 s per step; 2D 20 000 / 80 000 triangles 0.42 / 4.1 s; 3D 3 072 / 24 576
#: tetrahedra 0.48 / 40 s (the 3D cost grows with the square of the cell count). A heat-up
#: takes about 1 000 steps (200 per time constant), so at these limits a run takes about
#: 3 min (1D), 35 min (2D) and 30 min (3D); beyond them, hours.
MAX_CELLS: dict[int, int] = {1: 100_000, 2: 50_000, 3: 6_000}
_SPLIT = {1: 1, 2: 2, 3: 6}  # triangles / tetrahedra per grid box of a built-in mesh


def cell_count(n_cells: Sequence[int]) -> int:
    """Cells of a built-in mesh with ``n_cells`` grid divisions per direction."""
    return math.prod(n_cells) * _SPLIT[len(n_cells)]


def cell_count_problem(n_cells: Sequence[int]) -> str | None:
    """None if a built-in mesh of ``n_cells`` divisions is small enough to solve, else why not."""
    tdim = len(n_cells)
    cells = cell_count(n_cells)
    limit = MAX_CELLS[tdim]
    if cells <= limit:
        return None
    grid = " x ".join(str(n) for n in n_cells)
    shape = {2: "triangles", 3: "tetrahedra"}.get(tdim)
    split = f" ({grid} boxes of {_SPLIT[tdim]} {shape})" if shape else ""
    return (
        f"{number(cells)} cells{split} exceed the limit of {number(limit)} cells for a "
        f"{tdim}D solve (the default meshes are within 1 %): beyond it a transient run of about "
        f"1 000 time steps, each a direct LU solve, takes from tens of minutes to hours on a "
        f"shop-floor server (measured: solvers/bounds.py)"
    )


def step_count_problem(end_s: float, dt_s: float, end_field: str) -> str | None:
    """None if a run to ``end_s`` in steps of ``dt_s`` has few enough steps, else why not."""
    steps = math.ceil(end_s / dt_s - 1e-9)
    if steps <= MAX_TIME_STEPS:
        return None
    return (
        f"{number(steps)} time steps up to {end_field} = {number(end_s)} s exceed the limit of "
        f"{number(MAX_TIME_STEPS)} steps ({_STEPS_WHY}); accepted: dt_s >= "
        f"{end_s / MAX_TIME_STEPS:g} s"
    )


def check_step_count(
    end_s: float, dt_s: float, end_time_s: float | None, max_time_s: float | None, tau_s: float
) -> None:
    """Refuse, before the time loop, a run whose horizon needs too many steps of ``dt_s``.

    Validation checks this when the run's end is given; without one the horizon is 60 time
    constants of the part, known only once its properties are (here, in the solver).
    """
    if end_time_s:
        field = "end_time_s"
    elif max_time_s:
        field = "numerics.max_time_s"
    else:
        field = f"the default horizon (60 time constants of the part, {tau_s:.4g} s each)"
    why = step_count_problem(end_s, dt_s, field)
    if why:
        from solvers.params import ParameterError

        raise ParameterError(f"numerics.dt_s: {why}")
