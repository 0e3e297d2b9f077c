"""Helpers of the job-API tests: a real uvicorn server and real worker processes on 127.0.0.1,
small layouts whose results are known from theory, and polling helpers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from vfactory.api.store import Store

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# Saturated single station, constant 2 min per part: throughput is exactly 1/2 part per minute.
TINY_LAYOUT = """\
factory:
  name: tiny
  time_unit: min
  run_length: 1000
  warmup: 100
  replications: 3
  seed: 7
products:
  widget:
    route: [saw]
    arrival: saturated
stations:
  saw:
    process_time: 2
"""


# Process times measured in an attached CSV (all 4 min): throughput exactly 1/4 part per minute.
def csv_layout(path: str) -> str:
    return f"""\
factory:
  name: measured
  time_unit: min
  run_length: 1000
  warmup: 100
  replications: 2
products:
  widget:
    route: [press]
    arrival: saturated
stations:
  press:
    process_time: {{dist: empirical, file: {path}, column: minutes}}
"""


TIMES_CSV = "minutes\n4.0\n4.0\n4.0\n4.0\n"

# A job that runs for several seconds and reports progress per replication.
SLOW_LAYOUT = """\
factory:
  name: slow
  time_unit: min
  run_length: 3000
  warmup: 100
  replications: 40
  seed: 3
products:
  widget:
    route: [saw, drill]
    arrival:
      interarrival: {dist: exponential, mean: 1.0}
stations:
  saw:
    process_time: {dist: exponential, mean: 0.8}
    buffer: 5
  drill:
    process_time: {dist: exponential, mean: 0.7}
    buffer: 5
"""

TERMINAL = {"COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED"}

# Small limits and fast leases so the tests exercise them quickly.
TEST_ENV = {
    "VFACTORY_LEASE_S": "5",
    "VFACTORY_HEARTBEAT_S": "0.5",
    "VFACTORY_POLL_S": "0.2",
    "VFACTORY_MAX_UPLOAD_BYTES": "3000000",
    "VFACTORY_MAX_FILE_BYTES": "1000000",
    "VFACTORY_MAX_LAYOUT_BYTES": "200000",
    "VFACTORY_MAX_FILES": "8",
    "VFACTORY_MAX_ZIP_BYTES": "5000000",
    "VFACTORY_MAX_ZIP_ENTRIES": "50",
    "VFACTORY_RATE_PER_S": "1000",
    "VFACTORY_RATE_BURST": "5000",
    # Test-only kinds: one that crashes its process, one that never ends, one whose module does
    # not exist.
    "VFACTORY_KINDS": "crash=faulty_kinds:crash,endless=faulty_kinds:endless,"
    "broken=no_such_module_xyz:run",
    "VFACTORY_LOG_LEVEL": "INFO",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """One job service: a uvicorn server subprocess plus worker subprocesses on one database."""

    def __init__(self, root: Path, db_url: str | None = None, extra_env: dict | None = None):
        self.root = root
        self.data_dir = root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.db_url = db_url or f"sqlite:///{self.data_dir / 'vfactory.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **TEST_ENV,
            **(extra_env or {}),
            "VFACTORY_DATA_DIR": str(self.data_dir),
            "VFACTORY_DB_URL": self.db_url,
            "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE), os.environ.get("PYTHONPATH", "")]),
        }
        self.server: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self._logs: list = []
        self.store = Store(self.db_url)

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.root / log_name, "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        return subprocess.Popen(
            [sys.executable, "-m", "vfactory.api", *args],
            env=self.env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_server(self) -> None:
        self.server = self._spawn(
            ["serve", "--port", str(self.port), "--log-level", "warning"], "server.log"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"server exited: {self.log('server.log')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log('server.log')}")

    def stop_server(self, sig: int = signal.SIGTERM) -> None:
        if self.server is not None:
            self.server.send_signal(sig)
            self.server.wait(15)
            self.server = None

    def start_worker(self, processes: int = 1, *args: str) -> subprocess.Popen:
        p = self._spawn(
            ["worker", "--processes", str(processes), *args], f"worker{len(self.workers)}.log"
        )
        self.workers.append(p)
        return p

    def log(self, name: str) -> str:
        path = self.root / name
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def token(self, tenant: str, **kw) -> str:
        return self.store.create_token(tenant, **kw)

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        for p in self.workers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.workers:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
        self.store.close()
        for log in self._logs:
            log.close()


def submit(
    http: httpx.Client,
    layout: str = TINY_LAYOUT,
    name: str = "line.yaml",
    attachments: list[tuple[str, bytes]] = (),
    kind: str = "simulate",
    options: str = "{}",
    headers: dict | None = None,
) -> httpx.Response:
    files = [("layout", (name, layout.encode(), "application/yaml"))]
    files += [("attachments", (n, data, "application/octet-stream")) for n, data in attachments]
    return http.post(
        "/v1/jobs", files=files, data={"kind": kind, "options": options}, headers=headers or {}
    )


def wait_state(
    http: httpx.Client, job_id: str, states=TERMINAL, timeout: float = 60, pred=None
) -> dict:
    """Poll the job's status until its state is in ``states`` (and ``pred(status)`` holds)."""
    deadline = time.monotonic() + timeout
    st: dict = {}
    while time.monotonic() < deadline:
        r = http.get(f"/v1/jobs/{job_id}/status")
        assert r.status_code == 200, r.text
        st = r.json()
        if st["state"] in states and (pred is None or pred(st)):
            return st
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach {states} in {timeout} s; last: {st}")
