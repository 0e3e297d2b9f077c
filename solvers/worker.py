"""Running solvers in spawned worker processes (one MPI.COMM_SELF solve per process at a time).

dolfinx must not be inherited through ``fork`` (MPI and PETSc state do not survive it), and each
worker should use one thread (``OMP_NUM_THREADS=1``) so that N workers use N cores. This module
never imports dolfinx itself, so the parent stays light.

- :func:`solve_in_subprocess`: one solve in a fresh spawned process, with an optional timeout.
- :func:`worker_initializer` and :func:`run_solver`: the pieces a process pool uses, e.g.
  ``ProcessPoolExecutor(mp_context=multiprocessing.get_context("spawn"),
  initializer=worker_initializer)`` then ``pool.submit(run_solver, name, params)``; or simply
  :func:`process_pool`. A pool worker keeps its compiled problems, so repeated solves are cheap.
- Cluster workers (``cluster`` executors, any backend) get :func:`worker_initializer` as their
  initializer with ``warm=[(solver, params), ...]``: the forms of those solves are compiled once
  per worker, and :func:`in_solver_worker` tells ``vfactory.physics`` to solve in that worker
  rather than spawn a process per solve (the worker is already spawn-safe and single-threaded).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

#: Environment every solver process gets (set before numpy/PETSc load their thread pools).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: Set in a process prepared by :func:`worker_initializer`: solves may run right here.
SOLVE_HERE_VAR = "VFACTORY_SOLVE_IN_WORKER"

#: What the warm-up of this worker did: ``[{"solver", "seconds"} or {"solver", "error"}]``.
WARMED: list[dict[str, Any]] = []

_env_lock = threading.Lock()


class WorkerError(RuntimeError):
    """A solver crashed inside the worker (not a user error); carries the worker's traceback."""


def _apply_env(jit_dir: str | None) -> None:
    for k, v in WORKER_ENV.items():
        os.environ[k] = v
    if jit_dir:
        os.environ["VFACTORY_JIT_DIR"] = str(jit_dir)


def worker_initializer(
    jit_dir: str | None = None, warm: Sequence[tuple[str, dict[str, Any]]] = ()
) -> None:
    """Prepare a fresh worker: one thread, JIT directory, stale JIT locks removed.

    ``warm``: ``(solver, params)`` pairs solved once now, so that the worker holds their
    compiled problems (mesh, JIT-compiled forms, PETSc objects) before its first task; later
    solves that differ only in values reuse them. A warm-up that fails is recorded in
    :data:`WARMED` and otherwise ignored: the task that needs that solve reports the error.
    """
    _apply_env(jit_dir)
    os.environ[SOLVE_HERE_VAR] = "1"
    from solvers import jit

    jit.remove_stale_locks()
    for name, params in warm:
        t0 = time.perf_counter()
        try:
            run_solver(name, params)
        except Exception as exc:  # noqa: BLE001 - a warm-up is an optimisation, never fatal
            WARMED.append({"solver": name, "error": f"{type(exc).__name__}: {exc}"})
        else:
            WARMED.append({"solver": name, "seconds": time.perf_counter() - t0})


def in_solver_worker() -> bool:
    """Whether this process was prepared by :func:`worker_initializer` (solve here)."""
    return os.environ.get(SOLVE_HERE_VAR) == "1"


def worker_state(_: Any = None) -> dict[str, Any]:
    """Task reporting this worker's solver state: pid, warm-up, compiled-problem counters."""
    from solvers import compiled

    return {
        "pid": os.getpid(),
        "solve_here": in_solver_worker(),
        "warmed": list(WARMED),
        "compiled": dict(compiled.STATS),
    }


def run_solver(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Solve in the current (worker) process; compiled problems are reused between calls."""
    import solvers

    return solvers.solve(name, params)


def _child(conn: Any, name: str, params: dict[str, Any], jit_dir: str | None) -> None:
    try:
        worker_initializer(jit_dir)
        result = run_solver(name, params)
        conn.send(("ok", result))
    except ValueError as exc:  # user errors: bad parameters, bad mesh, unreachable targets
        conn.send(("user", str(exc)))
    except BaseException:  # noqa: BLE001 — everything else is reported with its traceback
        conn.send(("crash", traceback.format_exc()))
    finally:
        conn.close()


def solve_in_subprocess(
    name: str, params: dict[str, Any], timeout: float | None = None, jit_dir: str | None = None
) -> dict[str, Any]:
    """Run ``solvers.<name>.solve(params)`` in a spawned process and return its result.

    Raises ParameterError (a ValueError) for user mistakes, TimeoutError after ``timeout``
    seconds (the worker is terminated), WorkerError if the solver crashed.
    """
    from solvers.params import ParameterError

    ctx = multiprocessing.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, name, params, jit_dir), daemon=True)
    with _env_lock:  # the child inherits os.environ at start: set thread limits for its imports
        saved = {k: os.environ.get(k) for k in WORKER_ENV}
        os.environ.update(WORKER_ENV)
        try:
            proc.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    send.close()
    try:
        if not recv.poll(timeout):
            proc.terminate()
            proc.join(5)
            raise TimeoutError(f"solver {name!r} did not finish within {timeout} s")
        try:
            status, payload = recv.recv()
        except EOFError:
            proc.join(5)
            raise WorkerError(f"solver {name!r}: worker died (exit code {proc.exitcode})") from None
    finally:
        recv.close()
    proc.join(30)
    if status == "ok":
        return payload
    if status == "user":
        raise ParameterError(payload)
    raise WorkerError(f"solver {name!r} crashed in the worker:\n{payload}")


def process_pool(max_workers: int, jit_dir: str | None = None) -> ProcessPoolExecutor:
    """A spawn-context pool of solver workers; submit :func:`run_solver`."""
    return ProcessPoolExecutor(
        max_workers=max_workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker_initializer,
        initargs=(jit_dir,),
    )
