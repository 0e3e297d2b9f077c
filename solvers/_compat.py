"""Every difference between dolfinx versions (0.5.2 here, 0.8-0.10 elsewhere), by feature detection.

The rest of ``solvers/`` calls only these helpers plus the API subset that did not change between
versions (``Function``, ``Constant``, ``dirichletbc``, ``locate_dofs_topological``,
``locate_entities_boundary``, ``meshtags``, ``create_interval/rectangle/box``, UFL).
No helper looks at ``dolfinx.__version__``: each probes for the attribute or keyword it needs.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dolfinx
import dolfinx.fem.petsc as fem_petsc  # noqa: E402,I001  (submodule must be imported explicitly)
import numpy as np
import ufl
from dolfinx import fem, geometry, mesh
from mpi4py import MPI
from petsc4py import PETSc

from solvers import jit  # noqa: E402

COMM = MPI.COMM_SELF
ScalarType = PETSc.ScalarType

#: Number of UFL forms/expressions handed to the JIT in this process (tests use it to prove reuse).
JIT_STATS: dict[str, int] = {"forms": 0, "expressions": 0}

CELL_TYPES = {
    "interval": mesh.CellType.interval,
    "triangle": mesh.CellType.triangle,
    "quadrilateral": mesh.CellType.quadrilateral,
    "tetrahedron": mesh.CellType.tetrahedron,
    "hexahedron": mesh.CellType.hexahedron,
}


# --------------------------------------------------------------------------------------------
# JIT options
# --------------------------------------------------------------------------------------------
def jit_options() -> dict[str, Any]:
    return {
        "cache_dir": str(jit.jit_dir()),
        "cffi_extra_compile_args": ["-O2", "-g0"],
        "timeout": jit.WAIT_S,
    }


def _jit_retry(compile_: Any) -> Any:
    """Run a JIT compile; after a lock timeout, remove stale locks and try once more."""
    try:
        return compile_()
    except TimeoutError:
        # The lock outlived a full wait: its compile died. Clean it and compile ourselves.
        jit.remove_stale_locks(older_than_s=jit.WAIT_S)
        return compile_()


def _kwarg_names(func: Any) -> set[str]:
    try:
        return set(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return set()


_FORM_KW = _kwarg_names(fem.form)
_JIT_KW = "jit_options" if "jit_options" in _FORM_KW else "jit_params"


def form(ufl_form: Any) -> Any:
    """Compile a UFL form (0.5-0.7: ``jit_params``; 0.8+: ``jit_options``)."""
    JIT_STATS["forms"] += 1
    return _jit_retry(lambda: fem.form(ufl_form, **{_JIT_KW: jit_options()}))


def expression(ufl_expr: Any, space: Any) -> Any:
    """A ``fem.Expression`` evaluated at the interpolation points of ``space``'s element."""
    JIT_STATS["expressions"] += 1
    pts = space.element.interpolation_points
    if callable(pts):  # a method in 0.5-0.8, a property in later versions
        pts = pts()
    kw = "jit_options" if "jit_options" in _kwarg_names(fem.Expression.__init__) else "jit_params"
    return _jit_retry(lambda: fem.Expression(ufl_expr, pts, **{kw: jit_options()}))


# --------------------------------------------------------------------------------------------
# Meshes and spaces
# --------------------------------------------------------------------------------------------
def create_interval(n: int, a: float, b: float) -> Any:
    return mesh.create_interval(COMM, n, [a, b])


def create_rectangle(
    p0: Sequence[float], p1: Sequence[float], n: Sequence[int], cell: str = "triangle"
) -> Any:
    return mesh.create_rectangle(
        COMM, [np.asarray(p0, float), np.asarray(p1, float)], list(n), CELL_TYPES[cell]
    )


def create_box(
    p0: Sequence[float], p1: Sequence[float], n: Sequence[int], cell: str = "tetrahedron"
) -> Any:
    return mesh.create_box(
        COMM, [np.asarray(p0, float), np.asarray(p1, float)], list(n), CELL_TYPES[cell]
    )


def _coordinate_element(cell: str, gdim: int) -> Any:
    try:  # 0.7+: basix.ufl elements
        import basix.ufl

        return basix.ufl.element("Lagrange", cell, 1, shape=(gdim,))
    except (ImportError, AttributeError, TypeError):
        return ufl.VectorElement("Lagrange", cell, 1, dim=gdim)


def create_mesh(cells: np.ndarray, x: np.ndarray, cell: str) -> Any:
    """A mesh from first-order cells (dolfinx vertex ordering) and vertex coordinates."""
    gdim = x.shape[1]
    element = _coordinate_element(cell, gdim)
    cells = np.ascontiguousarray(cells, dtype=np.int64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    try:
        domain = ufl.Mesh(element)
        return mesh.create_mesh(COMM, cells, x, domain)
    except TypeError:  # 0.10 takes the coordinate element directly
        return mesh.create_mesh(COMM, cells, element, x)


def functionspace(msh: Any, family: str, degree: int, shape: tuple[int, ...] | None = None) -> Any:
    """``fem.functionspace`` (0.7+) or ``fem.FunctionSpace``/``VectorFunctionSpace`` (<=0.6)."""
    if hasattr(fem, "functionspace"):
        element = (family, degree) if shape is None else (family, degree, shape)
        return fem.functionspace(msh, element)
    if family == "DG" and cell_name(msh) in ("quadrilateral", "hexahedron"):
        family = "DQ"  # legacy UFL elements name the discontinuous tensor-product space DQ
    if shape is None:
        return fem.FunctionSpace(msh, (family, degree))
    if len(shape) == 1:
        return fem.VectorFunctionSpace(msh, (family, degree), dim=shape[0])
    return fem.TensorFunctionSpace(msh, (family, degree), shape=shape)


def num_cells(msh: Any) -> int:
    return int(msh.topology.index_map(msh.topology.dim).size_local)


def cell_name(msh: Any) -> str:
    ct = msh.topology.cell_type
    for name, value in CELL_TYPES.items():
        if value == ct:
            return name
    raise ValueError(f"unknown cell type {ct}")


def boundary_facets(msh: Any) -> np.ndarray:
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim - 1, tdim)
    return np.asarray(mesh.exterior_facet_indices(msh.topology), dtype=np.int32)


def facet_midpoints(msh: Any, facets: np.ndarray) -> np.ndarray:
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim - 1, 0)
    return np.asarray(mesh.compute_midpoints(msh, tdim - 1, facets))


def facet_tags(msh: Any, facets: np.ndarray, values: np.ndarray) -> Any:
    order = np.argsort(facets)
    return mesh.meshtags(
        msh,
        msh.topology.dim - 1,
        np.asarray(facets, np.int32)[order],
        np.asarray(values, np.int32)[order],
    )


# --------------------------------------------------------------------------------------------
# Point evaluation
# --------------------------------------------------------------------------------------------
def _bb_tree(msh: Any) -> Any:
    tdim = msh.topology.dim
    if hasattr(geometry, "bb_tree"):  # 0.8+
        return geometry.bb_tree(msh, tdim)
    return geometry.BoundingBoxTree(msh, tdim)


def _collisions(tree: Any, pts: np.ndarray) -> Any:
    if hasattr(geometry, "compute_collisions_points"):  # 0.8+
        return geometry.compute_collisions_points(tree, pts)
    return geometry.compute_collisions(tree, pts)


def locate_points(msh: Any, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Padded (n, 3) points and the index of one cell containing each (ValueError if outside)."""
    pts = np.zeros((len(points), 3))
    p = np.asarray(points, dtype=float).reshape(len(points), -1)
    pts[:, : p.shape[1]] = p
    tree = _bb_tree(msh)
    colliding = geometry.compute_colliding_cells(msh, _collisions(tree, pts), pts)
    cells = np.empty(len(pts), dtype=np.int32)
    for i in range(len(pts)):
        links = colliding.links(i)
        if len(links) == 0:
            raise ValueError(f"point {p[i].tolist()} (m) lies outside the mesh")
        cells[i] = links[0]
    return pts, cells


def evaluate(u: Any, pts: np.ndarray, cells: np.ndarray) -> np.ndarray:
    return np.asarray(u.eval(pts, cells)).reshape(len(pts), -1)


# --------------------------------------------------------------------------------------------
# PETSc linear algebra
# --------------------------------------------------------------------------------------------
def create_matrix(a: Any) -> Any:
    return fem_petsc.create_matrix(a)


def create_vector(L: Any) -> Any:
    try:
        return fem_petsc.create_vector(L)
    except TypeError:  # 0.10 takes the function space(s)
        return fem_petsc.create_vector(L.function_spaces[0])


def assemble_matrix_into(A: Any, a: Any, bcs: list) -> None:
    A.zeroEntries()
    fem_petsc.assemble_matrix(A, a, bcs=bcs)
    A.assemble()


def assemble_vector_into(b: Any, L: Any, a: Any, bcs: list) -> None:
    """b = L with Dirichlet lifting for the bilinear form ``a`` and ``bcs``."""
    with b.localForm() as loc:
        loc.set(0.0)
    fem_petsc.assemble_vector(b, L)
    fem_petsc.apply_lifting(b, [a], bcs=[bcs])
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    fem_petsc.set_bc(b, bcs)


def assemble_scalar(M: Any) -> float:
    return float(fem.assemble_scalar(M))


def lu_solver(A: Any, prefix: str) -> Any:
    """A direct (LU) KSP with its own options prefix, so problems never share PETSc options."""
    ksp = PETSc.KSP().create(COMM)
    ksp.setOptionsPrefix(prefix)
    ksp.setOperators(A)
    ksp.setType("preonly")
    ksp.getPC().setType("lu")
    ksp.setFromOptions()
    return ksp


def function_vector(u: Any) -> Any:
    """The PETSc Vec sharing memory with a Function (``x.petsc_vec`` in 0.9+, ``vector`` before)."""
    x = u.x
    if hasattr(x, "petsc_vec"):
        return x.petsc_vec
    return u.vector


def scatter_forward(u: Any) -> None:
    x = u.x
    if hasattr(x, "scatter_forward"):
        x.scatter_forward()


def xdmf_file(path: str | Path) -> Any:
    from dolfinx import io

    return io.XDMFFile(COMM, str(path), "w")


def dolfinx_version() -> str:
    return str(getattr(dolfinx, "__version__", "unknown"))
