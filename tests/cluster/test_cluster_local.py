"""The local spawn pool: semantics of Executor.map with real worker processes."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time
from collections import Counter

import pytest
from cluster_testkit import SEED, check_scenario, expected_sums, kill_mid_map

from cluster import TaskFailed
from cluster.base import THREAD_LIMIT_VARS
from cluster.local import LocalExecutor, WorkerInitError
from cluster.probe import getpid, initialized_tag, seeded_sum, thread_limits

# A hung engine must fail the test, not stall the suite (set-up included).
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def ex():
    with LocalExecutor(2, max_tasks_per_child=None) as executor:
        yield executor


def test_results_complete_correct_failure_isolated_and_killed_worker_retried(
    ex, tmp_path, local_values
):
    by_index = check_scenario(ex, tmp_path, "local", local_values)
    # The killed task ran twice: its first worker died, the driver resubmitted it.
    assert by_index[9].attempts == 2
    assert all(r.attempts == 1 for i, r in by_index.items() if i != 9)


def test_task_that_always_kills_its_worker_fails_after_the_retries(ex):
    items = [{"seed": SEED, "index": i} for i in range(4)]
    items[1]["kill_always"] = True
    by_index = {r.index: r for r in ex.map(seeded_sum, items, retries=2)}
    assert sorted(by_index) == [0, 1, 2, 3]
    lost = by_index[1]
    assert lost.error is not None and lost.error.kind == "worker-lost"
    assert lost.attempts == 3  # the first run and two retries
    reference = expected_sums(4)
    assert [by_index[i].value for i in (0, 2, 3)] == [reference[i] for i in (0, 2, 3)]


def test_worker_killed_from_outside_mid_map(ex):
    killed, _ = kill_mid_map(ex)
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)
    assert killed not in ex.worker_pids()
    assert len(ex.worker_pids()) == 2  # the pool replaced the dead worker


def test_timeout_reports_error_and_recycles_the_worker(ex):
    before = set(ex.worker_pids())
    items = [{"seed": SEED, "index": i} for i in range(6)]
    items[2]["sleep_s"] = 60
    results = {r.index: r for r in ex.map(seeded_sum, items, timeout=1.5)}
    assert sorted(results) == list(range(6))
    assert results[2].error is not None and results[2].error.kind == "timeout"
    reference = expected_sums(6)
    assert all(results[i].value == reference[i] for i in range(6) if i != 2)
    after = set(ex.worker_pids())
    assert len(after) == 2 and after != before  # the stuck worker was killed and replaced
    assert [p for p in before - after if _alive(p)] == []


def test_workers_recycled_after_max_tasks():
    with LocalExecutor(2, max_tasks_per_child=2) as ex:
        pids = ex.run_all(getpid, range(12))
    counts = Counter(pids)
    assert max(counts.values()) <= 2
    assert len(counts) >= 6  # 12 tasks, at most 2 per process


def test_workers_get_single_thread_blas_and_run_initializer_once():
    parent_omp = os.environ.get("OMP_NUM_THREADS")
    with LocalExecutor(2, initializer="cluster.probe:mark_initialized", initargs=("warm",)) as ex:
        limits = ex.run_all(thread_limits, range(4))
        tags = ex.map_ordered(initialized_tag, range(4))
    assert all(lim == dict.fromkeys(THREAD_LIMIT_VARS, "1") for lim in limits)
    for res in tags:
        # The tag names the very process that ran the task: set by the initializer there.
        assert res.value == f"warm:{res.worker.rsplit(':', 1)[1]}"
    assert os.environ.get("OMP_NUM_THREADS") == parent_omp  # the driver's env is untouched


def test_failing_initializer_is_a_clear_error():
    with (
        LocalExecutor(1, initializer="cluster.probe:no_such_function") as ex,
        pytest.raises(WorkerInitError, match="no_such_function"),
    ):
        ex.run_all(getpid, range(2))


def test_submit_future_value_and_remote_traceback(ex):
    ok = ex.submit(seeded_sum, {"seed": SEED, "index": 3})
    bad = ex.submit(seeded_sum, {"seed": SEED, "index": 3, "fail": "no such recipe"})
    assert ok.result(timeout=60) == expected_sums(4)[3]
    with pytest.raises(TaskFailed, match="no such recipe") as info:
        bad.result(timeout=60)
    assert "Traceback" in str(info.value) and "seeded_sum" in str(info.value)


def test_cancel_stops_the_map(ex):
    items = [{"seed": SEED, "index": i, "sleep_s": 0.3} for i in range(20)]
    it = ex.map(seeded_sum, items)
    first = next(it)
    assert first.ok
    ex.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        list(it)
    # The executor stays usable after a cancel.
    assert ex.run_all(seeded_sum, [{"seed": SEED, "index": 0}]) == expected_sums(1)


def test_run_all_raises_for_a_failed_task_and_map_ordered_keeps_order(ex):
    items = [{"seed": SEED, "index": i} for i in range(5)]
    ordered = ex.map_ordered(seeded_sum, items, progress="ordered")
    assert [r.index for r in ordered] == list(range(5))
    items[4]["fail"] = "bad"
    with pytest.raises(TaskFailed, match="task 4 failed"):
        ex.run_all(seeded_sum, items)


def test_lambda_rejected_with_a_clear_message(ex):
    with pytest.raises(TypeError, match="importable top-level function"):
        ex.map(lambda x: x, [1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_idle_worker_killed_is_replaced_and_reaped(ex):
    pid = ex.worker_pids()[0]
    os.kill(pid, signal.SIGKILL)
    pids = ex.run_all(getpid, range(8))  # the pool notices, replaces and runs
    assert pid not in pids
    # The dispatcher reaps the dead process (no zombie left behind) and replaces it.
    deadline = time.monotonic() + 30
    while (pid in ex.worker_pids() or _alive(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
    assert pid not in ex.worker_pids() and len(ex.worker_pids()) == 2
