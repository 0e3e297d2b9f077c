"""Execution backends (local pool, Ray, Dask) behind one small interface.

    from cluster import get_executor
    with get_executor("local:4") as ex:          # or "ray:auto", "tcp://sched:8786", ...
        for res in ex.map(simulate_one, items, progress=True):
            ...

One setting moves a workload from a laptop to a cluster: the spec string, taken from the
argument, else the ``VFACTORY_CLUSTER`` environment variable, else ``local``. Task
functions must be importable top-level functions and items plain picklable data (see
:mod:`cluster.base`). Ray and Dask are imported only when their backend is chosen.
"""

from __future__ import annotations

import os
import re
from typing import Any

from cluster.base import Executor, TaskError, TaskFailed, TaskResult, WorkerLost

__all__ = [
    "ACCEPTED_SPECS",
    "ClusterSpecError",
    "Executor",
    "TaskError",
    "TaskFailed",
    "TaskResult",
    "WorkerLost",
    "get_executor",
    "parse_spec",
]

ENV_VAR = "VFACTORY_CLUSTER"

ACCEPTED_SPECS = (
    "local            process pool on this machine, one worker per core (default)",
    "local:N          process pool with N workers",
    "ray | ray:local  start a Ray instance on this machine on demand",
    "ray:auto         join the Ray cluster this machine belongs to (RAY_ADDRESS or local head)",
    "ray://HOST:PORT  Ray client connection to a head node (port 10001 by default)",
    "dask | dask:local  start a Dask LocalCluster on demand",
    "tcp://HOST:PORT  Dask distributed scheduler (port 8786 by default)",
)


class ClusterSpecError(ValueError):
    """A cluster spec string that names no known backend."""


_HOSTPORT = r"[A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:]+\]"


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``(backend, constructor options)`` for a spec string; ClusterSpecError if unknown."""
    text = spec.strip()
    low = text.lower()
    if low == "local":
        return "local", {}
    if m := re.fullmatch(r"local:(\d+)", low):
        n = int(m.group(1))
        if n < 1:
            raise ClusterSpecError(f"cluster spec {spec!r}: the number of workers must be >= 1")
        return "local", {"n_workers": n}
    if low in ("ray", "ray:local"):
        return "ray", {"address": None}
    if low == "ray:auto":
        return "ray", {"address": "auto"}
    if re.fullmatch(rf"ray://({_HOSTPORT})(:\d+)?", text, flags=re.IGNORECASE):
        return "ray", {"address": text}
    if low in ("dask", "dask:local"):
        return "dask", {"address": None}
    if re.fullmatch(rf"(tcp|tls)://({_HOSTPORT})(:\d+)?", text, flags=re.IGNORECASE):
        return "dask", {"address": text}
    forms = "\n  ".join(ACCEPTED_SPECS)
    raise ClusterSpecError(
        f"unknown cluster spec {spec!r} (from {_source_hint(spec)}); accepted forms:\n  {forms}"
    )


def _source_hint(spec: str) -> str:
    return f"${ENV_VAR}" if os.environ.get(ENV_VAR) == spec else "the argument"


def get_executor(spec: str | None = None, **opts: Any) -> Executor:
    """An executor for ``spec`` (else ``$VFACTORY_CLUSTER``, else ``local``).

    ``opts`` go to the backend's constructor (e.g. ``n_workers``, ``max_tasks_per_child``,
    ``initializer``); see LocalExecutor, RayExecutor and DaskExecutor.
    """
    if spec is None or not spec.strip():
        spec = os.environ.get(ENV_VAR, "").strip() or "local"
    backend, kwargs = parse_spec(spec)
    kwargs.update(opts)
    if backend == "local":
        from cluster.local import LocalExecutor

        return LocalExecutor(**kwargs)
    if backend == "ray":
        from cluster.ray_backend import RayExecutor

        return RayExecutor(**kwargs)
    from cluster.dask_backend import DaskExecutor

    return DaskExecutor(**kwargs)
