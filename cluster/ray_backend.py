"""Ray backend: tasks as Ray remote functions on a cluster or on a Ray started on demand.

Specs: ``ray`` / ``ray:local`` start a single-node Ray in this process's session
(``ray.init(num_cpus=..., include_dashboard=False)``, kept on 127.0.0.1); ``ray:auto``
joins the cluster this machine belongs to (``RAY_ADDRESS`` or a head started with
``ray start``); ``ray://host:10001`` connects through the Ray client.

Retries are driven by the shared loop in :mod:`cluster.base` (Ray's own ``max_retries`` is
0): it counts attempts per item, applies the same rule on every backend and never retries
user exceptions (the remote wrapper catches them). A worker that crashed, a node that died
or an object lost with it raises a Ray system error, which becomes a retry. Timeouts and
cancellation use ``ray.cancel(force=True)``, which kills the worker running the task.
Per-task timeouts count from the moment a task starts running (timed tasks report their
start to a small actor: Ray does not tell the driver). ``max_tasks_per_child`` maps to
``max_calls``; the initializer to Ray's ``worker_process_setup_hook``. Task functions
must be importable top-level functions.
"""

from __future__ import annotations

import base64
import os
import pickle
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from cluster.base import (
    THREAD_LIMIT_VARS,
    Executor,
    WorkerLost,
    describe_exception,
    resolve_callable,
    run_task,
)

_INIT_VAR = "VFACTORY_WORKER_INIT"


def _worker_setup() -> None:
    """Ray's ``worker_process_setup_hook``: runs the executor's initializer, which travels
    (pickled by reference, with its arguments) in the job's environment."""
    spec = os.environ.get(_INIT_VAR)
    if spec:
        initializer, initargs = pickle.loads(base64.b64decode(spec))
        resolve_callable(initializer)(*initargs)


class RayExecutor(Executor):
    """Executor on Ray (``ray``, ``ray:auto``, ``ray://host:port``).

    ``address``: None starts a local Ray with ``n_workers`` CPUs (default: the cores);
    ``"auto"`` or a ``ray://`` URL connects. ``max_tasks_per_child``: a Ray worker process
    exits after that many tasks (None: never). ``initializer``: run once per worker process.
    If Ray is already initialised in this process it is used as is and left running.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        max_tasks_per_child: int | None = 100,
        initializer: str | Callable[..., Any] | None = None,
        initargs: tuple[Any, ...] = (),
        object_store_memory: int | None = None,
        cpus_per_task: float = 1.0,
    ) -> None:
        super().__init__()
        if address is None:
            # Ray otherwise advertises the machine's network address even for a local,
            # single-node instance; this keeps it on 127.0.0.1.
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        import ray

        self._ray = ray
        self._owns = False
        if ray.is_initialized() and initializer is not None:
            raise ValueError(
                "Ray is already initialised in this process, so the executor cannot install "
                "its worker initializer; pass runtime_env={'worker_process_setup_hook': ...} "
                "to your own ray.init(), or let the executor start Ray"
            )
        if not ray.is_initialized():
            runtime_env: dict[str, Any] = {"env_vars": {v: "1" for v in THREAD_LIMIT_VARS}}
            if initializer is not None:
                # Ray calls the hook without arguments and wants a named function.
                runtime_env["worker_process_setup_hook"] = "cluster.ray_backend._worker_setup"
                runtime_env["env_vars"][_INIT_VAR] = base64.b64encode(
                    pickle.dumps((initializer, tuple(initargs)))
                ).decode()
            kwargs: dict[str, Any] = {
                "runtime_env": runtime_env,
                "include_dashboard": False,
                "log_to_driver": True,
                "configure_logging": False,
            }
            if address is None:
                from cluster.local import default_workers

                kwargs["num_cpus"] = n_workers or default_workers()
                if object_store_memory is not None:
                    kwargs["object_store_memory"] = object_store_memory
            else:
                kwargs["address"] = address
                # include_dashboard only applies when starting Ray, not when connecting.
                kwargs.pop("include_dashboard")
            ray.init(**kwargs)
            self._owns = True
        self._cpus_per_task = cpus_per_task
        self._remote = ray.remote(
            num_cpus=cpus_per_task,
            max_retries=0,
            retry_exceptions=False,
            max_calls=max_tasks_per_child or 0,
        )(_run_task_remote)
        self._lost_errors = (
            ray.exceptions.WorkerCrashedError,
            ray.exceptions.NodeDiedError,
            ray.exceptions.LocalRayletDiedError,
            ray.exceptions.ObjectLostError,
            ray.exceptions.OutOfMemoryError,
            ray.exceptions.ObjectFetchTimedOutError,
            ray.exceptions.RaySystemError,
        )
        self._slot_cache: tuple[float, int] = (0.0, 1)
        self._start_log: Any = None
        self._start_log_read = 0.0
        self._tokens: dict[Any, str] = {}
        self._start_seen: dict[str, float] = {}
        self._active_tokens: set[str] = set()

    def _slots(self) -> int:
        # cluster_resources() is a GCS round trip: refresh at most every 2 s (autoscaling).
        stamp, slots = self._slot_cache
        if time.monotonic() - stamp > 2.0:
            cpus = self._ray.cluster_resources().get("CPU", 1.0)
            slots = max(1, int(cpus // self._cpus_per_task))
            self._slot_cache = (time.monotonic(), slots)
        return slots

    def _submit(self, fn: Callable[[Any], Any], item: Any, timed: bool) -> Any:
        if not timed:
            return self._remote.remote(fn, item)
        # Ray does not tell the driver when a queued task starts (a fresh worker process
        # can take seconds to start): timed tasks report their start to a small actor.
        if self._start_log is None:
            self._start_log = self._ray.remote(num_cpus=0)(_StartLog).remote()
        token = uuid.uuid4().hex
        ref = self._remote.remote(fn, item, token, self._start_log)
        self._tokens[ref] = token
        self._active_tokens.add(token)
        return ref

    def _started_at(self, handle: Any, submitted_at: float) -> float | None:
        now = time.monotonic()
        if self._start_log is not None and now - self._start_log_read > 0.1:
            self._start_log_read = now
            for token in self._ray.get(self._start_log.drain.remote()):
                if token in self._active_tokens:  # not yet collected or cancelled
                    self._start_seen[token] = now
        token = self._tokens.get(handle)
        return None if token is None else self._start_seen.get(token)

    def _wait(self, handles: Sequence[Any], timeout: float) -> list[Any]:
        if not handles:
            return []
        refs = list(handles)
        ready, rest = self._ray.wait(refs, num_returns=1, timeout=timeout)
        if ready and rest:
            # Collect the others already done too. (A timeout of exactly 0 blocks forever
            # through the Ray client, hence the tiny positive one.)
            more, _ = self._ray.wait(rest, num_returns=len(rest), timeout=0.001)
            ready += more
        # The Ray client returns new ref objects, equal to (not identical with) the handles
        # the driver loop holds: hand back the originals.
        original = {ref: ref for ref in refs}
        return [original[ref] for ref in ready]

    def _collect(self, handle: Any) -> tuple[bool, Any, str]:
        ray = self._ray
        self._forget(handle)
        try:
            return ray.get(handle)
        except self._lost_errors as exc:
            raise WorkerLost(f"{type(exc).__name__}: {exc}") from exc
        except ray.exceptions.RayTaskError as exc:
            # The wrapper catches task exceptions, so this is a failure around the task,
            # e.g. its function could not be unpickled on the worker: the task's error.
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            return False, describe_exception(cause), "ray"

    def _cancel(self, handle: Any) -> None:
        self._forget(handle)
        self._ray.cancel(handle, force=True)

    def _forget(self, handle: Any) -> None:
        token = self._tokens.pop(handle, None)
        if token is not None:
            self._active_tokens.discard(token)
            self._start_seen.pop(token, None)

    def _shutdown(self) -> None:
        if self._owns:
            self._ray.shutdown()


def _run_task_remote(
    fn: Callable[[Any], Any], item: Any, token: str | None = None, start_log: Any = None
) -> tuple[bool, Any, str]:
    import ray

    if start_log is not None:
        start_log.started.remote(token)
    ok, payload, _ = run_task(fn, item)
    # Ray nodes are told apart by their IP (containers often share a hostname).
    return ok, payload, f"{ray.util.get_node_ip_address()}:{os.getpid()}"


class _StartLog:
    """Actor collecting the tokens of timed tasks that have started (see RayExecutor)."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def started(self, token: str) -> None:
        self.tokens.append(token)

    def drain(self) -> list[str]:
        out, self.tokens = self.tokens, []
        return out
