"""Executors for vfactory workloads: a ``cluster`` backend whose workers are ready for physics.

Every vfactory command, the pipeline and the API open their executor here, so that workers of
any backend (local pool, Ray, Dask) are prepared the same way: when the layout has physics,
each worker runs :func:`solvers.worker.worker_initializer` once, which compiles the forms of the
layout's solves (a warm-up solve at the layout's own parameters) and makes the physics of later
tasks solve in that worker, reusing the compiled problems, instead of spawning a process per
solve. Layouts without physics get plain workers (no dolfinx import).
"""

from __future__ import annotations

from typing import Any

from .layout import Factory

#: The worker initializer, by name: workers import it themselves (nothing is pickled).
WORKER_INITIALIZER = "solvers.worker:worker_initializer"


def warm_solves(factory: Factory) -> list[tuple[str, dict[str, Any]]]:
    """``(solver, params)`` of the layout's physics solves at its own parameter values.

    Solves whose parameters cannot be computed (a bad expression: the tasks report it) and
    surrogate-only studies still get the others.
    """
    if not factory.physics:
        return []
    from .physics.binding import PhysicsError, solve_params

    try:
        params = solve_params(factory)
    except PhysicsError:
        return []
    return [(factory.physics[name].solver, p) for name, p in params.items()]


def worker_options(factory: Factory | None) -> dict[str, Any]:
    """Executor options (initializer, initargs) preparing workers for ``factory``'s physics."""
    if factory is None or not factory.physics:
        return {}
    return {"initializer": WORKER_INITIALIZER, "initargs": (None, warm_solves(factory))}


def open_executor(spec: str | None, factory: Factory | None = None, **opts: Any):
    """``cluster.get_executor(spec)`` with workers prepared for ``factory`` (see module doc).

    ``opts`` go to the backend and take precedence (e.g. ``n_workers``).
    """
    from cluster import get_executor

    return get_executor(spec, **{**worker_options(factory), **opts})
