"""Linear (thermo-)elastic stress in a part or fixture: displacements, von Mises, safety factor.

Plane stress, plane strain (2D meshes) or 3D; loads are pressure or traction on named boundaries,
a body force, and a uniform temperature change (thermal strain α ΔT). Supports fix displacement
components on named boundaries.

Outputs: ``displacement_m`` (one vector per requested point), ``stress_pa`` (per point:
σxx, σyy, σzz, σxy — 3D adds σyz, σxz), ``max_von_mises_pa`` (largest over the stress
interpolation points of the degree-1-lower discontinuous space), ``safety_factor`` (yield / max
von Mises, if the material has a yield strength), ``max_displacement_m``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import ufl
from dolfinx import fem

from solvers import _compat, compiled, conduction, geometry
from solvers.params import VERSIONS, ElasticityParams, validate

VERSION = VERSIONS["elasticity"]
_AXES = {"x": 0, "y": 1, "z": 2}


class ElasticityProblem:
    """Compiled elasticity forms for one mesh, model, support and load layout."""

    def __init__(
        self,
        dom: geometry.Domain,
        degree: int,
        model: str,
        supports: tuple[tuple[str, tuple[int, ...]], ...],
        loads: tuple[tuple[str, str], ...],
        prefix: str,
        owner: str,
    ) -> None:
        self.dom = dom
        msh = dom.msh
        gdim = dom.tdim
        self.gdim = gdim
        V = _compat.functionspace(msh, "Lagrange", degree, (gdim,))
        self.V = V
        u, v = ufl.TrialFunction(V), ufl.TestFunction(V)

        def const(val: Any) -> Any:
            return fem.Constant(
                msh,
                np.asarray(val, dtype=_compat.ScalarType)
                if np.ndim(val)
                else _compat.ScalarType(val),
            )

        self.E, self.nu, self.alpha, self.dT = const(1.0), const(0.3), const(0.0), const(0.0)
        self.f = const(np.zeros(gdim))
        mu = self.E / (2 * (1 + self.nu))
        lam = self.E * self.nu / ((1 + self.nu) * (1 - 2 * self.nu))
        if model == "plane_stress":
            lam_eff = 2 * mu * lam / (lam + 2 * mu)
            beta = 2 * mu + 2 * lam_eff  # = E/(1-nu): free thermal expansion is stress-free
        else:
            lam_eff = lam
            beta = 2 * mu + 3 * lam
        eye = ufl.Identity(gdim)

        def eps(w: Any) -> Any:
            return ufl.sym(ufl.grad(w))

        def sigma_mech(w: Any) -> Any:
            return 2 * mu * eps(w) + lam_eff * ufl.tr(eps(w)) * eye

        dx = ufl.Measure("dx", domain=msh)
        ds = ufl.Measure("ds", domain=msh, subdomain_data=dom.tags)
        n = ufl.FacetNormal(msh)
        a = ufl.inner(sigma_mech(u), eps(v)) * dx
        L = ufl.inner(beta * self.alpha * self.dT * eye, eps(v)) * dx + ufl.dot(self.f, v) * dx
        self.load_constants: list[Any] = []
        for name, kind in loads:
            ids = dom.tag_ids(name, owner)
            if kind == "pressure":
                c = const(0.0)
                L += -c * ufl.dot(n, v) * ds(ids)
            else:
                c = const(np.zeros(gdim))
                L += ufl.dot(c, v) * ds(ids)
            self.load_constants.append(c)
        fdim = msh.topology.dim - 1
        self.bcs = []
        for name, comps in supports:
            ids = dom.tag_ids(name, owner)
            facets = np.concatenate([dom.tags.find(i) for i in ids]).astype(np.int32)
            for i in comps:
                if i >= gdim:
                    raise ValueError(
                        f"{owner}: support on {name!r} fixes component "
                        f"{'xyz'[i]} but the mesh is {gdim}D"
                    )
                dofs = fem.locate_dofs_topological(V.sub(i), fdim, facets)
                self.bcs.append(fem.dirichletbc(_compat.ScalarType(0.0), dofs, V.sub(i)))
        self.u = fem.Function(V)
        self.a = _compat.form(a)
        self.L = _compat.form(L)
        self.A = _compat.create_matrix(self.a)
        self.b = _compat.create_vector(self.L)
        self.ksp = _compat.lu_solver(self.A, prefix)
        self.x_vec = _compat.function_vector(self.u)

        # Stress components in the discontinuous space one degree lower (exact for the FE field).
        s = sigma_mech(self.u) - beta * self.alpha * self.dT * eye
        if gdim == 2:
            if model == "plane_stress":
                szz = 0 * s[0, 0]
            else:
                szz = lam * ufl.tr(eps(self.u)) - beta * self.alpha * self.dT
            comps_expr = [s[0, 0], s[1, 1], szz, s[0, 1]]
        else:
            comps_expr = [s[0, 0], s[1, 1], s[2, 2], s[0, 1], s[1, 2], s[0, 2]]
        S = _compat.functionspace(msh, "DG", max(degree - 1, 0), (len(comps_expr),))
        self.ncomp = len(comps_expr)
        self.stress = fem.Function(S)
        self.stress_expr = _compat.expression(ufl.as_vector(comps_expr), S)

    def destroy(self) -> None:
        for obj in (self.ksp, self.A, self.b):
            obj.destroy()

    def solve(self) -> None:
        _compat.assemble_matrix_into(self.A, self.a, self.bcs)
        _compat.assemble_vector_into(self.b, self.L, self.a, self.bcs)
        self.ksp.solve(self.b, self.x_vec)
        _compat.scatter_forward(self.u)
        self.stress.interpolate(self.stress_expr)


def von_mises(s: np.ndarray) -> np.ndarray:
    """Von Mises stress of rows (σxx, σyy, σzz, σxy[, σyz, σxz])."""
    sxx, syy, szz, sxy = s[:, 0], s[:, 1], s[:, 2], s[:, 3]
    syz = s[:, 4] if s.shape[1] > 4 else 0.0
    sxz = s[:, 5] if s.shape[1] > 5 else 0.0
    return np.sqrt(
        0.5 * ((sxx - syy) ** 2 + (syy - szz) ** 2 + (szz - sxx) ** 2)
        + 3.0 * (sxy**2 + syz**2 + sxz**2)
    )


def solve(params: dict[str, Any]) -> dict[str, Any]:
    """Solve one linear elastic problem (see the module docstring)."""
    p: ElasticityParams = validate("elasticity", params)
    spec = p.geometry
    mat = p.material.resolved()
    n = geometry.cells_for(spec)
    supports = tuple(
        (s.boundary, (0, 1, 2) if s.components == "all" else tuple(_AXES[c] for c in s.components))
        for s in p.supports
    )
    loads = tuple(
        (ld.boundary, "pressure" if ld.pressure_pa is not None else "traction") for ld in p.loads
    )
    key = ("elasticity", geometry.domain_key(spec, n), p.degree, p.model, supports, loads)

    def build() -> ElasticityProblem:
        dom = conduction.load_domain(spec, n)
        model = p.model or ("3d" if dom.tdim == 3 else "plane_stress")
        if (model == "3d") != (dom.tdim == 3):
            where = spec.file or f"geometry {spec.kind!r}"
            raise ValueError(
                f"elasticity: model {model!r} needs a "
                f"{'3D' if model == '3d' else '2D'} mesh, {where} is {dom.tdim}D"
            )
        sup = tuple(
            (name, tuple(c for c in comps if c < dom.tdim) if len(comps) == 3 else comps)
            for name, comps in supports
        )
        return ElasticityProblem(
            dom, p.degree, model, sup, loads, compiled.options_prefix("elasticity"), "elasticity"
        )

    prob: ElasticityProblem = compiled.get(key, build)
    if spec.kind != "mesh":
        prob.dom.set_coordinates(geometry.physical_coordinates(prob.dom, spec))
    gdim = prob.gdim
    prob.E.value = mat["e_pa"]
    prob.nu.value = mat["nu"]
    prob.alpha.value = mat["alpha_1_k"] or 0.0
    prob.dT.value = p.temperature_change_c
    bf = np.zeros(gdim)
    if p.body_force_n_m3 is not None:
        if len(p.body_force_n_m3) != gdim:
            raise ValueError(
                f"elasticity: body_force_n_m3 needs {gdim} components, found "
                f"{len(p.body_force_n_m3)}"
            )
        bf[:] = p.body_force_n_m3
    prob.f.value = bf
    for c, ld in zip(prob.load_constants, p.loads, strict=True):
        if ld.pressure_pa is not None:
            c.value = ld.pressure_pa
        else:
            if len(ld.traction_pa) != gdim:
                raise ValueError(
                    f"elasticity: traction on {ld.boundary!r} needs {gdim} "
                    f"components, found {len(ld.traction_pa)}"
                )
            c.value = np.asarray(ld.traction_pa, float)
    prob.solve()

    svals = prob.stress.x.array.reshape(-1, prob.ncomp)
    vm = von_mises(svals)
    uvals = prob.u.x.array.reshape(-1, gdim)
    out: dict[str, Any] = {
        "max_von_mises_pa": float(vm.max()),
        "max_displacement_m": float(np.linalg.norm(uvals, axis=1).max()),
    }
    if mat["yield_pa"] and vm.max() > 0:  # unloaded part: no finite factor, key omitted
        out["safety_factor"] = float(mat["yield_pa"] / vm.max())
    if p.points:
        scale = prob.dom.scale_to_si
        pts = np.asarray(p.points, float) * scale
        if pts.shape[1] != gdim:
            raise ValueError(f"elasticity: points need {gdim} coordinates, found {pts.shape[1]}")
        X, cells = _compat.locate_points(prob.dom.msh, pts)
        out["displacement_m"] = _compat.evaluate(prob.u, X, cells).tolist()
        out["stress_pa"] = _compat.evaluate(prob.stress, X, cells).tolist()
    if p.xdmf:
        _write(prob, p.xdmf)
    return out


def _write(prob: ElasticityProblem, path: str) -> None:
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    msh = prob.dom.msh
    u1 = fem.Function(_compat.functionspace(msh, "Lagrange", 1, (prob.gdim,)))
    u1.interpolate(prob.u)
    u1.name = "displacement_m"
    with _compat.xdmf_file(path) as f:
        f.write_mesh(msh)
        f.write_function(u1)
