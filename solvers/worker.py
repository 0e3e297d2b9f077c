"""Running solvers in spawned worker processes (one MPI.COMM_SELF solve per process at a time).

dolfinx must not be inherited through ``fork`` (MPI and PETSc state do not survive it), and each
worker should use one thread (``OMP_NUM_THREADS=1``) so that N workers use N cores. This module
never imports dolfinx itself, so the parent stays light.

- :func:`solve_in_subprocess`: one solve in a fresh spawned process, with an optional timeout.
- :func:`worker_initializer` and :func:`run_solver`: the pieces a process pool uses, e.g.
  ``ProcessPoolExecutor(mp_context=multiprocessing.get_context("spawn"),
  initializer=worker_initializer)`` then ``pool.submit(run_solver, name, params)``; or simply
  :func:`process_pool`. A pool worker keeps its compiled problems, so repeated solves are cheap.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from concurrent.futures import ProcessPoolExecutor
from typing import Any

#: Environment every solver process gets (set before numpy/PETSc load their thread pools).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

_env_lock = threading.Lock()


class WorkerError(RuntimeError):
    """A solver crashed inside the worker (not a user error); carries the worker's traceback."""


def _apply_env(jit_dir: str | None) -> None:
    for k, v in WORKER_ENV.items():
        os.environ[k] = v
    if jit_dir:
        os.environ["VFACTORY_JIT_DIR"] = str(jit_dir)


def worker_initializer(jit_dir: str | None = None) -> None:
    """Prepare a fresh worker: one thread, JIT directory, stale JIT locks removed."""
    _apply_env(jit_dir)
    from solvers import jit

    jit.remove_stale_locks()


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
