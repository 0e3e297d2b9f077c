"""Probe tasks and a smoke check for a cluster: ``python -m cluster.probe ray:auto``.

The check runs seeded numpy tasks on the chosen backend, recomputes them in this process,
and compares the floats bit for bit; it prints which workers answered. The same task
functions serve the test suite and the benchmark (they must be importable on workers,
hence they live in the package).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from typing import Any


def seeded_sum(item: dict[str, Any]) -> float:
    """Sum of ``n`` standard normals from stream ``SeedSequence(seed, spawn_key=(index,))``.

    ``item`` may also ask the task to sleep (``sleep_s``), to raise (``fail``: message), to
    SIGKILL its own worker process on the first attempt (``kill_once``: marker path, created
    atomically so that only one attempt dies) or on every attempt (``kill_always``).
    """
    if item.get("kill_always"):  # e.g. a solver that segfaults for this parameter
        os.kill(os.getpid(), signal.SIGKILL)
    kill_once = item.get("kill_once")
    if kill_once:
        try:
            fd = os.open(kill_once, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass  # an earlier attempt already died: this one runs normally
        else:
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)
    if item.get("sleep_s"):
        time.sleep(float(item["sleep_s"]))
    if item.get("fail"):
        raise ValueError(str(item["fail"]))
    import numpy as np

    seq = np.random.SeedSequence(int(item["seed"]), spawn_key=(int(item["index"]),))
    return float(np.random.default_rng(seq).standard_normal(int(item.get("n", 1000))).sum())


def echo(item: Any) -> Any:
    """Return the item: measures pure scheduling overhead."""
    return item


def getpid(_: Any = None) -> int:
    """PID of the worker process that ran the task."""
    return os.getpid()


def thread_limits(_: Any = None) -> dict[str, str | None]:
    """The BLAS/OpenMP thread caps seen by the worker process."""
    from cluster.base import THREAD_LIMIT_VARS

    return {var: os.environ.get(var) for var in THREAD_LIMIT_VARS}


def mark_initialized(tag: str = "ready") -> None:
    """Worker initializer: leaves ``tag`` and this pid in the worker's environment."""
    os.environ["VFACTORY_PROBE_INIT"] = f"{tag}:{os.getpid()}"


def initialized_tag(_: Any = None) -> str | None:
    """What :func:`mark_initialized` left in this worker (None: it never ran here)."""
    return os.environ.get("VFACTORY_PROBE_INIT")


def spin(item: dict[str, Any]) -> int:
    """Pure-Python CPU work (holds the GIL like a SimPy run): ``loops`` LCG steps."""
    x = int(item.get("seed", 1))
    for _ in range(int(item["loops"])):
        x = (1103515245 * x + 12345) & 0x7FFFFFFF
    return x


def spin_timed(item: dict[str, Any]) -> dict[str, float]:
    """:func:`spin` plus the CPU and wall seconds it took in the worker: their ratio is the
    share of a core the worker really got (below 1 when other processes compete)."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    x = spin(item)
    return {"x": x, "cpu_s": time.process_time() - cpu0, "wall_s": time.perf_counter() - wall0}


def check(spec: str | None = None, n_tasks: int = 16, seed: int = 2026) -> int:
    """Run the smoke check on ``spec``; return a process exit code (0: identical results)."""
    from cluster import get_executor

    items = [{"seed": seed, "index": i} for i in range(n_tasks)]
    expected = [seeded_sum(it) for it in items]
    with get_executor(spec) as ex:
        print(f"backend {ex!r}, {ex.n_workers} task slots")
        results = ex.map_ordered(seeded_sum, items, progress="probe tasks")
    bad = [r.index for r in results if not r.ok or r.value != expected[r.index]]
    workers = Counter(r.worker for r in results)
    for worker, count in sorted(workers.items(), key=str):
        print(f"  {worker}: {count} tasks")
    if bad:
        print(f"MISMATCH or failure for tasks {bad}", file=sys.stderr)
        return 1
    print(f"OK: {n_tasks} results bitwise identical to this process")
    return 0


if __name__ == "__main__":
    raise SystemExit(check(sys.argv[1] if len(sys.argv) > 1 else None))
