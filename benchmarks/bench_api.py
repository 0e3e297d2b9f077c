"""Job-API throughput and latency: submissions per second and status-poll p50/p99 latency with 50
concurrent clients (asyncio + httpx), on SQLite and on PostgreSQL. Run:
``python benchmarks/bench_api.py``.

A real uvicorn server subprocess on 127.0.0.1 (no workers: the submitted jobs stay queued, so only
the API and its store are measured). Every submission is a full multipart upload of a small layout
that the service validates. The baseline, measured the same way against the same server, is
``GET /v1/service-info`` (no database, no authentication): the ratio status/baseline shows what
the token check and the store cost on top of the HTTP stack. Bounded: 400 submissions and
2000 polls per database, loopback only. Writes benchmarks/results/api.json and api.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from vfactory.api.pgcluster import throwaway_cluster
from vfactory.api.store import Store

RESULTS = Path(__file__).resolve().parent / "results"
CLIENTS = 50
SUBMISSIONS = 400
POLLS = 2000
TENANTS = 5

LAYOUT = b"""\
factory: {name: bench, time_unit: min, run_length: 1000, warmup: 100, replications: 3}
products:
  widget: {route: [saw, drill], arrival: {interarrival: {dist: exponential, mean: 1.0}}}
stations:
  saw: {process_time: {dist: exponential, mean: 0.8}, buffer: 5}
  drill: {process_time: {dist: exponential, mean: 0.7}, buffer: 5}
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(db_url: str, data_dir: Path):
    port = _free_port()
    env = {
        **os.environ,
        "VFACTORY_DB_URL": db_url,
        "VFACTORY_DATA_DIR": str(data_dir),
        "VFACTORY_RATE_PER_S": "1000000",
        "VFACTORY_RATE_BURST": "1000000",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vfactory.api",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


async def _run_clients(n_requests: int, make_request) -> tuple[float, list[float], int]:
    """``CLIENTS`` concurrent clients share ``n_requests``; (wall s, latencies s, errors)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n_requests):
        queue.put_nowait(i)
    latencies: list[float] = []
    errors = 0

    async def client(k: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(timeout=60) as http:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                r = await make_request(http, k, i)
                latencies.append(time.perf_counter() - t0)
                if r.status_code >= 400:
                    errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(CLIENTS)))
    return time.perf_counter() - t0, latencies, errors


def _summary(wall: float, lat: list[float], errors: int) -> dict:
    return {
        "requests": len(lat),
        "errors": errors,
        "wall_s": round(wall, 3),
        "per_s": round(len(lat) / wall, 1),
        "p50_ms": round(1000 * statistics.median(lat), 2),
        "p99_ms": round(1000 * _pct(lat, 0.99), 2),
    }


async def measure(url: str, tokens: list[str]) -> dict:
    auth = [{"Authorization": f"Bearer {t}"} for t in tokens]
    job_ids: list[list[str]] = [[] for _ in tokens]

    async def do_submit(http: httpx.AsyncClient, k: int, i: int) -> httpx.Response:
        t = k % len(tokens)
        r = await http.post(
            url + "/v1/jobs",
            headers=auth[t],
            files=[("layout", ("line.yaml", LAYOUT, "application/yaml"))],
            data={"kind": "simulate", "options": json.dumps({"seed": i})},
        )
        if r.status_code == 201:
            job_ids[t].append(r.json()["id"])
        return r

    async def do_status(http: httpx.AsyncClient, k: int, i: int) -> httpx.Response:
        t = k % len(tokens)
        return await http.get(f"{url}/v1/jobs/{random.choice(job_ids[t])}/status", headers=auth[t])

    async def do_baseline(http: httpx.AsyncClient, k: int, i: int) -> httpx.Response:
        return await http.get(url + "/v1/service-info")

    # warm-up (connections, imports, caches), not measured
    await _run_clients(CLIENTS, do_baseline)
    baseline = _summary(*await _run_clients(POLLS, do_baseline))
    submit = _summary(*await _run_clients(SUBMISSIONS, do_submit))
    status = _summary(*await _run_clients(POLLS, do_status))
    return {
        "baseline_service_info": baseline,
        "submit": submit,
        "status": status,
        "status_p50_over_baseline": round(status["p50_ms"] / baseline["p50_ms"], 2),
        "status_p99_over_baseline": round(status["p99_ms"] / baseline["p99_ms"], 2),
    }


def bench(db_url: str | None, label: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"vfactory-bench-{label}-") as tmp:
        data = Path(tmp)
        url_db = db_url or f"sqlite:///{data / 'vfactory.db'}"
        store = Store(url_db)
        tokens = [store.create_token(f"tenant{i}") for i in range(TENANTS)]
        store.close()
        with server(url_db, data) as url:
            result = asyncio.run(measure(url, tokens))
    result["database"] = label
    return result


def main() -> None:
    started = time.time()
    rows = [bench(None, "sqlite")]
    with throwaway_cluster() as pg_url:
        rows.append(bench(pg_url, "postgresql"))
    out = {
        "benchmark": "api",
        "clients": CLIENTS,
        "submissions": SUBMISSIONS,
        "polls": POLLS,
        "tenants": TENANTS,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "elapsed_s": round(time.time() - started, 1),
        "results": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "api.json").write_text(json.dumps(out, indent=2))
    lines = [
        "# Job API throughput and latency",
        "",
        f"{CLIENTS} concurrent asyncio httpx clients on 127.0.0.1, one uvicorn process, no"
        f" workers. {SUBMISSIONS} multipart submissions (layout validated at submit), then"
        f" {POLLS} status polls; baseline = `GET /v1/service-info` (no DB, no auth) under the"
        f" same load. {os.cpu_count()} CPUs, load average {out['loadavg_at_start']:.1f} at start.",
        "",
        "| database | submissions/s | submit p50 ms | submit p99 ms | polls/s | status p50 ms |"
        " status p99 ms | baseline p50 ms | status/baseline p50 | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s, st, b = r["submit"], r["status"], r["baseline_service_info"]
        lines.append(
            f"| {r['database']} | {s['per_s']} | {s['p50_ms']} | {s['p99_ms']} | {st['per_s']} |"
            f" {st['p50_ms']} | {st['p99_ms']} | {b['p50_ms']} | {r['status_p50_over_baseline']}×"
            f" | {s['errors'] + st['errors']} |"
        )
    (RESULTS / "api.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
