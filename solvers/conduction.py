"""Heat conduction engine shared by heat_treatment, mould_cooling and heat_conduction.

Weak form (r^m-weighted: m = 0 plane, 1 cylinder/axisymmetric, 2 sphere)::

    ∫ ρc (a0 T - a1 Tⁿ + a2 Tⁿ⁻¹)/Δt v rᵐ + k ∇T·∇v rᵐ dx + Σ ∫ (h + εF)(T - T∞) v rᵐ ds = 0

Time stepping is BDF2 (first step backward Euler). Why not Crank–Nicolson: a quench or a mould
wall is a temperature jump at t = 0, and CN (A- but not L-stable) rings on it for many steps;
backward Euler damps it but is first order, so it needs ~10x more steps for 1 %. BDF2 is
L-stable *and* second order. Nonlinearities — k(T), c(T) tables, latent heat, radiation — are
Picard iterations within a step: the first uses the extrapolated 2Tⁿ - Tⁿ⁻¹ (keeps second order);
ρc is the enthalpy secant (H(T) - H(Tⁿ))/(T - Tⁿ), which conserves energy through a latent peak;
radiation uses the exact factorisation εσ(T⁴ - T∞⁴) = εσ(T² + T∞²)(T + T∞)·(T - T∞) with the
first factor lagged. With constant properties and no radiation the matrix is assembled and
LU-factorised once per run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import ufl
from dolfinx import fem

from solvers import _compat
from solvers.geometry import Domain

STEFAN_BOLTZMANN = 5.670374419e-8
KELVIN = 273.15


class Enthalpy:
    """Specific enthalpy H(T) (J/kg, from 0 °C) of a piecewise-linear c(T) table plus latent heat."""

    def __init__(
        self,
        c: float | None,
        c_table: list | None,
        latent: float = 0.0,
        solidus: float | None = None,
        liquidus: float | None = None,
    ) -> None:
        pts = [-300.0, 3000.0]
        if c_table:
            tt = np.array([t for t, _ in c_table], float)
            cc = np.array([v for _, v in c_table], float)
            pts += tt.tolist()
        else:
            tt, cc = np.array([0.0]), np.array([float(c)])
        self.latent = latent
        self.solidus, self.liquidus = solidus, liquidus
        if latent > 0:
            pts += [solidus, liquidus]
        grid = np.unique(np.array(pts, float))
        cg = np.interp(grid, tt, cc)
        # c is linear between grid points, so the trapezoid rule is exact.
        h = np.concatenate([[0.0], np.cumsum(0.5 * (cg[1:] + cg[:-1]) * np.diff(grid))])
        if latent > 0:
            h = h + latent * np.clip((grid - solidus) / (liquidus - solidus), 0.0, 1.0)
        h -= np.interp(0.0, grid, h)
        self._grid, self._h = grid, h
        self._tt, self._cc = tt, cc

    def __call__(self, T: np.ndarray) -> np.ndarray:
        return np.interp(T, self._grid, self._h)

    def c(self, T: np.ndarray) -> np.ndarray:
        c = np.interp(T, self._tt, self._cc)
        if self.latent > 0:
            inside = (self.solidus < T) & (self.liquidus > T)
            c = c + inside * self.latent / (self.liquidus - self.solidus)
        return c

    def secant(self, Ta: np.ndarray, Tb: np.ndarray) -> np.ndarray:
        """(H(Tb) - H(Ta)) / (Tb - Ta), the tangent where the two are (nearly) equal."""
        d = Tb - Ta
        small = np.abs(d) < 1e-6
        safe = np.where(small, 1.0, d)
        return np.where(small, self.c(Ta), (self(Tb) - self(Ta)) / safe)


@dataclass
class Properties:
    rho: float
    k: float | None
    k_table: list | None
    enthalpy: Enthalpy

    @property
    def constant(self) -> bool:
        return not self.k_table and len(self.enthalpy._tt) == 1 and self.enthalpy.latent == 0

    def conductivity(self, T: np.ndarray) -> np.ndarray:
        if self.k_table:
            return np.interp(T, [t for t, _ in self.k_table], [v for _, v in self.k_table])
        return np.full_like(T, self.k)


def properties(mat: dict[str, Any]) -> Properties:
    """Properties from a resolved material dict (see solvers.params.MaterialSpec.resolved)."""
    return Properties(
        rho=mat["rho_kg_m3"],
        k=mat["k_w_mk"],
        k_table=mat["k_table"],
        enthalpy=Enthalpy(
            mat["c_j_kgk"],
            mat["c_table"],
            mat["latent_heat_j_kg"],
            mat["solidus_c"],
            mat["liquidus_c"],
        ),
    )


@dataclass
class Convection:
    h: float
    ambient_c: float
    emissivity: float = 0.0
    radiation_ambient_c: float | None = None


@dataclass
class Run:
    """Inputs of one run besides the compiled problem."""

    props: Properties
    initial_c: float
    convection: dict[str, Convection]
    temperature: dict[str, Callable[[float], float]]
    probes: dict[str, np.ndarray]
    dt: float = 1.0
    end_time: float = 1.0
    steady: bool = False
    picard: int | None = None
    record_mean: bool = False
    stop: Callable[[History], bool] | None = None
    xdmf: str | None = None


@dataclass
class History:
    t: list[float] = field(default_factory=list)
    probes: dict[str, list[float]] = field(default_factory=dict)
    mean: list[float] = field(default_factory=list)
    heat_content_j: list[float] = field(default_factory=list)  # over the modelled domain


class ConductionProblem:
    """Compiled forms, PETSc matrix/vector/KSP for one mesh, degree and boundary layout."""

    def __init__(
        self,
        dom: Domain,
        degree: int,
        robin: tuple[str, ...],
        dirichlet: tuple[str, ...],
        prefix: str,
        owner: str,
    ) -> None:
        self.dom = dom
        msh = dom.msh
        V = _compat.functionspace(msh, "Lagrange", degree)
        self.V = V
        u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
        self.T = fem.Function(V)
        self.T_n = fem.Function(V)
        self.T_nm1 = fem.Function(V)
        self.k = fem.Function(V)
        self.rhoc = fem.Function(V)
        self.heat = fem.Function(V)  # volumetric enthalpy rho*H(T), J/m3

        def const(val: float) -> Any:
            return fem.Constant(msh, _compat.ScalarType(val))

        self.inv_dt, self.a0, self.a1, self.a2 = const(0.0), const(1.0), const(1.0), const(0.0)
        x = ufl.SpatialCoordinate(msh)
        m = dom.weight_power
        w = 1 if m == 0 else (x[0] if m == 1 else x[0] ** m)
        dx = ufl.Measure("dx", domain=msh)
        ds = ufl.Measure("ds", domain=msh, subdomain_data=dom.tags)
        a = (
            self.rhoc * self.a0 * self.inv_dt * u * v * w * dx
            + self.k * ufl.inner(ufl.grad(u), ufl.grad(v)) * w * dx
        )
        L = self.rhoc * self.inv_dt * (self.a1 * self.T_n - self.a2 * self.T_nm1) * v * w * dx
        self.robin: dict[str, dict[str, Any]] = {}
        for name in robin:
            ids = dom.tag_ids(name, owner)
            c = {
                "h": const(0.0),
                "amb": const(0.0),
                "eps": const(0.0),
                "rad": const(0.0),
                "F": fem.Function(V),
            }
            hr = c["eps"] * c["F"]
            a += (c["h"] + hr) * u * v * w * ds(ids)
            L += (c["h"] * c["amb"] + hr * c["rad"]) * v * w * ds(ids)
            self.robin[name] = c
        self.dirichlet: dict[str, tuple[Any, Any]] = {}
        fdim = msh.topology.dim - 1
        for name in dirichlet:
            ids = dom.tag_ids(name, owner)
            facets = np.concatenate([dom.tags.find(i) for i in ids]).astype(np.int32)
            dofs = fem.locate_dofs_topological(V, fdim, facets)
            g = fem.Function(V)
            self.dirichlet[name] = (g, fem.dirichletbc(g, dofs))
        self.bcs = [bc for _, bc in self.dirichlet.values()]
        self.a = _compat.form(a)
        self.L = _compat.form(L)
        self.M_T = _compat.form(self.T * w * dx)
        self.M_vol = _compat.form(const(1.0) * w * dx)
        self.M_heat = _compat.form(self.heat * w * dx)
        all_robin = tuple(i for name in robin for i in dom.tag_ids(name, owner))
        self.M_area = _compat.form(const(1.0) * w * ds(all_robin)) if all_robin else None
        self.A = _compat.create_matrix(self.a)
        self.b = _compat.create_vector(self.L)
        self.ksp = _compat.lu_solver(self.A, prefix)
        self.x_vec = _compat.function_vector(self.T)

    def destroy(self) -> None:
        for obj in (self.ksp, self.A, self.b):
            obj.destroy()

    # ---------------------------------------------------------------------------------------
    def _coefficients(self, run: Run, T_old: np.ndarray, T_est: np.ndarray) -> None:
        p = run.props
        self.k.x.array[:] = p.conductivity(T_est)
        self.rhoc.x.array[:] = p.rho * p.enthalpy.secant(T_old, T_est)
        for name, conv in run.convection.items():
            if conv.emissivity > 0:
                c = self.robin[name]
                tr = (
                    conv.radiation_ambient_c
                    if conv.radiation_ambient_c is not None
                    else conv.ambient_c
                ) + KELVIN
                tk = T_est + KELVIN
                c["F"].x.array[:] = STEFAN_BOLTZMANN * (tk * tk + tr * tr) * (tk + tr)

    def _solve_linear(self, assemble_matrix: bool) -> None:
        if assemble_matrix:
            _compat.assemble_matrix_into(self.A, self.a, self.bcs)
        _compat.assemble_vector_into(self.b, self.L, self.a, self.bcs)
        self.ksp.solve(self.b, self.x_vec)
        _compat.scatter_forward(self.T)

    def _record(self, run: Run, hist: History, t: float, pts: Any, cells: Any, vol: float) -> None:
        hist.t.append(t)
        vals = _compat.evaluate(self.T, pts, cells)[:, 0] if len(run.probes) else []
        for i, name in enumerate(run.probes):
            hist.probes[name].append(float(vals[i]))
        if run.record_mean:
            hist.mean.append(_compat.assemble_scalar(self.M_T) / vol)

    def heat_content(self, run: Run) -> float:
        self.heat.x.array[:] = run.props.rho * run.props.enthalpy(self.T.x.array)
        return _compat.assemble_scalar(self.M_heat)

    def run(self, run: Run) -> History:
        """Integrate from the uniform initial temperature; returns probe/mean histories."""
        unknown = (set(run.convection) - set(self.robin)) | (
            set(run.temperature) - set(self.dirichlet)
        )
        if unknown:
            raise ValueError(f"boundary conditions {sorted(unknown)} not compiled in problem")
        for name, conv in run.convection.items():
            c = self.robin[name]
            c["h"].value = conv.h
            c["amb"].value = conv.ambient_c
            c["eps"].value = conv.emissivity
            c["rad"].value = (
                conv.radiation_ambient_c if conv.radiation_ambient_c is not None else conv.ambient_c
            )
            c["F"].x.array[:] = 0.0
        names = list(run.probes)
        hist = History(probes={n: [] for n in names})
        pts = cells = None
        if names:
            pts, cells = _compat.locate_points(
                self.dom.msh, np.array([run.probes[n] for n in names])
            )
        vol = _compat.assemble_scalar(self.M_vol)
        variable = (not run.props.constant) or any(
            c.emissivity > 0 for c in run.convection.values()
        )
        picard = run.picard or (1 if not variable else (4 if run.props.enthalpy.latent else 2))
        writer = self._open_xdmf(run.xdmf)

        for arr in (self.T, self.T_n, self.T_nm1):
            arr.x.array[:] = run.initial_c
        self._record(run, hist, 0.0, pts, cells, vol)
        hist.heat_content_j.append(self.heat_content(run))

        if run.steady:
            self.inv_dt.value = 0.0
            for name, f in run.temperature.items():
                self.dirichlet[name][0].x.array[:] = f(0.0)
            iters = run.picard or (1 if not variable else 50)
            for _ in range(iters):
                prev = self.T.x.array.copy()
                self._coefficients(run, prev, prev)
                self._solve_linear(True)
                if np.max(np.abs(self.T.x.array - prev)) < 1e-9 * (1 + np.max(np.abs(prev))):
                    break
            hist.t[0] = 0.0
            self._record(run, hist, 0.0, pts, cells, vol)
            hist.heat_content_j.append(self.heat_content(run))
            self._write(writer, 0.0)
            self._close(writer)
            return hist

        dt = run.dt
        self.inv_dt.value = 1.0 / dt
        n_steps = int(math.ceil(run.end_time / dt - 1e-9))
        # Every step when the end is open (event-stopped runs); about 100 frames otherwise.
        write_every = 1 if run.stop is not None else max(1, n_steps // 100)
        self._write(writer, 0.0)
        matrix_ready = False
        t = 0.0
        for step in range(1, n_steps + 1):
            t = step * dt
            first = step == 1
            if step <= 2:  # BE for the first step, BDF2 afterwards: matrix changes
                self.a0.value, self.a1.value, self.a2.value = (
                    (1.0, 1.0, 0.0) if first else (1.5, 2.0, 0.5)
                )
                matrix_ready = False
            for name, f in run.temperature.items():
                self.dirichlet[name][0].x.array[:] = f(t)
            Tn = self.T_n.x.array
            T_est = Tn if first else 2.0 * Tn - self.T_nm1.x.array
            for _ in range(picard):
                if variable or not matrix_ready:
                    self._coefficients(run, Tn, T_est)
                self._solve_linear(variable or not matrix_ready)
                matrix_ready = True
                T_est = self.T.x.array.copy()
            self.T_nm1.x.array[:] = Tn
            self.T_n.x.array[:] = self.T.x.array
            self._record(run, hist, t, pts, cells, vol)
            if writer is not None and (step % write_every == 0):
                self._write(writer, t)
            if run.stop is not None and run.stop(hist):
                break
        hist.heat_content_j.append(self.heat_content(run))
        if writer is not None and step % write_every:
            self._write(writer, t)
        self._close(writer)
        return hist

    # ---------------------------------------------------------------------------------------
    def _open_xdmf(self, path: str | None) -> Any:
        if not path:
            return None
        from pathlib import Path

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = _compat.xdmf_file(path)
        writer.write_mesh(self.dom.msh)
        # XDMF stores vertex values: write the P1 interpolant of the field.
        self._out = fem.Function(_compat.functionspace(self.dom.msh, "Lagrange", 1))
        self._out.name = "temperature_c"
        return writer

    def _write(self, writer: Any, t: float) -> None:
        if writer is None:
            return
        self._out.interpolate(self.T)
        writer.write_function(self._out, t)

    @staticmethod
    def _close(writer: Any) -> None:
        if writer is not None:
            writer.close()


def crossing_time(t: list[float], y: list[float], level: float) -> float | None:
    """First time the sampled y(t) crosses ``level`` (quadratic through 3 samples, else linear)."""
    ya = np.asarray(y) - level
    s = np.sign(ya)
    idx = np.nonzero(s[1:] * s[:-1] <= 0)[0]
    idx = [i for i in idx if ya[i] != 0 or i == 0]
    if not idx:
        return None
    i = int(idx[0])
    if ya[i] == 0:
        return float(t[i])
    t0, t1 = t[i], t[i + 1]
    lin = t0 + (t1 - t0) * ya[i] / (ya[i] - ya[i + 1])
    j = i - 1 if i >= 1 else (i + 2 if i + 2 < len(t) else None)
    if j is None:
        return float(lin)
    tt = np.array([t[j], t0, t1])
    yy = np.array([ya[j], ya[i], ya[i + 1]])
    c = np.polyfit(tt - t0, yy, 2)
    roots = [r.real + t0 for r in np.roots(c) if abs(r.imag) < 1e-12]
    roots = [r for r in roots if t0 - 1e-12 <= r <= t1 + 1e-12]
    return float(min(roots, key=lambda r: abs(r - lin))) if roots else float(lin)


def rate_at(t: list[float], y: list[float], level: float) -> float | None:
    """dy/dt where y first crosses ``level`` (centred difference of the bracketing samples)."""
    tc = crossing_time(t, y, level)
    if tc is None:
        return None
    i = int(np.searchsorted(t, tc))
    i = min(max(i, 1), len(t) - 1)
    lo, hi = max(i - 1, 0), min(i + 1, len(t) - 1)
    if hi - lo == 2:  # three points: derivative of the quadratic at tc
        c = np.polyfit(np.asarray(t[lo : hi + 1]) - tc, np.asarray(y[lo : hi + 1]), 2)
        return float(c[1])
    return float((y[hi] - y[lo]) / (t[hi] - t[lo]))


def problem_for(
    spec: Any,
    degree: int,
    robin: tuple[str, ...],
    dirichlet: tuple[str, ...],
    owner: str,
    refine: float = 1.0,
) -> ConductionProblem:
    """The (cached) compiled problem for a geometry spec, with coordinates set to its dimensions."""
    from solvers import compiled, geometry

    n = geometry.cells_for(spec, refine)
    key = ("conduction", geometry.domain_key(spec, n), degree, robin, dirichlet)

    def build() -> ConductionProblem:
        dom = load_domain(spec, n)
        return ConductionProblem(
            dom, degree, robin, dirichlet, compiled.options_prefix(owner), owner
        )

    prob = compiled.get(key, build)
    if spec.kind != "mesh":
        prob.dom.set_coordinates(geometry.physical_coordinates(prob.dom, spec))
    return prob


def load_domain(spec: Any, n: tuple[int, ...], dim: int | None = None) -> Domain:
    """A built-in reference domain, or the user mesh of ``spec`` (axisymmetric: weight r)."""
    from solvers import geometry, mesh

    if spec.kind != "mesh":
        return geometry.create(spec, n)
    dom = mesh.load(spec.file, spec.unit, dim=dim)
    if spec.axisymmetric:
        if dom.tdim != 2:
            raise mesh.MeshError(
                f"{spec.file}: axisymmetric needs a 2D (r, z) mesh, found {dom.tdim}D"
            )
        if np.min(dom.ref_x[:, 0]) < -1e-12:
            raise mesh.MeshError(f"{spec.file}: axisymmetric mesh has r = x < 0")
        dom.weight_power = 1
    return dom
