"""Dask backend: tasks on a ``distributed`` scheduler or on a LocalCluster started on demand.

Specs: ``dask`` / ``dask:local`` start a ``LocalCluster`` (worker processes, one thread
each, on 127.0.0.1); ``tcp://host:8786`` connects to a running scheduler.

A worker that dies is handled by Dask itself first: the scheduler reschedules its tasks on
the other workers, up to ``distributed.scheduler.allowed-failures`` times, after which the
task fails with ``KilledWorker``; the shared loop in :mod:`cluster.base` then resubmits it
up to ``retries`` times (``attempts`` counts these resubmissions only). Each submission
has a unique key (``pure=False``) and the loop delivers each item once. Dask cannot stop a
running task: a timed-out task is reported as such and cancelled, but its worker thread
finishes the call in the background (use the worker's ``--lifetime`` to recycle workers;
there is no per-task-count recycling in Dask). ``dask worker`` already starts its processes
with ``OMP_NUM_THREADS=1``. Task functions must be importable on the workers.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin
from distributed import wait as dask_wait
from distributed.scheduler import KilledWorker

from cluster.base import Executor, WorkerLost, describe_exception, resolve_callable, run_task


class WorkerInit(WorkerPlugin):
    """Runs the executor's initializer once in every worker, present and future."""

    def __init__(self, initializer: str | Callable[..., Any], initargs: tuple[Any, ...]) -> None:
        self.initializer = initializer
        self.initargs = initargs

    def setup(self, worker: Any) -> None:
        resolve_callable(self.initializer)(*self.initargs)


class DaskExecutor(Executor):
    """Executor on Dask distributed (``dask``, ``tcp://host:port``).

    ``address``: None starts a LocalCluster of ``n_workers`` single-threaded processes
    (default: the cores); otherwise the scheduler address. ``initializer``: run once per
    worker (a WorkerPlugin). ``connect_timeout``: seconds to reach the scheduler.
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        initializer: str | Callable[..., Any] | None = None,
        initargs: tuple[Any, ...] = (),
        connect_timeout: float = 30.0,
        max_tasks_per_child: int | None = None,  # accepted for a uniform call; see docstring
    ) -> None:
        super().__init__()
        self._cluster: LocalCluster | None = None
        if address is None:
            from cluster.local import default_workers

            with warnings.catch_warnings():
                # Without a dashboard the scheduler still serves /health on 8787, or on a
                # free port (with a warning) when another Dask holds 8787: that is fine.
                warnings.filterwarnings("ignore", message=".*Port 8787 is already in use.*")
                self._cluster = LocalCluster(
                    n_workers=n_workers or default_workers(),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            self._client = Client(self._cluster)
        else:
            self._client = Client(address, timeout=f"{connect_timeout}s")
        if initializer is not None:
            self._client.register_plugin(WorkerInit(initializer, tuple(initargs)))
        self._slot_cache: tuple[float, int] = (0.0, 1)
        # Per-task timeouts: when each key was first seen running, and where.
        self._running_since: dict[str, float] = {}
        self._running_on: dict[str, str] = {}
        self._snapshot_at = 0.0

    @property
    def client(self) -> Client:
        return self._client

    def _slots(self) -> int:
        stamp, slots = self._slot_cache
        if time.monotonic() - stamp > 2.0:
            workers = self._client.scheduler_info(n_workers=-1)["workers"].values()
            slots = max(1, sum(int(w.get("nthreads", 1)) for w in workers))
            self._slot_cache = (time.monotonic(), slots)
        return slots

    def _submit(self, fn: Callable[[Any], Any], item: Any, timed: bool) -> Any:
        return self._client.submit(run_task, fn, item, pure=False)

    def _wait(self, handles: Sequence[Any], timeout: float) -> list[Any]:
        if not handles:
            return []
        with contextlib.suppress(TimeoutError):
            dask_wait(list(handles), timeout=timeout, return_when="FIRST_COMPLETED")
        return [h for h in handles if h.done()]

    def _collect(self, handle: Any) -> tuple[bool, Any, str]:
        if handle.status == "error":
            exc = handle.exception()
            if isinstance(exc, KilledWorker):
                raise WorkerLost(f"KilledWorker: {exc}")
            # The wrapper catches task exceptions: this failed around the task (e.g. the
            # function could not be unpickled on the worker); it is the task's error.
            return False, describe_exception(exc), "dask"
        return handle.result()

    def _refresh_running(self) -> None:
        now = time.monotonic()
        if now - self._snapshot_at < 0.1:
            return
        self._snapshot_at = now
        running = {key: addr for addr, keys in self._client.processing().items() for key in keys}
        for key in list(self._running_since):
            if key not in running:
                del self._running_since[key]
        for key in running:
            self._running_since.setdefault(key, now)
        self._running_on = running

    def _started_at(self, handle: Any, submitted_at: float) -> float | None:
        # A queued task (e.g. behind a worker that restarts) must not use up its timeout:
        # the clock starts when the scheduler has handed the task to a worker.
        self._refresh_running()
        return self._running_since.get(handle.key)

    def _cancel(self, handle: Any) -> None:
        worker = self._running_on.get(handle.key) if not handle.done() else None
        handle.cancel()
        if worker is not None:
            # Dask cannot interrupt a running call: restart the worker (its nanny starts a
            # fresh process; other tasks it held are rescheduled by Dask) so that it does
            # not stay busy with a task nobody waits for.
            self._client.restart_workers([worker], raise_for_error=False)
            self._running_on.pop(handle.key, None)

    def _shutdown(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
