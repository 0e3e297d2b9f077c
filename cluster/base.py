"""The executor interface shared by every backend, and the one driver loop behind it.

An :class:`Executor` runs ``fn(item)`` for many plain-data items and yields a
:class:`TaskResult` per item *as the tasks finish*. The semantics are the same on every
backend, because the loop that enforces them lives here once:

- a task that raises is a *user error*: it comes back as that task's ``error`` (never
  retried) while the other tasks finish;
- a worker that dies (process killed, node lost) is a *system failure*: the task is
  submitted again, up to ``retries`` more times, possibly on another worker;
- a task running longer than ``timeout`` seconds comes back as a ``timeout`` error and the
  engine is asked to stop it (the local pool kills and replaces that worker);
- each item's result is delivered exactly once, whatever happened on the way (a task may
  *execute* more than once when its worker died mid-way, so tasks must be idempotent).

Backends only provide five primitives (``_slots``, ``_submit``, ``_wait``, ``_collect``,
``_cancel``). Functions sent to workers must be importable top-level functions
(``module.function``, no lambdas or closures) and items must be picklable plain data:
workers are separate processes, started with ``spawn`` or on other machines.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import pickle
import socket
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

#: Environment variables that cap the thread pools of BLAS/OpenMP libraries in workers;
#: one numerical thread per worker process, since the pool already uses every core.
THREAD_LIMIT_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
)

# How often a waiting driver wakes up to notice cancel() and timeouts (seconds).
_POLL_S = 0.2


@dataclass(frozen=True)
class TaskError:
    """Picklable description of why a task produced no value.

    ``kind`` is ``"exception"`` (the task raised), ``"timeout"``, ``"worker-lost"``
    (its worker died more often than ``retries`` allowed) or ``"cancelled"``.
    """

    kind: str
    type: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


@dataclass(frozen=True)
class TaskResult:
    """The outcome of one item: its input position, a value or an error, and where it ran."""

    index: int
    value: Any = None
    error: TaskError | None = None
    attempts: int = 1
    worker: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> Any:
        """The value, or raise :class:`TaskFailed` carrying the remote traceback."""
        if self.error is not None:
            raise TaskFailed(self)
        return self.value


class TaskFailed(RuntimeError):
    """Raised by :meth:`TaskResult.unwrap` and :meth:`Executor.run_all` for a failed task."""

    def __init__(self, result: TaskResult) -> None:
        self.result = result
        err = result.error
        assert err is not None
        detail = f"\n--- remote traceback ---\n{err.traceback}" if err.traceback else ""
        super().__init__(f"task {result.index} failed ({err.kind}) {err}{detail}")


class WorkerLost(RuntimeError):
    """A backend's signal that a task's worker died; the driver loop retries the task."""


def worker_id() -> str:
    """``host:pid`` of the current process, the identity reported in TaskResult.worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


def describe_exception(exc: BaseException, kind: str = "exception") -> TaskError:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return TaskError(kind=kind, type=type(exc).__name__, message=str(exc), traceback=tb)


def run_task(fn: Callable[[Any], Any], item: Any) -> tuple[bool, Any, str]:
    """Run one task inside a worker; returns ``(ok, value or TaskError, worker id)``.

    Every backend executes this wrapper, so a user exception never looks like an engine
    failure: engine-level errors seen by the driver always mean the worker was lost.
    """
    try:
        value = fn(item)
    except Exception as exc:  # the task's own failure, reported, never retried
        return False, describe_exception(exc), worker_id()
    return True, value, worker_id()


def check_picklable(fn: Callable[..., Any]) -> None:
    """Fail early, in the driver, when ``fn`` cannot be sent to a worker by reference."""
    qualname = getattr(fn, "__qualname__", "")
    if "<lambda>" in qualname or "<locals>" in qualname:
        raise TypeError(
            f"{qualname!r} cannot run on a worker: pass an importable top-level function "
            "(module.function), not a lambda or a nested function"
        )
    try:
        pickle.dumps(fn)
    except Exception as exc:
        raise TypeError(f"{fn!r} cannot be pickled for a worker: {exc}") from exc


def resolve_callable(ref: str | Callable[..., Any]) -> Callable[..., Any]:
    """A callable from ``"package.module:function"`` (or ``package.module.function``)."""
    if callable(ref):
        return ref
    import importlib

    module, sep, name = ref.partition(":")
    if not sep:
        module, _, name = ref.rpartition(".")
    if not module or not name:
        raise ValueError(f"expected 'package.module:function', found {ref!r}")
    return getattr(importlib.import_module(module), name)


_E = TypeVar("_E", bound="Executor")


@dataclass
class _Slot:
    index: int
    attempt: int
    submitted_at: float


class Executor(ABC):
    """Runs plain-data tasks on a pool of worker processes (see the module docstring)."""

    #: Short backend name, e.g. ``"local"``, ``"ray"``, ``"dask"``.
    name: str = "executor"

    def __init__(self) -> None:
        self._cancel_generation = 0
        self._closed = False

    # ---- backend primitives -------------------------------------------------------------
    @abstractmethod
    def _slots(self) -> int:
        """How many tasks the backend runs at the same time."""

    @abstractmethod
    def _submit(self, fn: Callable[[Any], Any], item: Any, timed: bool) -> Any:
        """Start ``run_task(fn, item)`` on a worker; returns an engine handle.

        ``timed``: the map has a timeout, so ``_started_at`` will be asked for this task.
        """

    @abstractmethod
    def _wait(self, handles: Sequence[Any], timeout: float) -> list[Any]:
        """The handles among ``handles`` that are finished, waiting at most ``timeout`` s.

        Must return the very objects passed in (the loop looks them up by identity).
        """

    @abstractmethod
    def _collect(self, handle: Any) -> tuple[bool, Any, str]:
        """The ``run_task`` tuple of a finished handle; raises WorkerLost if its worker died."""

    @abstractmethod
    def _cancel(self, handle: Any) -> None:
        """Stop a task (queued or running), killing its worker if the engine can."""

    def _started_at(self, handle: Any, submitted_at: float) -> float | None:
        """When the task began running (None: not yet); used for per-task timeouts."""
        return submitted_at

    def _window(self, timeout: float | None) -> int:
        # With a timeout, only as many tasks as there are slots are in flight, so that a
        # task waiting in an engine queue does not use up its time. Without, a deeper queue
        # hides the driver-engine round trip (it matters for short tasks).
        slots = max(1, self._slots())
        return slots if timeout is not None else max(4 * slots, 16)

    def _shutdown(self) -> None:  # noqa: B027 (optional hook: most backends need it)
        """Release the backend's resources (workers, connections)."""

    # ---- public API -----------------------------------------------------------------------
    @property
    def n_workers(self) -> int:
        """Number of task slots (worker processes or cores) the backend offers now."""
        return self._slots()

    def map(
        self,
        fn: Callable[[Any], Any],
        items: Iterable[Any],
        *,
        timeout: float | None = None,
        retries: int = 2,
        progress: bool | str = False,
    ) -> Iterator[TaskResult]:
        """Run ``fn(item)`` for every item; yield TaskResults in completion order.

        ``timeout``: seconds one task may run. ``retries``: extra attempts for a task whose
        worker died. ``progress``: show a rich progress bar (a string is its label).
        Breaking out of the loop cancels the tasks still in flight. After :meth:`cancel`,
        the iterator raises ``concurrent.futures.CancelledError``.
        """
        if self._closed:
            raise RuntimeError(f"{self.name} executor is closed")
        check_picklable(fn)
        if retries < 0:
            raise ValueError(f"retries must be >= 0, found {retries}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, found {timeout}")
        items = list(items)
        results = self._drive(fn, items, timeout, retries)
        if progress:
            from cluster.progress import track

            label = progress if isinstance(progress, str) else f"{self.name} tasks"
            return track(results, total=len(items), label=label)
        return results

    def map_ordered(
        self, fn: Callable[[Any], Any], items: Iterable[Any], **kwargs: Any
    ) -> list[TaskResult]:
        """All TaskResults (values and errors), in input order."""
        items = list(items)
        out: list[TaskResult | None] = [None] * len(items)
        for res in self.map(fn, items, **kwargs):
            out[res.index] = res
        assert all(r is not None for r in out)
        return out  # type: ignore[return-value]

    def run_all(self, fn: Callable[[Any], Any], items: Iterable[Any], **kwargs: Any) -> list[Any]:
        """Values in input order; raises TaskFailed (with the remote traceback) on any error."""
        return [res.unwrap() for res in self.map_ordered(fn, items, **kwargs)]

    def submit(
        self,
        fn: Callable[[Any], Any],
        item: Any,
        *,
        timeout: float | None = None,
        retries: int = 2,
    ) -> concurrent.futures.Future[Any]:
        """Run one task in the background; the Future's result is the task's value.

        A failed task sets the Future's exception to :class:`TaskFailed`.
        """
        check_picklable(fn)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def drive() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                res = next(iter(self.map(fn, [item], timeout=timeout, retries=retries)))
                if res.ok:
                    future.set_result(res.value)
                else:
                    future.set_exception(TaskFailed(res))
            except BaseException as exc:  # hand every failure to the caller of result()
                future.set_exception(exc)

        threading.Thread(target=drive, name=f"{self.name}-submit", daemon=True).start()
        return future

    def cancel(self) -> None:
        """Cancel every task of the maps running now; their iterators raise CancelledError."""
        self._cancel_generation += 1

    def close(self) -> None:
        """Cancel what runs and release workers; the executor cannot be used afterwards."""
        if not self._closed:
            self.cancel()
            self._closed = True
            self._shutdown()

    def __enter__(self: _E) -> _E:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # ---- the driver loop, shared by every backend ----------------------------------------
    def _drive(
        self,
        fn: Callable[[Any], Any],
        items: list[Any],
        timeout: float | None,
        retries: int,
    ) -> Iterator[TaskResult]:
        generation = self._cancel_generation
        todo: list[tuple[int, int]] = [(i, 1) for i in reversed(range(len(items)))]  # a stack
        inflight: dict[Any, _Slot] = {}
        # Handles are looked up by identity: engine futures may define __eq__ oddly.
        handle_by_id: dict[int, Any] = {}
        delivered = 0
        try:
            while delivered < len(items):
                if self._cancel_generation != generation:
                    raise concurrent.futures.CancelledError("executor.cancel() was called")
                window = self._window(timeout)
                while todo and len(inflight) < window:
                    index, attempt = todo.pop()
                    handle = self._submit(fn, items[index], timeout is not None)
                    inflight[id(handle)] = _Slot(index, attempt, time.monotonic())
                    handle_by_id[id(handle)] = handle
                wait_s = _POLL_S
                if timeout is not None:
                    wait_s = min(wait_s, self._time_to_deadline(inflight, handle_by_id, timeout))
                done = self._wait([handle_by_id[k] for k in inflight], max(wait_s, 0.0))
                for handle in done:
                    slot = inflight.pop(id(handle), None)
                    handle_by_id.pop(id(handle), None)
                    if slot is None:
                        continue
                    try:
                        ok, payload, wid = self._collect(handle)
                    except WorkerLost as lost:
                        if slot.attempt <= retries:
                            todo.append((slot.index, slot.attempt + 1))
                            continue
                        err = TaskError(
                            "worker-lost",
                            "WorkerLost",
                            f"worker died {slot.attempt} times running this task: {lost}",
                        )
                        delivered += 1
                        yield TaskResult(slot.index, error=err, attempts=slot.attempt)
                        continue
                    delivered += 1
                    if ok:
                        yield TaskResult(slot.index, payload, None, slot.attempt, wid)
                    else:
                        yield TaskResult(slot.index, None, payload, slot.attempt, wid)
                if timeout is not None:
                    for res in self._expire(inflight, handle_by_id, timeout):
                        delivered += 1
                        yield res
        finally:
            # Reached on completion (nothing left), on cancel, and when the consumer stops
            # iterating early: never leave tasks of this map running on the workers.
            for handle in handle_by_id.values():
                with contextlib.suppress(Exception):
                    self._cancel(handle)

    def _time_to_deadline(
        self, inflight: dict[int, _Slot], handles: dict[int, Any], timeout: float
    ) -> float:
        now = time.monotonic()
        left = [
            started + timeout - now
            for key, slot in inflight.items()
            if (started := self._started_at(handles[key], slot.submitted_at)) is not None
        ]
        return min(left, default=_POLL_S)

    def _expire(
        self, inflight: dict[int, _Slot], handles: dict[int, Any], timeout: float
    ) -> Iterator[TaskResult]:
        now = time.monotonic()
        for key in list(inflight):
            slot = inflight[key]
            started = self._started_at(handles[key], slot.submitted_at)
            if started is None or now - started < timeout:
                continue
            handle = handles.pop(key)
            del inflight[key]
            with contextlib.suppress(Exception):
                self._cancel(handle)
            err = TaskError("timeout", "TimeoutError", f"task ran longer than {timeout:g} s")
            yield TaskResult(slot.index, error=err, attempts=slot.attempt)
