"""The default backend: a pool of ``spawn``-ed worker processes on this machine.

A small pool of its own rather than ``concurrent.futures.ProcessPoolExecutor``: the driver
must know which worker runs which task, to kill exactly that worker on a timeout or a
cancel, to see a worker die and resubmit only its task, and to recycle workers after
``max_tasks_per_child`` tasks. Each worker has its own pipe; one dispatcher thread hands a
task to an idle worker and watches all pipes and process sentinels at once.

Workers start with ``spawn`` (never ``fork``: dolfinx/MPI state does not survive a fork)
and with ``OMP_NUM_THREADS=1`` and the other BLAS thread caps set in their environment
before anything imports numpy. An optional ``initializer`` (``"module:function"`` or an
importable function) runs once per worker, e.g. to compile FEniCSx forms. Task functions
must be importable top-level functions; items and results must be picklable.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import pickle
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from cluster.base import (
    THREAD_LIMIT_VARS,
    Executor,
    TaskError,
    WorkerLost,
    describe_exception,
    resolve_callable,
    run_task,
    worker_id,
)

# os.environ is process-wide: workers are started one at a time with their limits set.
_ENV_LOCK = threading.Lock()
# A pool whose fresh workers die this many times in a row before being ready is broken.
_MAX_START_FAILURES = 3


class WorkerInitError(RuntimeError):
    """The worker initializer failed (or workers die at start-up): the pool cannot run."""


def default_workers() -> int:
    """The cores this process may use (respects taskset/cgroup CPU affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _worker_main(
    conn: multiprocessing.connection.Connection,
    initializer: str | Callable[..., Any] | None,
    initargs: tuple[Any, ...],
    max_tasks: int | None,
) -> None:
    """Body of a worker process: init once, then run tasks until told to stop or retired."""
    try:
        if initializer is not None:
            resolve_callable(initializer)(*initargs)
    except BaseException as exc:
        conn.send_bytes(pickle.dumps(("init-error", describe_exception(exc, "initializer"))))
        return
    conn.send_bytes(pickle.dumps(("ready", worker_id())))
    done = 0
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):  # the driver went away
            return
        if not data:  # shutdown request
            return
        try:
            fn, item = pickle.loads(data)
        except Exception as exc:  # e.g. the function's module is not importable here
            outcome: tuple[bool, Any, str] = (False, describe_exception(exc), worker_id())
        else:
            outcome = run_task(fn, item)
        done += 1
        retiring = max_tasks is not None and done >= max_tasks
        try:
            reply = pickle.dumps(("done", outcome, retiring))
        except Exception as exc:  # an unpicklable return value is the task's error
            bad = (False, describe_exception(exc), worker_id())
            reply = pickle.dumps(("done", bad, retiring))
        conn.send_bytes(reply)
        if retiring:
            return


class _Task:
    """Handle of one submitted task inside the pool."""

    __slots__ = ("payload", "future", "started_at", "worker")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.started_at: float | None = None
        self.worker: _Worker | None = None


class _Worker:
    __slots__ = ("process", "conn", "task", "ready")

    def __init__(self, process: Any, conn: multiprocessing.connection.Connection) -> None:
        self.process = process
        self.conn = conn
        self.task: _Task | None = None
        self.ready = False


class _Pool:
    """Fixed-size pool of spawned workers with per-task kill, death detection and recycling."""

    def __init__(
        self,
        n_workers: int,
        max_tasks_per_child: int | None,
        initializer: str | Callable[..., Any] | None,
        initargs: tuple[Any, ...],
        env: dict[str, str],
    ) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._n = n_workers
        self._max_tasks = max_tasks_per_child
        self._initializer = initializer
        self._initargs = initargs
        self._env = env
        self._lock = threading.RLock()
        self._pending: deque[_Task] = deque()
        self._workers: list[_Worker] = []
        self._broken: BaseException | None = None
        self._start_failures = 0
        self._stopping = False
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        for _ in range(n_workers):
            self._workers.append(self._spawn())
        self._thread = threading.Thread(target=self._loop, name="cluster-local-pool", daemon=True)
        self._thread.start()

    # ---- called from the driver ----------------------------------------------------------
    def submit(self, fn: Callable[[Any], Any], item: Any) -> _Task:
        task = _Task(pickle.dumps((fn, item)))
        with self._lock:
            if self._broken is not None:
                task.future.set_exception(self._broken)
                return task
            self._pending.append(task)
        self._wake()
        return task

    def cancel(self, task: _Task) -> None:
        with self._lock:
            if task.future.done():
                return
            task.future.cancel()
            worker = task.worker
            if worker is None:
                with contextlib.suppress(ValueError):
                    self._pending.remove(task)
                return
            # A running task can only be stopped by stopping its process; the dispatcher
            # sees the sentinel and starts a fresh worker in its place.
            worker.task = None
            task.worker = None
            worker.process.kill()
            worker.process.join(timeout=5)
            # Replace it now rather than in the dispatcher: when cancel() returns, the
            # stopped process is gone from the pool.
            for pos, w in enumerate(self._workers):
                if w is worker:
                    self._service(pos, w)
        self._wake()

    def shutdown(self) -> None:
        with self._lock:
            self._stopping = True
            for task in self._pending:
                task.future.cancel()
            self._pending.clear()
            workers = list(self._workers)
        self._wake()
        self._thread.join(timeout=5)
        for w in workers:
            with contextlib.suppress(OSError, ValueError):
                w.conn.send_bytes(b"")
        deadline = time.monotonic() + 2
        for w in workers:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=2)
            with contextlib.suppress(OSError):
                w.conn.close()

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    # ---- dispatcher thread ---------------------------------------------------------------
    def _wake(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._wake_w.send_bytes(b"")

    def _spawn(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_worker_main,
            args=(child_conn, self._initializer, self._initargs, self._max_tasks),
            name="cluster-local-worker",
            daemon=True,
        )
        with _ENV_LOCK:
            saved = {k: os.environ.get(k) for k in self._env}
            os.environ.update(self._env)
            try:
                process.start()
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
        child_conn.close()
        return _Worker(process, parent_conn)

    def _loop(self) -> None:
        try:
            while self._step():
                pass
        except BaseException as exc:  # never leave a map waiting on a dead dispatcher
            with self._lock:
                if not self._stopping:
                    self._fail_all(RuntimeError(f"local pool dispatcher failed: {exc!r}"))
            raise

    def _step(self) -> bool:
        with self._lock:
            if self._stopping:
                return False
            self._dispatch()
            # File descriptors, not Connection objects: cancel() may close a worker's pipe
            # from another thread while this thread waits.
            watched: dict[int, _Worker | None] = {self._wake_r.fileno(): None}
            for w in self._workers:
                if not w.conn.closed:
                    watched[w.conn.fileno()] = w
                    watched[w.process.sentinel] = w
        try:
            ready = multiprocessing.connection.wait(list(watched), timeout=1.0)
        except (OSError, ValueError):  # a descriptor closed under us: look again
            return True
        with self._lock:
            woken = {watched[fd] for fd in ready if isinstance(fd, int)}
            if None in woken:
                while self._wake_r.poll():
                    self._wake_r.recv_bytes()
            for pos, w in enumerate(self._workers):
                if w in woken and not w.conn.closed:
                    self._service(pos, w)
        return True

    def _dispatch(self) -> None:
        for w in self._workers:
            if not self._pending:
                return
            if not w.ready or w.task is not None:
                continue
            task = self._pending.popleft()
            try:
                w.conn.send_bytes(task.payload)
            except OSError:  # died between tasks: the task never started, queue it again
                self._pending.appendleft(task)
                continue
            task.started_at = time.monotonic()
            task.worker = w
            w.task = task

    def _service(self, pos: int, w: _Worker) -> None:
        """Read what a worker said; replace it if it exited (retired, killed or crashed)."""
        retiring = False
        try:
            while w.conn.poll():
                msg = pickle.loads(w.conn.recv_bytes())
                if msg[0] == "ready":
                    w.ready = True
                    self._start_failures = 0
                elif msg[0] == "done":
                    _, outcome, retiring = msg
                    task, w.task = w.task, None
                    if task is not None:
                        task.worker = None
                        if not task.future.done():
                            task.future.set_result(outcome)
                elif msg[0] == "init-error":
                    err: TaskError = msg[1]
                    self._fail_all(
                        WorkerInitError(f"worker initializer failed: {err}\n{err.traceback}")
                    )
        except (EOFError, OSError):
            pass
        if w.process.is_alive() and not retiring:
            return
        w.process.join(timeout=5)
        if w.task is not None and not w.task.future.done():
            w.task.worker = None
            w.task.future.set_exception(
                WorkerLost(f"worker pid {w.process.pid} exited with code {w.process.exitcode}")
            )
        if not w.ready and not retiring:
            self._start_failures += 1
            if self._start_failures >= _MAX_START_FAILURES and self._broken is None:
                self._fail_all(
                    WorkerInitError(
                        f"{self._start_failures} workers in a row died while starting "
                        f"(last exit code {w.process.exitcode})"
                    )
                )
        with contextlib.suppress(OSError):
            w.conn.close()
        if self._broken is None and not self._stopping:
            self._workers[pos] = self._spawn()
        else:
            self._workers[pos] = _Worker(w.process, w.conn)  # dead placeholder, never ready

    def _fail_all(self, exc: BaseException) -> None:
        self._broken = exc
        for task in self._pending:
            if not task.future.done():
                task.future.set_exception(exc)
        self._pending.clear()
        for w in self._workers:
            if w.task is not None and not w.task.future.done():
                w.task.future.set_exception(exc)


class LocalExecutor(Executor):
    """Spawn process pool on this machine (``local`` or ``local:N``).

    ``n_workers``: processes (default: the usable cores). ``max_tasks_per_child``: a worker
    is replaced after that many tasks, bounding leaks (None: never). ``initializer``: a
    ``"module:function"`` or importable function run once per worker with ``initargs``.
    ``threads_per_worker``: value of OMP_NUM_THREADS and the BLAS equivalents in workers.
    """

    name = "local"

    def __init__(
        self,
        n_workers: int | None = None,
        *,
        max_tasks_per_child: int | None = 100,
        initializer: str | Callable[..., Any] | None = None,
        initargs: tuple[Any, ...] = (),
        threads_per_worker: int = 1,
    ) -> None:
        super().__init__()
        n = default_workers() if n_workers is None else n_workers
        if n < 1:
            raise ValueError(f"n_workers must be >= 1, found {n}")
        if max_tasks_per_child is not None and max_tasks_per_child < 1:
            raise ValueError(
                f"max_tasks_per_child must be >= 1 or None, found {max_tasks_per_child}"
            )
        self._n = n
        self._max_tasks = max_tasks_per_child
        self._initializer = initializer
        self._initargs = tuple(initargs)
        self._env = {var: str(threads_per_worker) for var in THREAD_LIMIT_VARS}
        self._pool: _Pool | None = None
        self._pool_lock = threading.Lock()

    @property
    def pool(self) -> _Pool:
        """The worker pool, started on first use so that creating an executor is cheap."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = _Pool(
                    self._n, self._max_tasks, self._initializer, self._initargs, self._env
                )
            return self._pool

    def worker_pids(self) -> list[int]:
        """PIDs of the current worker processes (starts the pool if needed)."""
        return self.pool.worker_pids()

    def _slots(self) -> int:
        return self._n

    def _window(self, timeout: float | None) -> int:
        # The pool knows when a task starts, so queueing ahead does not distort timeouts.
        return max(4 * self._n, 16) if timeout is None else 2 * self._n

    def _submit(self, fn: Callable[[Any], Any], item: Any, timed: bool) -> _Task:
        return self.pool.submit(fn, item)

    def _wait(self, handles: Sequence[_Task], timeout: float) -> list[_Task]:
        by_future = {id(h.future): h for h in handles}
        done, _ = concurrent.futures.wait(
            [h.future for h in handles], timeout=timeout, return_when="FIRST_COMPLETED"
        )
        return [by_future[id(f)] for f in done]

    def _collect(self, handle: _Task) -> tuple[bool, Any, str]:
        return handle.future.result()

    def _cancel(self, handle: _Task) -> None:
        if self._pool is not None:
            self._pool.cancel(handle)

    def _started_at(self, handle: _Task, submitted_at: float) -> float | None:
        return handle.started_at

    def _shutdown(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
