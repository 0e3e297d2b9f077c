"""Shared checks for the backend tests: the same scenario runs on every engine."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from cluster import Executor, TaskResult
from cluster.probe import seeded_sum

SEED = 20261203
N_TASKS = 24
FAIL_AT = 5  # the "infeasible parameter"
KILL_AT = 9  # this task SIGKILLs its own worker on its first attempt


def expected_sums(n: int = N_TASKS) -> list[float]:
    """Reference values computed in the test process itself (no executor involved)."""
    return [seeded_sum({"seed": SEED, "index": i}) for i in range(n)]


def scenario_items(tmp_path: Path, tag: str, sleep_s: float = 0.02) -> list[dict]:
    items = [{"seed": SEED, "index": i, "sleep_s": sleep_s} for i in range(N_TASKS)]
    items[FAIL_AT]["fail"] = "infeasible parameter: furnace temperature 2000 C"
    items[KILL_AT]["kill_once"] = str(tmp_path / f"killed-{tag}")
    return items


def assert_exactly_once(results: list[TaskResult], n: int) -> dict[int, TaskResult]:
    indices = sorted(r.index for r in results)
    assert indices == list(range(n)), f"each index exactly once, got {indices}"
    return {r.index: r for r in results}


def check_scenario(ex: Executor, tmp_path: Path, tag: str, local_values: list[float]) -> dict:
    """Run the shared scenario; assert the semantics every backend must honour."""
    marker = tmp_path / f"killed-{tag}"
    results = list(ex.map(seeded_sum, scenario_items(tmp_path, tag), retries=2))
    by_index = assert_exactly_once(results, N_TASKS)
    assert marker.exists(), "the kill task never ran: the worker-death path was not exercised"
    reference = expected_sums()
    for i, res in by_index.items():
        if i == FAIL_AT:
            continue
        assert res.ok, f"task {i} failed: {res.error}"
        # Bitwise: == on floats, against this process and the local backend.
        assert res.value == reference[i] == local_values[i]
    failed = by_index[FAIL_AT]
    assert failed.error is not None and failed.error.kind == "exception"
    assert failed.error.type == "ValueError"
    assert "infeasible parameter" in failed.error.message
    assert "seeded_sum" in failed.error.traceback  # the remote traceback text came back
    assert failed.attempts == 1  # user errors are never retried
    return by_index


def kill_mid_map(ex: Executor, n: int = 12, sleep_s: float = 0.4) -> tuple[int, dict]:
    """SIGKILL, from the test, the worker that delivered the first result, mid-map."""
    items = [{"seed": SEED, "index": i, "sleep_s": sleep_s} for i in range(n)]
    results = []
    killed = None
    for res in ex.map(seeded_sum, items, retries=3):
        results.append(res)
        if killed is None:
            killed = int(str(res.worker).rsplit(":", 1)[1])
            os.kill(killed, signal.SIGKILL)
    by_index = assert_exactly_once(results, n)
    reference = expected_sums(n)
    for i, res in by_index.items():
        assert res.ok, f"task {i} failed: {res.error}"
        assert res.value == reference[i]
    assert killed is not None
    return killed, by_index


def check_timeout(ex: Executor, timeout: float = 3.0) -> dict[int, TaskResult]:
    """One task hangs: it comes back as a timeout error, the others with their values."""
    items = [{"seed": SEED, "index": i} for i in range(6)]
    items[2]["sleep_s"] = 120
    by_index = assert_exactly_once(list(ex.map(seeded_sum, items, timeout=timeout)), 6)
    assert by_index[2].error is not None and by_index[2].error.kind == "timeout"
    reference = expected_sums(6)
    for i in (0, 1, 3, 4, 5):
        assert by_index[i].ok and by_index[i].value == reference[i]
    # The engine is usable afterwards (the stuck worker was stopped or replaced).
    assert ex.run_all(seeded_sum, items[:2]) == reference[:2]
    return by_index
