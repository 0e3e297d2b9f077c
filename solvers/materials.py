"""A small table of engineering materials (steels, aluminium, common moulding polymers).

Every value carries its source. Polymer values are typical datasheet figures for unfilled grades
at room temperature and vary between grades by 10-30 %: use them for screening, replace them with
the supplier's datasheet for decisions. SI units throughout (W/m K, kg/m3, J/kg K, Pa, 1/K).
Pure Python: importing this module never imports dolfinx.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _en1993_steel_conductivity() -> list[tuple[float, float]]:
    # EN 1993-1-2:2005 §3.4.1.3: lambda = 54 - 3.33e-2 theta (20..800 C), 27.3 above.
    pts = [20.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 1200.0]
    return [(t, 54.0 - 3.33e-2 * t if t < 800.0 else 27.3) for t in pts]


def _en1993_steel_heat_capacity() -> list[tuple[float, float]]:
    # EN 1993-1-2:2005 §3.4.1.2, including the magnetic-transformation peak at 735 C.
    def c(t: float) -> float:
        if t < 600.0:
            return 425.0 + 7.73e-1 * t - 1.69e-3 * t**2 + 2.22e-6 * t**3
        if t < 735.0:
            return 666.0 + 13002.0 / (738.0 - t)
        if t < 900.0:
            return 545.0 + 17820.0 / (t - 731.0)
        return 650.0

    pts = [
        20.0,
        100.0,
        200.0,
        300.0,
        400.0,
        500.0,
        600.0,
        650.0,
        700.0,
        720.0,
        730.0,
        735.0,
        740.0,
        750.0,
        775.0,
        800.0,
        850.0,
        900.0,
        1200.0,
    ]
    return [(t, c(t)) for t in pts]


@dataclass(frozen=True)
class Material:
    """Room-temperature properties; optional (T in C, value) tables override k and c.

    ``max_temperature_c`` bounds every temperature a solver is given for this material: the
    data stop holding there (melting, the end of a standard's table, polymer degradation).
    """

    name: str
    k_w_mk: float
    rho_kg_m3: float
    c_j_kgk: float
    e_pa: float
    nu: float
    alpha_1_k: float
    yield_pa: float
    sources: dict[str, str]
    k_table: list[tuple[float, float]] | None = None
    c_table: list[tuple[float, float]] | None = None
    notes: str = ""
    extra: dict[str, float] = field(default_factory=dict)
    #: Highest temperature the data hold for (source in ``sources["max_temperature_c"]``):
    #: solver inputs above it are refused (None: solvers.bounds.GENERIC_MAX_TEMPERATURE_C).
    max_temperature_c: float | None = None


_MATWEB = "MatWeb material property data (matweb.com), "
_POLY = "typical unfilled-grade value, MatWeb 'Overview of materials for {}' and Osswald & Menges, Materials Science of Polymers for Engineers, 3rd ed. (2012), App. "

_CARBON_STEEL_MAX = (
    "EN 1993-1-2:2005 §3.4.1 gives the thermal data of carbon steel for 20-1200 °C "
    "(solidus about 1450 °C)"
)
_MELT = (
    "injection-moulding melt temperatures of {} are {} °C (moulders' melt and mould temperature "
    "tables, e.g. plastikcity.co.uk); 30 K above their top the polymer degrades"
)

MATERIALS: dict[str, Material] = {
    "steel_textbook": Material(
        "steel_textbook",
        40.0,
        7800.0,
        500.0,
        210e9,
        0.3,
        12e-6,
        250e6,
        sources={
            "k_w_mk,rho_kg_m3,c_j_kgk": "shared/VALIDATION.md furnace/quench cases (textbook steel)",
            "e_pa,nu,alpha_1_k,yield_pa": "EN 1993-1-1:2005 §3.2.6 (E, nu, alpha); S235-S275 range",
            "max_temperature_c": _CARBON_STEEL_MAX,
        },
        notes="The round-number steel of the heat-transfer textbooks; used by the validation tests.",
        max_temperature_c=1200.0,
    ),
    "steel_s235": Material(
        "steel_s235",
        53.3,
        7850.0,
        439.8,
        210e9,
        0.3,
        12e-6,
        235e6,
        sources={
            "k_w_mk,k_table": "EN 1993-1-2:2005 §3.4.1.3 (thermal conductivity of carbon steel)",
            "c_j_kgk,c_table": "EN 1993-1-2:2005 §3.4.1.2 (specific heat of carbon steel)",
            "rho_kg_m3,e_pa,nu,alpha_1_k": "EN 1993-1-1:2005 §3.2.6",
            "yield_pa": "EN 10025-2:2019 Table 7 (S235JR, t <= 16 mm)",
            "max_temperature_c": _CARBON_STEEL_MAX,
        },
        k_table=_en1993_steel_conductivity(),
        c_table=_en1993_steel_heat_capacity(),
        max_temperature_c=1200.0,
    ),
    "steel_c45": Material(
        "steel_c45",
        49.8,
        7850.0,
        486.0,
        205e9,
        0.29,
        11.5e-6,
        530e6,
        sources={
            "*": _MATWEB + "'AISI 1045 Steel, cold drawn' (C45 equivalent)",
            "max_temperature_c": _CARBON_STEEL_MAX,
        },
        max_temperature_c=1200.0,
    ),
    "stainless_304": Material(
        "stainless_304",
        16.2,
        8000.0,
        500.0,
        193e9,
        0.29,
        17.3e-6,
        215e6,
        sources={
            "*": "ASM Handbook / AK Steel 304/304L product data bulletin (annealed)",
            "max_temperature_c": "below the 1399-1454 °C melting range (AK Steel 304/304L "
            "product data bulletin); solution annealing is at 1010-1120 °C",
        },
        max_temperature_c=1200.0,
    ),
    "aluminium_6061_t6": Material(
        "aluminium_6061_t6",
        167.0,
        2700.0,
        896.0,
        68.9e9,
        0.33,
        23.6e-6,
        276e6,
        sources={
            "*": "ASM Aerospace Specification Metals, 'Aluminum 6061-T6' (via MatWeb)",
            "max_temperature_c": "below the 582-652 °C melting range (ASM Aerospace "
            "Specification Metals, 'Aluminum 6061-T6'); solution heat treatment is at about 530 °C",
        },
        max_temperature_c=560.0,
    ),
    "pp": Material(
        "pp",
        0.22,
        905.0,
        1920.0,
        1.5e9,
        0.42,
        100e-6,
        33e6,
        sources={
            "*": _POLY.format("Polypropylene, Homopolymer"),
            "max_temperature_c": _MELT.format("PP homopolymer", "200-280"),
        },
        max_temperature_c=310.0,
    ),
    "pa6": Material(
        "pa6",
        0.25,
        1140.0,
        1600.0,
        2.8e9,
        0.39,
        85e-6,
        80e6,
        sources={
            "*": _POLY.format("Nylon 6, dry as moulded"),
            "max_temperature_c": _MELT.format("PA6", "230-290"),
        },
        notes="Dry as moulded; conditioned (50 % RH) PA6 has E ~ 1.0 GPa and yield ~ 45 MPa.",
        max_temperature_c=320.0,
    ),
    "abs": Material(
        "abs",
        0.17,
        1050.0,
        1400.0,
        2.3e9,
        0.35,
        90e-6,
        45e6,
        sources={
            "*": _POLY.format("ABS, Molded"),
            "max_temperature_c": _MELT.format("ABS", "190-270"),
        },
        max_temperature_c=300.0,
    ),
    "pc": Material(
        "pc",
        0.20,
        1200.0,
        1200.0,
        2.35e9,
        0.37,
        68e-6,
        62e6,
        sources={
            "*": _POLY.format("Polycarbonate, Molded"),
            "max_temperature_c": _MELT.format("PC", "280-320"),
        },
        max_temperature_c=350.0,
    ),
}


def material(name: str) -> Material:
    """The material called ``name`` (ValueError listing the known names otherwise)."""
    try:
        return MATERIALS[name]
    except KeyError:
        raise ValueError(
            f"unknown material {name!r}; known: {', '.join(sorted(MATERIALS))}"
        ) from None
