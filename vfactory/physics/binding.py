"""Physics bindings: the layout's named solver runs, and layout values bound to their outputs.

A layout's ``physics`` section names solver runs whose parameters may be expressions of the
layout ``parameters`` (a text starting with ``=``); its ``bindings`` map a layout value path
(``stations.austenitise.process_time.mean``) to an expression of parameters and solve outputs
(``time(furnace.soak_start_s) + soak_hold_min``). :func:`resolve` runs the solves through the
content-hash cache (spawned workers, never dolfinx here) and writes the bound values into a new,
validated ``Factory`` before the line simulation runs. :func:`layout_problems` is the load-time
check the layout loader calls, so that a bad binding fails with its file:line:column.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vfactory.layout import Factory, LayoutError, override
from vfactory.layout.base import suggest

from .expr import Expression, ExpressionError, parse, unknown_name_message

#: Layout sections a binding may not write: they are the inputs of the bindings themselves.
_UNBINDABLE = ("parameters", "physics", "bindings")
#: Distribution fields that are durations (the others, cv and shape, are dimensionless).
_TIME_FIELDS = {"value", "mean", "sd", "low", "mode", "high", "scale"}
_TIME_SETTINGS = {"run_length", "warmup", "period", "start"}


class PhysicsError(ValueError):
    """A user mistake found while resolving physics (bad bound value, solver refused the case)."""


@dataclass(frozen=True)
class Resolved:
    """A factory with its bound values written in, and what produced them."""

    factory: Factory
    solves: dict[str, dict[str, Any]] = field(default_factory=dict)  # outputs incl. "cached"
    bindings: dict[str, float] = field(default_factory=dict)  # path -> value written
    units: dict[str, str] = field(default_factory=dict)  # path -> unit of the value ("" = none)
    seconds: dict[str, float] = field(default_factory=dict)  # solve name -> wall time taken
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # concrete solver params

    def to_dict(self) -> dict[str, Any]:
        """Plain data for results files: each solve (solver, version, params, outputs, cached)
        and each bound value (value, unit, expression)."""
        f = self.factory
        registry = _solver_registry() if self.solves else {}
        solves = {}
        for name, outputs in self.solves.items():
            solver = f.physics[name].solver
            solves[name] = {
                "solver": solver,
                "version": registry[solver].version,
                "params": self.params.get(name, {}),
                "outputs": {k: v for k, v in outputs.items() if k not in ("cached", "cache_key")},
                "cached": bool(outputs.get("cached")),
                "cache_key": outputs.get("cache_key"),
                "xdmf": self.params.get(name, {}).get("xdmf"),
                "seconds": self.seconds.get(name),
            }
        bindings = {
            path: {"value": v, "unit": self.units.get(path, ""), "expression": f.bindings[path]}
            for path, v in self.bindings.items()
        }
        return {"time_unit": f.time_unit, "solves": solves, "bindings": bindings}


# -- parameters of a solve ------------------------------------------------------------------


def _walk_params(node: Any, loc: tuple) -> Iterator[tuple[tuple, str]]:
    """(location, text) of every ``=expression`` in a nested parameter structure."""
    if isinstance(node, str) and node.startswith("="):
        yield loc, node[1:]
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _walk_params(v, loc + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_params(v, loc + (i,))


def _replace(node: Any, values: dict[tuple, float], loc: tuple = ()) -> Any:
    if loc in values:
        return values[loc]
    if isinstance(node, dict):
        return {k: _replace(v, values, loc + (k,)) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, values, loc + (i,)) for i, v in enumerate(node)]
    return node


def _parameter_expression(text: str, parameters: dict[str, float]) -> Expression:
    expr = parse(text, allow_time=False)
    for name in expr.names:
        if "." in name:
            raise ExpressionError(
                f"{name!r}: solver parameters may use layout parameters only, not solve outputs"
            )
        if name not in parameters:
            raise ExpressionError(unknown_name_message(name, parameters, text))
    return expr


def substituted_params(
    params: dict[str, Any], parameters: dict[str, float]
) -> tuple[dict[str, Any], list[tuple[tuple, str]]]:
    """``params`` with every ``=expression`` replaced by its value, and (location, message) errors."""
    values: dict[tuple, float] = {}
    errors: list[tuple[tuple, str]] = []
    for loc, text in _walk_params(params, ()):
        try:
            values[loc] = _parameter_expression(text, parameters).evaluate(parameters)
        except ExpressionError as exc:
            errors.append((loc, str(exc)))
    return _replace(params, values), errors


def _parameter_error_locations(message: str) -> list[tuple[tuple, str]]:
    """Split a solvers ParameterError ("solver: invalid parameters\\n  a.b: msg") into fields."""
    lines = message.splitlines()
    out: list[tuple[tuple, str]] = []
    for line in lines[1:]:
        loc_text, sep, msg = line.strip().partition(": ")
        if not sep:
            continue
        loc: tuple = ()
        if loc_text != "(top level)":
            loc = tuple(int(p) if p.isdigit() else p for p in loc_text.split("."))
        out.append((loc, msg))
    return out or [((), message)]


def _solver_registry() -> dict[str, Any]:
    import solvers  # the registry only: no dolfinx

    return solvers.SOLVERS


# -- binding targets ------------------------------------------------------------------------


def _target(data: dict, path: str) -> tuple[Any, str | None]:
    """(value at ``path`` in the layout data, None) or (None, message why it is not a target)."""
    parts = path.split(".")
    if parts[0] in _UNBINDABLE:
        return None, f"bindings write station and factory values, not {parts[0]!r}"
    node: Any = data
    for i, key in enumerate(parts):
        here = ".".join(parts[:i]) or "the layout"
        if isinstance(node, dict):
            if key not in node:
                return None, (
                    f"no field {key!r} in {here}{suggest(key, node)} (fields: {', '.join(node)})"
                )
            node = node[key]
        elif isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                return None, f"{here} has {len(node)} entries; {key!r} is not an index of one"
            node = node[int(key)]
        else:
            return None, f"{here} is a value, it has no field {key!r}"
    if node is None:
        return None, f"{path} is not set in the layout (null); bind a field that holds a number"
    if isinstance(node, bool) or not isinstance(node, int | float):
        found = "a section" if isinstance(node, dict | list) else repr(node)
        return None, f"{path} is {found}, not a number field"
    return node, None


def _parent(data: dict, path: str) -> Any:
    node: Any = data
    for key in path.split(".")[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def _units(data: dict, path: str, time_unit: str) -> tuple[str, str]:
    """(time unit that time() converts to, unit shown for the value) of a binding target."""
    last = path.split(".")[-1]
    parent = _parent(data, path)
    if "power_kw" in path.split("."):
        return time_unit, "kW"
    if isinstance(parent, dict) and "dist" in parent:
        unit = parent.get("unit") or time_unit
        return unit, (unit if last in _TIME_FIELDS else "")
    if last in _TIME_SETTINGS:
        return time_unit, time_unit
    return time_unit, ""


def _full_data(factory: Factory) -> dict:
    return factory.model_dump(mode="json")


# -- load-time check ------------------------------------------------------------------------


def layout_problems(factory: Factory) -> list[tuple[tuple, str]]:
    """Every problem of the physics and bindings sections, as (field location, message)."""
    problems: list[tuple[tuple, str]] = []
    parameters = dict(factory.parameters)
    registry = _solver_registry() if factory.physics else {}
    for name, solve in factory.physics.items():
        base = ("physics", name)
        if solve.solver not in registry:
            problems.append(
                (
                    base + ("solver",),
                    f"unknown solver {solve.solver!r}{suggest(solve.solver, registry)} "
                    f"(solvers: {', '.join(sorted(registry))})",
                )
            )
        params, errors = substituted_params(solve.params, parameters)
        problems += [(base + ("params",) + loc, msg) for loc, msg in errors]
        if errors or solve.solver not in registry:
            continue
        for loc, path in _file_references(params, ()):
            if not Path(path).is_file():
                problems.append((base + ("params",) + loc, f"file {path!r} not found"))
        try:
            registry[solve.solver].validate(params)
        except ValueError as exc:
            problems += [
                (base + ("params",) + loc, msg) for loc, msg in _parameter_error_locations(str(exc))
            ]
    data = _full_data(factory) if factory.bindings else {}
    for path, text in factory.bindings.items():
        loc = ("bindings", path)
        _, why = _target(data, path)
        if why:
            problems.append((loc, why))
        try:
            expr = parse(text)
        except ExpressionError as exc:
            problems.append((loc, str(exc)))
            continue
        for ref in expr.names:
            solve_name = ref.split(".", 1)[0]
            known = solve_name in factory.physics if "." in ref else ref in parameters
            if not known:
                names = list(parameters) + [f"{s}.?" for s in factory.physics]
                problems.append((loc, unknown_name_message(ref, names, text)))
    return problems


def _file_references(node: Any, loc: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "file" and isinstance(v, str):
                yield loc + (k,), v
            else:
                yield from _file_references(v, loc + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _file_references(v, loc + (i,))


# -- resolution -----------------------------------------------------------------------------


def _solve_here(inprocess: bool) -> bool:
    """Whether solves run in this process rather than in a spawned process each.

    Yes when asked (cheap models such as lumped ODEs), in a cluster worker prepared by
    solvers.worker.worker_initializer (it keeps its compiled forms between tasks; a spawned
    process per solve would import dolfinx and load the forms every time; the task's own
    timeout bounds the solve), and in a daemonic process (e.g. a worker of a process pool
    opened without that preparation), which may not start processes of its own.
    """
    import multiprocessing

    from solvers.worker import in_solver_worker

    return inprocess or in_solver_worker() or multiprocessing.current_process().daemon


def _run(
    name: str,
    solver: str,
    params: dict[str, Any],
    cache_dir: str | Path | None,
    use_cache: bool,
    timeout: float | None,
    inprocess: bool = False,
) -> tuple[dict[str, Any], float]:
    from solvers.params import ParameterError
    from solvers.worker import solve_in_subprocess

    here = _solve_here(inprocess)

    def runner(solver_name: str, p: dict[str, Any]) -> dict[str, Any]:
        if here:  # cheap models (lumped ODEs), or a prepared worker
            import solvers

            return solvers.SOLVERS[solver_name].solve(p)
        return solve_in_subprocess(solver_name, p, timeout=timeout)

    t0 = time.perf_counter()
    try:
        if use_cache:
            from .cache import cached_solve

            result = cached_solve(solver, params, cache_dir=cache_dir, runner=runner)
        else:
            result = {**runner(solver, params), "cached": False}
    except ParameterError as exc:  # the solver refused the case (e.g. a soak level never reached)
        raise PhysicsError(f"physics.{name} ({solver}): {exc}") from None
    except TimeoutError:
        raise PhysicsError(
            f"physics.{name} ({solver}): no result within {timeout:g} s (timeout)"
        ) from None
    return result, time.perf_counter() - t0


def solve_params(factory: Factory, xdmf_dir: str | Path | None = None) -> dict[str, dict]:
    """The concrete solver parameters of every named solve (expressions substituted)."""
    registry = _solver_registry() if factory.physics else {}
    out: dict[str, dict] = {}
    for name, solve in factory.physics.items():
        params, errors = substituted_params(solve.params, dict(factory.parameters))
        if errors:
            loc, msg = errors[0]
            where = ".".join(map(str, ("physics", name, "params") + loc))
            raise PhysicsError(f"{where}: {msg}")
        if xdmf_dir is not None and "xdmf" in registry[solve.solver].params_model.model_fields:
            params["xdmf"] = str(Path(xdmf_dir).resolve() / f"{name}.xdmf")
        out[name] = params
    return out


def writes_fields(solver: str) -> bool:
    """Whether ``solver`` can write its field as XDMF (its parameters have ``xdmf``)."""
    return "xdmf" in _solver_registry()[solver].params_model.model_fields


def resolve(
    factory: Factory,
    *,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    xdmf_dir: str | Path | None = None,
    timeout: float | None = None,
    outputs: dict[str, dict[str, Any]] | None = None,
    inprocess: bool = False,
) -> Resolved:
    """Run the layout's physics solves and write the bound values into a new ``Factory``.

    Solves go through the content-hash cache (``cache_dir``, default ``$VFACTORY_CACHE_DIR``)
    and run in spawned workers, several at once. ``xdmf_dir`` writes each solve's field to
    ``<xdmf_dir>/<name>.xdmf`` where the solver supports it; ``timeout`` (s) bounds each solve.
    Raises PhysicsError naming the binding or solve for user mistakes (and timeouts). A layout
    without physics or bindings is returned as is, without importing any solver code.
    ``outputs`` gives solve outputs computed elsewhere (e.g. a surrogate's predictions): those
    solves are not run. ``inprocess`` solves in this process instead of spawned workers (for
    cheap models such as the lumped ODE; this process then imports dolfinx).
    """
    if not factory.physics and not factory.bindings:
        return Resolved(factory)
    if xdmf_dir is not None:
        Path(xdmf_dir).mkdir(parents=True, exist_ok=True)
    all_params = solve_params(factory, xdmf_dir)
    solves: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    for name, given in (outputs or {}).items():
        if name in all_params:
            solves[name] = {**given, "cached": False, "surrogate": True}
            seconds[name] = 0.0
            del all_params[name]
    if all_params:
        # in-process solves run one at a time (scipy's LSODA, for one, is not thread-safe;
        # nor is a dolfinx problem shared between threads)
        workers = 1 if _solve_here(inprocess) else max(1, min(len(all_params), os.cpu_count() or 1, 4))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {
                name: pool.submit(
                    _run, name, factory.physics[name].solver, p, cache_dir, use_cache, timeout,
                    inprocess,
                )
                for name, p in all_params.items()
            }
            for name, fut in futures.items():
                solves[name], seconds[name] = fut.result()
    values: dict[str, Any] = dict(factory.parameters)
    for name, outs in solves.items():
        for key, v in outs.items():
            if key not in ("cached", "cache_key"):
                values[f"{name}.{key}"] = v
    data = _full_data(factory)
    bound: dict[str, float] = {}
    units: dict[str, str] = {}
    for path, text in factory.bindings.items():
        time_unit, units[path] = _units(data, path, factory.time_unit)
        try:
            bound[path] = parse(text).evaluate(values, time_unit)
        except ExpressionError as exc:
            raise PhysicsError(f"binding {path}: {exc}") from None
    try:
        new = override(factory, bound) if bound else factory
    except LayoutError as exc:
        raise PhysicsError(_explain(exc, bound, dict(factory.bindings), units)) from None
    return Resolved(new, solves, bound, units, seconds, all_params)


def _explain(
    exc: LayoutError, bound: dict[str, float], texts: dict[str, str], units: dict[str, str]
) -> str:
    """Name the binding behind each problem of the overridden layout."""
    lines = []
    for issue in exc.issues:
        culprits = [
            p for p in bound if p == issue.path or p.startswith(issue.path + ".") or not issue.path
        ] or [p for p in bound if issue.path.startswith(p)]
        if not culprits:
            lines.append(f"{issue.path}: {issue.message}")
        for p in culprits:
            unit = f" {units[p]}" if units.get(p) else ""
            lines.append(
                f"binding {p} = {bound[p]:.6g}{unit} (from {texts[p]!r}) is not a valid value: "
                f"{issue.message}"
            )
    return "\n".join(lines)
