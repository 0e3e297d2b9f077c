"""The worker loop behind ``vfactory worker``: claim a job, run its kind, record the outcome.

Each job runs in a child process (forkserver, else spawn), so a cancel can stop it and a crash in the kind cannot
take the worker down. While the child works, the worker renews its lease every ``heartbeat_s`` and
reports the child's progress; a worker that dies (``kill -9``) stops renewing, its lease expires
and the job goes back to the queue for another worker. Each attempt writes into its own folder
``jobs/<id>/attempts/<n>/`` and the job row records which attempt completed it, so a half-written
attempt of a dead worker is never shown as the results. The child dies with its worker
(``PR_SET_PDEATHSIG`` on Linux, and a watchdog thread everywhere).

A job ends early in one way only, ``Worker._stop_job`` (SIGTERM to the child's process group,
SIGKILL a few seconds later): on cancel, when its wall-clock limit (the one recorded in the job
at submission, lowered by this worker's own ``job_timeout_s``) is exceeded, when its lease is
lost, when the worker shuts down. Files the attempt wrote so far stay in its folder and are listed
as the job's artifacts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import multiprocessing
import os
import random
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from vfactory.report.paths import relative_paths

from . import kinds as kind_registry
from .app import RESULTS_FILE, job_dir
from .settings import Settings
from .states import JobState
from .store import Job, Store

log = logging.getLogger("vfactory.worker")

LOG_FILE = "log.txt"
_MAX_ERROR = 2000


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# --- the child process that runs one kind ---


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with(owner_pid: int) -> None:
    """End this process when ``owner_pid`` ends: PR_SET_PDEATHSIG covers the direct parent (the
    worker, or the forkserver, which exits with the worker) and a watchdog thread the owner."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if not _alive(owner_pid):  # the owner died before prctl took effect
        os._exit(70)

    def watch() -> None:
        while _alive(owner_pid):
            time.sleep(1.0)
        os._exit(70)

    threading.Thread(target=watch, name="owner-watchdog", daemon=True).start()


def _jsonable(value: Any) -> Any:
    """Results as strict JSON: NaN/inf become null, tuples lists, numpy scalars plain numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return _jsonable(value.item())
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    return value


def _stopped(signum: int, _frame: Any) -> None:
    # Unwind the kind (its finally blocks and context managers run, files are closed) instead of
    # vanishing mid-write; the worker follows with SIGKILL if that takes more than a few seconds.
    raise SystemExit(f"stopped by the worker ({_signal_name(signum)})")


def _child_main(
    fn: kind_registry.KindFn,
    attempt_dir: Path,
    layout_path: Path,
    options: dict[str, Any],
    conn: Connection,
    owner_pid: int,
) -> None:
    _die_with(owner_pid)
    os.setpgrp()  # own process group: a cancel stops the kind's helpers too
    signal.signal(signal.SIGTERM, _stopped)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    log_fd = os.open(attempt_dir / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    last_sent = 0.0

    def progress(stage: str, percent: float) -> None:
        nonlocal last_sent
        now = time.monotonic()
        if now - last_sent >= 0.2 or percent >= 100:  # the heartbeat reads only the latest
            conn.send(("progress", str(stage)[:64], float(percent)))
            last_sent = now

    try:
        results = fn(attempt_dir, layout_path, options, progress)
        if not isinstance(results, dict):
            raise TypeError(f"the kind returned {type(results).__name__}, expected a dict")
        tmp = attempt_dir / (RESULTS_FILE + ".tmp")
        # paths relative to the attempt folder (or the uploads): downloads stay usable, and no
        # server path is shown to the tenant
        results = relative_paths(results, attempt_dir, layout_path.parent)
        tmp.write_text(json.dumps(_jsonable(results), indent=1, allow_nan=False))
        tmp.replace(attempt_dir / RESULTS_FILE)
        conn.send(("done",))
    except BaseException as exc:  # report every failure of the kind, then exit non-zero
        traceback.print_exc()
        message = f"{type(exc).__name__}: {exc}".strip()
        with contextlib.suppress(Exception):
            conn.send(("error", message[:_MAX_ERROR]))
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()


# --- the worker ---

# Imported once in the forkserver, so that a job starts in milliseconds instead of paying for
# Python's start-up and these imports every time. Pure-Python modules only: dolfinx is imported
# (if ever) after the fork, inside the job's own process.
PRELOAD = ["vfactory.api.kinds", "vfactory.layout", "vfactory.sim"]


def _job_context() -> Any:
    """Start method for job processes: ``forkserver`` where available (fast start, and never a
    fork of a process that holds threads or dolfinx), else ``spawn``; VFACTORY_WORKER_START
    overrides."""
    methods = multiprocessing.get_all_start_methods()
    method = os.environ.get("VFACTORY_WORKER_START") or (
        "forkserver" if "forkserver" in methods else "spawn"
    )
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)  # type: ignore[attr-defined]
    return ctx


class Worker:
    """One worker process: ``run()`` claims and executes jobs until ``stop()`` (or SIGTERM)."""

    def __init__(self, settings: Settings, cluster: str | None = None, store: Store | None = None):
        self.settings = settings
        self.cluster = cluster
        self.store = store or Store(settings.db_url)
        self.id = worker_id()
        self._stop = threading.Event()
        self._ctx = _job_context()

    def stop(self, *_args: object) -> None:
        self._stop.set()

    def run(self, max_jobs: int | None = None) -> int:
        """Work until stopped (or ``max_jobs`` done); returns the number of jobs run."""
        done = 0
        if self._ctx.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()  # pay its start-up now, not inside a job's lease
        kind_registry.available()  # likewise the kinds' imports
        log.info("worker %s polling %s", self.id, _safe_url(self.store.url))
        while not self._stop.is_set() and (max_jobs is None or done < max_jobs):
            try:
                for jid, new in self.store.requeue_expired(self.settings.max_attempts):
                    log.warning("job %s: lease expired, now %s", jid, new.value)
                job = self.store.claim(self.id, self.settings.lease_s)
            except Exception:
                log.exception("database unavailable; retrying")
                job = None
            if job is None:
                self._stop.wait(self.settings.poll_s * random.uniform(0.8, 1.2))
                continue
            done += 1
            try:
                self.execute(job)
            except Exception as exc:
                log.exception("job %s: worker failure", job.id)
                with contextlib.suppress(Exception):
                    self.store.finish(
                        job.id,
                        self.id,
                        job.attempt,
                        JobState.SYSTEM_ERROR,
                        error=f"worker failure: {type(exc).__name__}: {exc}",
                    )
        return done

    def execute(self, job: Job) -> JobState | None:
        """Run one claimed job to its end; the state recorded, or None if the lease was lost."""
        s = self.settings
        # The heartbeat thread renews the lease from now on, whatever the main thread is doing
        # (imports and process start-up can take seconds on a loaded machine).
        beat = _Heartbeat(self.store, job, self.id, s.lease_s, s.heartbeat_s)
        beat.start()
        try:
            return self._run(job, beat)
        finally:
            beat.halt()

    def _run(self, job: Job, beat: _Heartbeat) -> JobState | None:
        s = self.settings
        root = job_dir(s, job.id)
        attempt_dir = root / "attempts" / str(job.attempt)
        if attempt_dir.exists():
            shutil.rmtree(attempt_dir)
        attempt_dir.mkdir(parents=True)
        layout_path = root / "inputs" / job.layout_name
        if not layout_path.is_file():
            return self._finish(job, JobState.SYSTEM_ERROR, "the job's uploaded files are missing")
        try:
            fn = kind_registry.get(job.kind)
        except kind_registry.KindUnavailable as exc:
            return self._finish(job, JobState.SYSTEM_ERROR, f"on worker {self.id}: {exc}")
        options = kind_registry.kind_options(job.options)
        # the limit recorded at submission (what the service advertised), lowered by this
        # worker's own; a job queued before limits were recorded gets the worker's and its option
        limit_s = kind_registry.time_limit_s(job.options, s.job_timeout_s)
        if job.time_limit_s is not None:
            limit_s = min(limit_s, job.time_limit_s)
        if self.cluster:
            options["cluster"] = self.cluster
        receiver, sender = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(
            target=_child_main,
            args=(fn, attempt_dir, layout_path, options, sender, os.getpid()),
            name=f"vfactory-job-{job.id[:8]}",
        )
        proc.start()
        started = time.monotonic()
        sender.close()
        log.info("job %s attempt %d: %s in pid %s", job.id, job.attempt, job.kind, proc.pid)
        beat.beat(running=True, note=f"on {self.id} in pid {proc.pid}")
        outcome: tuple[str, ...] | None = None
        while True:
            if beat.lost:  # lease lost: another worker has the job now
                self._stop_job(proc, beat)
                log.warning("job %s: lease lost, attempt %d abandoned", job.id, job.attempt)
                return None
            if beat.state == JobState.CANCELING:
                self._stop_job(proc, beat)
                return self._finish(job, JobState.CANCELED, "canceled on request")
            if time.monotonic() - started > limit_s:
                stage, percent = beat.stage, beat.percent
                self._stop_job(proc, beat)
                return self._finish(
                    job,
                    JobState.EXECUTOR_ERROR,
                    f"time limit of {limit_s:g} s exceeded: stopped at {stage!r} ({percent:.0f} %);"
                    " the files written so far are in the job's artifacts",
                    percent=percent,
                )
            if self._stop.is_set():
                self._stop_job(proc, beat)
                self.store.release(job.id, self.id, job.attempt)
                return JobState.QUEUED
            try:
                if receiver.poll(0.2):
                    msg = receiver.recv()
                    if msg[0] == "progress":
                        beat.stage, beat.percent = msg[1], msg[2]
                    else:
                        outcome = msg
            except (EOFError, OSError):
                proc.join(5)
                if outcome is None and proc.is_alive():
                    self._terminate(proc)
                break
            if outcome is not None:
                proc.join(10)
                if proc.is_alive():
                    self._terminate(proc)
                break
        beat.halt()
        receiver.close()
        if outcome is not None and outcome[0] == "done" and (attempt_dir / RESULTS_FILE).is_file():
            return self._finish(job, JobState.COMPLETE, None, result_attempt=job.attempt)
        if outcome is not None and outcome[0] == "error":
            return self._finish(job, JobState.EXECUTOR_ERROR, outcome[1])
        code = proc.exitcode
        if code is not None and code < 0:
            why = f"the job's process was killed by signal {-code} ({_signal_name(-code)})"
        else:
            why = f"the job's process exited with code {code} without results"
        return self._finish(job, JobState.EXECUTOR_ERROR, why)

    def _finish(
        self,
        job: Job,
        state: JobState,
        error: str | None,
        result_attempt: int | None = None,
        percent: float | None = None,
    ) -> JobState | None:
        ok = self.store.finish(
            job.id,
            self.id,
            job.attempt,
            state,
            error=error,
            result_attempt=result_attempt,
            percent=percent,
        )
        if not ok:
            log.warning("job %s: lease lost before recording %s", job.id, state.value)
            return None
        log.info(
            "job %s attempt %d: %s%s",
            job.id,
            job.attempt,
            state.value,
            f" ({error})" if error else "",
        )
        return state

    def _stop_job(self, proc: multiprocessing.process.BaseProcess, beat: _Heartbeat) -> None:
        """End a running attempt early (cancel, time limit, lost lease, shutdown): no more lease
        renewals, then the child's whole process group is stopped."""
        beat.halt()
        self._terminate(proc)

    @staticmethod
    def _terminate(proc: multiprocessing.process.BaseProcess) -> None:
        if proc.pid is None:
            return
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
            if not proc.is_alive():
                break
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                # not yet in its own group (just started): signal the process itself
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, sig)
            proc.join(wait)


class _Heartbeat(threading.Thread):
    """Renews a job's lease every ``every`` seconds with the latest progress; ``lost`` turns True
    when the lease is no longer ours, ``state`` shows a pending cancel (CANCELING)."""

    def __init__(self, store: Store, job: Job, owner: str, lease_s: float, every: float):
        super().__init__(name=f"heartbeat-{job.id[:8]}", daemon=True)
        self.store, self.job, self.owner = store, job, owner
        self.lease_s, self.every = lease_s, every
        self.stage, self.percent = "starting", 0.0
        self.state: JobState | None = job.state
        self.lost = False
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            self.beat()

    def beat(self, running: bool = False, note: str = "") -> None:
        with self._lock:  # never two renewals at once, and none after halt()
            if self._halt.is_set() and not running:
                return
            try:
                state = self.store.heartbeat(
                    self.job.id,
                    self.owner,
                    self.job.attempt,
                    self.lease_s,
                    self.stage,
                    self.percent,
                    running=running,
                    note=note,
                )
            except Exception:  # a database hiccup: try again at the next beat
                log.exception("job %s: heartbeat failed", self.job.id)
                return
            if state is None:
                self.lost = True
            else:
                self.state = state

    def halt(self) -> None:
        with self._lock:
            self._halt.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(30)


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return "?"


def _safe_url(url: str) -> str:
    # Never log a database password.
    head, sep, tail = url.partition("@")
    if not sep:
        return url
    scheme, _, _cred = head.partition("://")
    return f"{scheme}://***@{tail}"


def _serve_one(settings: Settings, cluster: str | None, parent_pid: int | None) -> None:
    if parent_pid is not None:
        _die_with(parent_pid)
    _configure_logging()
    worker = Worker(settings, cluster)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    worker.run()


def _configure_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("VFACTORY_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s",
    )


def run_workers(settings: Settings, processes: int = 1, cluster: str | None = None) -> None:
    """Run ``processes`` worker processes (1: in this process) until SIGTERM/SIGINT; a worker
    process that dies is restarted."""
    if processes <= 1:
        _serve_one(settings, cluster, None)
        return
    _configure_logging()
    ctx = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def on_signal(*_args: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def start() -> multiprocessing.process.BaseProcess:
        p = ctx.Process(
            target=_serve_one, args=(settings, cluster, os.getpid()), name="vfactory-worker"
        )
        p.start()
        return p

    procs = [start() for _ in range(processes)]
    while not stopping.wait(1.0):
        for i, p in enumerate(procs):
            if not p.is_alive():
                log.warning("worker pid %s exited with %s; restarting", p.pid, p.exitcode)
                procs[i] = start()
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid or 0, signal.SIGTERM)
    for p in procs:
        p.join(15)
        if p.is_alive():
            p.kill()
