"""Built-in parametric geometries (plate, cylinder, rectangle, elliptic membrane …) as tagged meshes.

Each mesh is built once on a reference shape and its coordinates are mapped to the requested
dimensions before every solve: a new thickness or diameter changes the geometry *data*, not the
compiled forms, so an Optuna trial over part size reuses everything (see solvers.compiled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from dolfinx import mesh as dmesh

from solvers import _compat
from solvers.params import GeometrySpec

#: Default cell counts per geometry kind (a 1 % accurate answer with degree-2 elements).
DEFAULT_CELLS: dict[str, tuple[int, ...]] = {
    "interval": (40,),
    "plate": (20,),
    "cylinder": (20,),
    "sphere": (20,),
    "axisymmetric_cylinder": (16, 16),
    "rectangle": (24, 40),
    "box": (8, 8, 8),
    "elliptic_membrane": (12, 24),
}


@dataclass
class Domain:
    """A mesh with named boundaries; ``weight_power`` m makes dx mean r^m dr (1 axisym, 2 sphere)."""

    msh: Any
    tags: Any
    boundaries: dict[str, tuple[int, ...]]
    weight_power: int = 0
    kind: str = "mesh"
    ref_x: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    source: str = ""
    scale_to_si: float = 1.0

    @property
    def tdim(self) -> int:
        return int(self.msh.topology.dim)

    def set_coordinates(self, x: np.ndarray) -> None:
        self.msh.geometry.x[:, : x.shape[1]] = x

    def tag_ids(self, name: str, owner: str) -> tuple[int, ...]:
        try:
            return self.boundaries[name]
        except KeyError:
            where = f" in {self.source}" if self.source else f" of geometry {self.kind!r}"
            raise ValueError(
                f"{owner}: no boundary named {name!r}{where}; available: "
                f"{', '.join(sorted(self.boundaries)) or '(none)'}"
            ) from None


def cells_for(spec: GeometrySpec, refine: float = 1.0) -> tuple[int, ...]:
    n = spec.n_cells
    if n is None:
        base = DEFAULT_CELLS.get(spec.kind, (16,))
        return tuple(max(1, round(c * refine)) for c in base)
    return tuple(n) if isinstance(n, list) else (n,) * len(DEFAULT_CELLS.get(spec.kind, (1,)))


def _tag(msh: Any, markers: dict[str, Any]) -> tuple[Any, dict[str, tuple[int, ...]]]:
    fdim = msh.topology.dim - 1
    facets, values, names = [], [], {}
    for i, (name, marker) in enumerate(markers.items(), start=1):
        f = dmesh.locate_entities_boundary(msh, fdim, marker)
        facets.append(f)
        values.append(np.full(len(f), i, dtype=np.int32))
        names[name] = (i,)
    f = np.concatenate(facets)
    v = np.concatenate(values)
    # A facet marked twice (corner of a box edge) keeps its first tag.
    f, first = np.unique(f, return_index=True)
    return _compat.facet_tags(msh, f, v[first]), names


def create(spec: GeometrySpec, n: tuple[int, ...]) -> Domain:
    """The reference mesh for ``spec.kind`` with ``n`` cells per direction (tagged boundaries)."""
    kind = spec.kind
    eps = 1e-10
    if kind in ("interval", "plate", "cylinder", "sphere"):
        msh = _compat.create_interval(n[0], 0.0, 1.0)
        if kind == "interval":
            markers = {"left": lambda x: x[0] < eps, "right": lambda x: x[0] > 1 - eps}
        else:  # x = 0 is the centre plane / axis (symmetry: natural zero-flux condition)
            markers = {"surface": lambda x: x[0] > 1 - eps, "centre": lambda x: x[0] < eps}
        power = {"interval": 0, "plate": 0, "cylinder": 1, "sphere": 2}[kind]
        tags, names = _tag(msh, markers)
        dom = Domain(msh, tags, names, power, kind)
    elif kind in ("rectangle", "axisymmetric_cylinder", "elliptic_membrane"):
        cell = spec.cell or ("quadrilateral" if kind == "elliptic_membrane" else "triangle")
        msh = _compat.create_rectangle((0, 0), (1, 1), n[:2], cell)
        if kind == "rectangle":
            markers = {
                "left": lambda x: x[0] < eps,
                "right": lambda x: x[0] > 1 - eps,
                "bottom": lambda x: x[1] < eps,
                "top": lambda x: x[1] > 1 - eps,
            }
        elif kind == "axisymmetric_cylinder":  # r in [0, R], z in [0, L/2] (mid-plane symmetry)
            markers = {
                "side": lambda x: x[0] > 1 - eps,
                "end": lambda x: x[1] > 1 - eps,
                "axis": lambda x: x[0] < eps,
                "mid": lambda x: x[1] < eps,
            }
        else:  # reference (s, theta^) in [0,1]^2 mapped between the two ellipses
            markers = {
                "inner": lambda x: x[0] < eps,
                "outer": lambda x: x[0] > 1 - eps,
                "x_axis": lambda x: x[1] < eps,
                "y_axis": lambda x: x[1] > 1 - eps,
            }
        tags, names = _tag(msh, markers)
        if kind == "axisymmetric_cylinder":
            names["surface"] = names["side"] + names["end"]
        dom = Domain(msh, tags, names, 1 if kind == "axisymmetric_cylinder" else 0, kind)
    elif kind == "box":
        msh = _compat.create_box((0, 0, 0), (1, 1, 1), n[:3], spec.cell or "tetrahedron")
        markers = {
            "left": lambda x: x[0] < eps,
            "right": lambda x: x[0] > 1 - eps,
            "bottom": lambda x: x[1] < eps,
            "top": lambda x: x[1] > 1 - eps,
            "front": lambda x: x[2] < eps,
            "back": lambda x: x[2] > 1 - eps,
        }
        tags, names = _tag(msh, markers)
        dom = Domain(msh, tags, names, 0, kind)
    else:
        raise ValueError(f"no built-in geometry {kind!r}")
    dom.ref_x = np.array(msh.geometry.x, copy=True)
    return dom


def physical_coordinates(dom: Domain, spec: GeometrySpec) -> np.ndarray:
    """Vertex coordinates of ``dom``'s reference mesh mapped to the dimensions in ``spec``."""
    X = dom.ref_x
    kind = spec.kind
    if kind == "interval":
        return X[:, :1] * spec.length_m
    if kind == "plate":
        return X[:, :1] * (spec.thickness_m / 2)
    if kind in ("cylinder", "sphere"):
        return X[:, :1] * (spec.diameter_m / 2)
    if kind == "axisymmetric_cylinder":
        return X[:, :2] * np.array([spec.diameter_m / 2, spec.length_m / 2])
    if kind == "rectangle":
        return X[:, :2] * np.array([spec.width_m, spec.height_m])
    if kind == "box":
        return X[:, :3] * np.array([spec.width_m, spec.height_m, spec.depth_m])
    if kind == "elliptic_membrane":
        s, th = X[:, 0], X[:, 1] * (math.pi / 2)
        c, si = np.cos(th), np.sin(th)
        x = (1 - s) * spec.inner_a_m * c + s * spec.outer_a_m * c
        y = (1 - s) * spec.inner_b_m * si + s * spec.outer_b_m * si
        return np.column_stack([x, y])
    raise ValueError(f"no built-in geometry {kind!r}")


def core_and_surface(spec: GeometrySpec) -> tuple[list[float], list[float]]:
    """Default probe points (m) for the core and the surface of a built-in heat-treatment shape."""
    if spec.kind == "plate":
        return [0.0], [spec.thickness_m / 2]
    if spec.kind in ("cylinder", "sphere"):
        return [0.0], [spec.diameter_m / 2]
    if spec.kind == "axisymmetric_cylinder":
        return [0.0, 0.0], [spec.diameter_m / 2, 0.0]
    raise ValueError(f"no default core/surface points for geometry {spec.kind!r}")


def domain_key(spec: GeometrySpec, n: tuple[int, ...]) -> tuple:
    """What identifies a reference mesh (dimensions excluded: they are mapped per solve)."""
    if spec.kind == "mesh":
        from solvers.mesh import file_digest

        return ("mesh", file_digest(spec.file), spec.unit, spec.axisymmetric)
    return (spec.kind, n, spec.cell)


def measure_factor(spec: GeometrySpec, tdim: int) -> tuple[float, str]:
    """Factor turning the integral over the modelled domain into the whole part, and its unit.

    Plate: half-thickness model → per m² of plate (both halves, J/m²). Cylinder: radial model →
    per metre of bar (2π r dr, J/m). Sphere: 4π r² dr (J). Axisymmetric: half length → 2·2π (J).
    """
    if spec.kind == "plate":
        return 2.0, "j_per_m2"
    if spec.kind == "cylinder":
        return 2 * math.pi, "j_per_m"
    if spec.kind == "sphere":
        return 4 * math.pi, "j"
    if spec.kind == "axisymmetric_cylinder":
        return 4 * math.pi, "j"
    if spec.kind == "mesh" and spec.axisymmetric:
        return 2 * math.pi, "j"
    # A plain user mesh: 1D is per m² of cross-section, 2D per metre of depth, 3D the whole part.
    return 1.0, {1: "j_per_m2", 2: "j_per_m", 3: "j"}[tdim]
