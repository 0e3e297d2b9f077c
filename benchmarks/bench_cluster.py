"""Executor benchmark: per-task overhead and 1 -> 2 worker speed-up of each backend.

    python benchmarks/bench_cluster.py [--tasks 32] [--task-s 0.5] [--tiny 300]

1. Overhead: ``--tiny`` no-op tasks (``cluster.probe.echo``) through each backend, in ms per
   task, against a plain Python loop calling the same function in this process.
2. Scaling: ``--tasks`` CPU-bound tasks of about ``--task-s`` seconds each (pure-Python work
   holding the GIL, like a SimPy replication; ``cluster.probe.spin``) on 1 and on 2 workers
   of each backend; speed-up = time(1 worker) / time(2 workers), goal >= 1.8 on 2 cores.

Engines are started before timing and warmed (every worker has run a task); each figure is
the best of ``--repeats`` runs. The machine's
load average is recorded: other processes on a shared machine lower the speed-up.
Writes benchmarks/results/cluster.json and cluster.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cluster import get_executor  # noqa: E402
from cluster.probe import echo, spin, spin_timed  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
BACKENDS = ("local", "ray", "dask")


def calibrate(task_s: float) -> int:
    """Loop count of ``spin`` that takes about ``task_s`` seconds here."""
    loops = 200_000
    while True:
        t0 = time.perf_counter()
        spin({"loops": loops})
        dt = time.perf_counter() - t0
        if dt > 0.1:
            return int(loops * task_s / dt)
        loops *= 2


def timed_map(ex: Any, fn: Any, items: list[Any]) -> float:
    return timed_results(ex, fn, items)[0]


def timed_results(ex: Any, fn: Any, items: list[Any]) -> tuple[float, list[Any]]:
    t0 = time.perf_counter()
    results = ex.map_ordered(fn, items)
    dt = time.perf_counter() - t0
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"benchmark task failed: {failed[0].error}")
    return dt, [r.value for r in results]


def cpu_run(ex: Any, items: list[dict]) -> tuple[float, float]:
    """Wall seconds of the CPU-bound set, and the share of a core its tasks really got."""
    dt, values = timed_results(ex, spin_timed, items)
    share = sum(v["cpu_s"] for v in values) / sum(v["wall_s"] for v in values)
    return dt, share


def warm(ex: Any, n_workers: int) -> None:
    # Every worker process started and has imported the task module.
    ex.run_all(spin, [{"loops": 200_000, "seed": i} for i in range(4 * n_workers)])


def bench_backend(
    name: str, n_workers: int, tiny: int, cpu_items: list[dict], repeats: int
) -> dict:
    t0 = time.perf_counter()
    with get_executor(name, n_workers=n_workers) as ex:
        warm(ex, n_workers)
        start_s = time.perf_counter() - t0
        out: dict[str, Any] = {"backend": name, "workers": n_workers, "startup_s": start_s}
        # Best of `repeats`: on a shared machine the minimum is the least disturbed run.
        if tiny:
            dt = min(timed_map(ex, echo, list(range(tiny))) for _ in range(repeats))
            out["tiny_ms_per_task"] = 1e3 * dt / tiny
        runs = [cpu_run(ex, cpu_items) for _ in range(repeats)]
        out["cpu_s_runs"] = [dt for dt, _ in runs]
        out["cpu_s"], out["core_share"] = min(runs)
    return out


def bench_line(backends: list[str], path: str, n: int) -> list[dict]:
    """``n`` replications of a real line (physics resolved once, here) on 1 and 2 workers."""
    from vfactory import layout
    from vfactory.layout import to_dict
    from vfactory.physics import resolve
    from vfactory.sim.runner import replication_task

    factory = resolve(layout.load(path)).factory
    items = [{"layout": to_dict(factory), "replication": r, "seed": factory.factory.seed} for r in range(n)]
    t0 = time.perf_counter()
    for item in items[:4]:
        replication_task(item)
    plain_s = (time.perf_counter() - t0) * n / 4
    out = []
    for name in backends:
        times = {}
        for workers in (1, 2):
            with get_executor(name, n_workers=workers) as ex:
                ex.run_all(replication_task, items[: 2 * workers])  # start and warm every worker
                t0 = time.perf_counter()
                ex.run_all(replication_task, items)
                times[workers] = time.perf_counter() - t0
        row = {"backend": name, "replications": n, "plain_loop_s": plain_s, "s_1_worker": times[1],
               "s_2_workers": times[2], "speedup_2_vs_1": times[1] / times[2]}
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--task-s", type=float, default=0.5)
    parser.add_argument("--tiny", type=int, default=300)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--repeats", type=int, default=2, help="timed runs; the best counts")
    parser.add_argument("--line", default="examples/heat_treatment/line.yaml", help="layout for replications")
    parser.add_argument("--replications", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # local benchmark: no token set-up

    load_before = os.getloadavg()
    loops = calibrate(args.task_s)
    cpu_items = [{"loops": loops, "seed": i} for i in range(args.tasks)]

    t0 = time.perf_counter()
    for i in range(args.tiny):
        echo(i)
    plain_tiny_ms = 1e3 * (time.perf_counter() - t0) / args.tiny
    plain_runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for item in cpu_items:
            spin(item)
        plain_runs.append(time.perf_counter() - t0)
    plain_cpu_s = min(plain_runs)

    rows = []
    for name in args.backends.split(","):
        one = bench_backend(name, 1, 0, cpu_items, args.repeats)
        two = bench_backend(name, 2, args.tiny, cpu_items, args.repeats)
        rows.append(
            {
                "backend": name,
                "tiny_ms_per_task_2_workers": two["tiny_ms_per_task"],
                "overhead_ms_per_task": two["tiny_ms_per_task"] - plain_tiny_ms,
                "cpu_s_1_worker": one["cpu_s"],
                "cpu_s_2_workers": two["cpu_s"],
                "core_share_1_worker": one["core_share"],
                "core_share_2_workers": two["core_share"],
                "cpu_s_runs_1_worker": one["cpu_s_runs"],
                "cpu_s_runs_2_workers": two["cpu_s_runs"],
                "speedup_2_vs_1": one["cpu_s"] / two["cpu_s"],
                "efficiency_1_worker_vs_plain_loop": plain_cpu_s / one["cpu_s"],
                "startup_s_2_workers": two["startup_s"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    line_rows = bench_line(args.backends.split(","), args.line, args.replications)

    report = {
        "benchmark": "cluster executors",
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "repeats": args.repeats,
        "tasks": {
            "cpu_tasks": args.tasks,
            "target_task_s": args.task_s,
            "spin_loops": loops,
            "tiny_tasks": args.tiny,
        },
        "plain_loop": {"tiny_ms_per_task": plain_tiny_ms, "cpu_s": plain_cpu_s},
        "backends": rows,
        "line_replications": line_rows,
        "goal": {"speedup_2_vs_1": 1.8},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cluster.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "cluster.md").write_text(markdown(report))
    print((RESULTS / "cluster.md").read_text())


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = [
        "# Cluster executors: overhead and scaling",
        "",
        f"{r['date_utc']}, {m['cpus']} CPUs, Python {m['python']}, load average "
        f"{m['loadavg_before'][0]:.2f} before / {m['loadavg_after'][0]:.2f} after "
        "(shared machine: other work lowers the speed-up).",
        "",
        f"Tiny tasks: {r['tasks']['tiny_tasks']} no-op calls; plain loop "
        f"{r['plain_loop']['tiny_ms_per_task'] * 1e3:.2f} µs per call.",
        f"CPU tasks: {r['tasks']['cpu_tasks']} pure-Python tasks of ~{r['tasks']['target_task_s']}"
        f" s; plain loop {r['plain_loop']['cpu_s']:.2f} s.",
        "",
        "| backend | ms/task (tiny, 2 workers) | 1 worker (s) | 2 workers (s) | speed-up "
        "| 1 worker vs plain loop | core share 1 / 2 workers | start-up (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for b in r["backends"]:
        lines.append(
            f"| {b['backend']} | {b['tiny_ms_per_task_2_workers']:.2f} | {b['cpu_s_1_worker']:.2f} "
            f"| {b['cpu_s_2_workers']:.2f} | {b['speedup_2_vs_1']:.2f}× "
            f"| {b['efficiency_1_worker_vs_plain_loop']:.2f} "
            f"| {b['core_share_1_worker']:.2f} / {b['core_share_2_workers']:.2f} "
            f"| {b['startup_s_2_workers']:.1f} |"
        )
    if r.get("line_replications"):
        lines += [
            "",
            "Replications of the heat-treatment line (physics resolved once; one replication a task):",
            "",
            "| backend | replications | plain loop (s) | 1 worker (s) | 2 workers (s) | speed-up |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for b in r["line_replications"]:
            lines.append(
                f"| {b['backend']} | {b['replications']} | {b['plain_loop_s']:.2f} | {b['s_1_worker']:.2f} "
                f"| {b['s_2_workers']:.2f} | {b['speedup_2_vs_1']:.2f}× |"
            )
    lines += [
        "",
        "Core share: CPU seconds over wall seconds of the tasks inside the workers, i.e. the",
        "fraction of a core each worker really got. Below 1, other processes on the machine",
        "took the rest; the speed-up cannot exceed 2 × (share with 2) / (share with 1).",
        "",
        f"Goal: speed-up ≥ {r['goal']['speedup_2_vs_1']}× on 2 cores.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
