"""User meshes (Gmsh .msh, .vtu/.vtk, .xdmf via meshio) with named boundaries and a length unit.

Every mistake a user can make in a mesh file ends in a :class:`MeshError` whose message starts
with the file name: mixed cell types, higher-order or unsupported cells, wrong dimension, no
boundary tags, and a length unit that does not fit the mesh's size.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from solvers import _compat
from solvers.geometry import Domain

#: Length units a layout may state, in metres.
UNITS: dict[str, float] = {
    "m": 1.0,
    "dm": 0.1,
    "cm": 0.01,
    "mm": 1e-3,
    "um": 1e-6,
    "in": 0.0254,
    "ft": 0.3048,
}

#: Plausible size of a factory part or fixture (largest extent, metres). Outside this the unit
#: is almost certainly wrong (a mm mesh read as metres is 1000x too big).
EXTENT_RANGE_M = (1e-4, 50.0)

_DIM = {"line": 1, "triangle": 2, "quad": 2, "tetra": 3, "hexahedron": 3}
_DOLFINX_CELL = {
    "line": "interval",
    "triangle": "triangle",
    "quad": "quadrilateral",
    "tetra": "tetrahedron",
    "hexahedron": "hexahedron",
}
# meshio/VTK vertex order -> dolfinx (lexicographic) order for tensor-product cells
_PERM = {"quad": [0, 1, 3, 2], "hexahedron": [0, 1, 3, 2, 4, 5, 7, 6]}
_FACET = {1: "vertex", 2: "line", 3: ("triangle", "quad")}
_TAG_KEYS = (
    "gmsh:physical",
    "medit:ref",
    "CellEntityIds",
    "tags",
    "tag",
    "boundary",
    "cell_tags",
    "physical",
)


class MeshError(ValueError):
    """A user mesh that cannot be used; the message names the file."""


def file_digest(path: str | Path) -> str:
    """sha256 of a mesh file's bytes (the cache key ingredient)."""
    p = Path(path)
    try:
        return hashlib.sha256(p.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise MeshError(f"{p}: mesh file not found") from None
    except IsADirectoryError:
        raise MeshError(f"{p}: is a directory, expected a mesh file") from None


def _cell_dim(path: Path, ctype: str) -> int:
    if ctype in _DIM:
        return _DIM[ctype]
    if ctype == "vertex":
        return 0
    raise MeshError(
        f"{path}: unsupported cell type {ctype!r}; use first-order cells "
        f"({', '.join(_DIM)}) — re-export with element order 1"
    )


def _tag_array(block_data: dict[str, np.ndarray]) -> np.ndarray | None:
    for key in _TAG_KEYS:
        if key in block_data:
            return np.asarray(block_data[key]).astype(np.int64)
    return None


def load(path: str | Path, unit: str = "m", dim: int | None = None) -> Domain:
    """Read ``path`` as a dolfinx mesh in SI units with its boundary groups as facet tags.

    ``dim`` is the topological dimension the caller needs (None: any).
    """
    import meshio

    p = Path(path)
    if not p.exists():
        raise MeshError(f"{p}: mesh file not found")
    if unit not in UNITS:
        raise MeshError(f"{p}: unknown length unit {unit!r}; known: {', '.join(UNITS)}")
    try:
        m = meshio.read(str(p))
    except (Exception, SystemExit) as exc:  # meshio raises many types (even exits): unreadable
        raise MeshError(f"{p}: cannot read mesh ({type(exc).__name__}: {exc})") from None

    blocks = [(b.type, np.asarray(b.data), i) for i, b in enumerate(m.cells)]
    if not blocks:
        raise MeshError(f"{p}: contains no cells")
    dims = {ct: _cell_dim(p, ct) for ct, _, _ in blocks}
    tdim = max(dims.values())
    if tdim == 0:
        raise MeshError(f"{p}: contains only vertices, no cells")
    domain_types = sorted({ct for ct, _, _ in blocks if dims[ct] == tdim})
    if len(domain_types) > 1:
        raise MeshError(
            f"{p}: mixed cell types {domain_types} in the {tdim}D domain; "
            "dolfinx needs one cell type per mesh (re-mesh with one type)"
        )
    if dim is not None and tdim != dim:
        raise MeshError(
            f"{p}: the solver needs a {dim}D mesh, found {tdim}D cells ({domain_types[0]})"
        )
    ctype = domain_types[0]

    x = np.asarray(m.points, dtype=float)
    # Drop coordinate columns that are identically zero (2D meshes stored with z = 0).
    gdim = x.shape[1]
    while gdim > tdim and np.allclose(x[:, gdim - 1], 0.0):
        gdim -= 1
    if gdim != tdim:
        raise MeshError(
            f"{p}: {tdim}D cells embedded in {gdim}D space; a {tdim}D mesh must lie "
            f"in the {'z = 0 plane' if tdim == 2 else 'x axis'}"
        )
    x = x[:, :gdim] * UNITS[unit]

    cells = np.concatenate([d for ct, d, _ in blocks if ct == ctype]).astype(np.int64)
    used = np.unique(cells)
    extent = float(np.max(np.ptp(x[used], axis=0)))
    lo, hi = EXTENT_RANGE_M
    if not lo <= extent <= hi:
        raw = extent / UNITS[unit]
        guess = min(UNITS, key=lambda u: abs(np.log10(raw * UNITS[u] / 0.3)))
        raise MeshError(
            f"{p}: largest extent {raw:g} {unit} = {extent:g} m is outside the plausible "
            f"part size {lo:g}-{hi:g} m; is the length unit right? (unit {guess!r} would give "
            f"{raw * UNITS[guess]:g} m)"
        )
    # Renumber to used vertices only (Gmsh files often carry geometry-only points).
    renum = -np.ones(len(x), dtype=np.int64)
    renum[used] = np.arange(len(used))
    x = x[used]
    cells = renum[cells]
    if ctype in _PERM:
        cells = cells[:, _PERM[ctype]]
    msh = _compat.create_mesh(cells, x, _DOLFINX_CELL[ctype])

    # Boundary groups: names (Gmsh field_data) -> tag ids; facets matched by midpoint.
    names: dict[str, tuple[int, ...]] = {}
    for name, data in (m.field_data or {}).items():
        arr = np.atleast_1d(data)
        if len(arr) >= 2 and int(arr[1]) == tdim - 1:
            names[str(name)] = (int(arr[0]),)
    facet_types = _FACET[tdim]
    facet_types = facet_types if isinstance(facet_types, tuple) else (facet_types,)
    mids, vals = [], []
    for ct, data, i in blocks:
        if ct not in facet_types:
            continue
        block_data = {k: v[i] for k, v in m.cell_data.items() if i < len(v)}
        tags = _tag_array(block_data)
        if tags is None:
            continue
        coords = np.asarray(m.points, dtype=float)[:, :gdim] * UNITS[unit]
        mids.append(coords[data].mean(axis=1))
        vals.append(tags)
    if not mids:
        raise MeshError(
            f"{p}: no tagged boundary facets ({'points' if tdim == 1 else 'lines' if tdim == 2 else 'faces'} "
            f"with a physical group / cell_data {_TAG_KEYS[0]!r}); add named physical groups "
            "for the boundaries in Gmsh"
        )
    fmid = np.concatenate(mids)
    fval = np.concatenate(vals)
    from scipy.spatial import cKDTree

    bfacets = _compat.boundary_facets(msh)
    bmid = _compat.facet_midpoints(msh, bfacets)[:, :gdim]
    dist, idx = cKDTree(fmid).query(bmid)
    hit = dist <= 1e-8 * max(extent, 1e-12) + 1e-14
    tags = _compat.facet_tags(msh, bfacets[hit], fval[idx[hit]])
    for v in np.unique(fval):
        names.setdefault(str(int(v)), (int(v),))
    present = set(np.unique(fval[idx[hit]]).tolist())
    names = {n: t for n, t in names.items() if set(t) & present}
    dom = Domain(
        msh, tags, names, 0, "mesh", np.array(msh.geometry.x, copy=True), str(p), UNITS[unit]
    )
    return dom
