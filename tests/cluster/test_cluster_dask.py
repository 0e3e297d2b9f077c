"""Dask backend on a real scheduler and two worker processes on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cluster_testkit import (
    SEED,
    check_scenario,
    check_timeout,
    expected_sums,
    kill_mid_map,
)

from cluster import get_executor
from cluster.dask_backend import DaskExecutor
from cluster.probe import initialized_tag, seeded_sum

DASK = str(Path(sys.executable).with_name("dask"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop a process group this fixture started (the worker's nanny has a child)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # a nanny's orphaned worker, if any


# A hung engine must fail the test, not stall the suite (set-up included).
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def dask_address(tmp_path_factory):
    """``dask scheduler`` + two ``dask worker --nthreads 1``, as a user starts them."""
    logs = tmp_path_factory.mktemp("dask-logs")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        procs.append(
            subprocess.Popen(
                [DASK, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )

    try:
        start(
            "scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"
        )
        for k in range(2):
            start(
                f"worker{k}",
                "worker",
                address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--no-dashboard",
            )
        from distributed import Client

        deadline = time.monotonic() + 90
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=max(1, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    text = "\n".join(f.read_text()[-2000:] for f in logs.iterdir())
                    pytest.fail(f"Dask cluster did not start:\n{text}")
                time.sleep(0.5)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


@pytest.fixture(scope="module")
def ex(dask_address):
    with get_executor(dask_address) as executor:
        yield executor


def test_spec_selects_dask_with_two_single_thread_workers(ex):
    assert isinstance(ex, DaskExecutor)
    assert ex.n_workers == 2


def test_bitwise_identical_failure_isolated_self_killed_worker(ex, tmp_path, local_values):
    by_index = check_scenario(ex, tmp_path, "dask", local_values)
    workers = {r.worker for r in by_index.values()}
    assert len(workers) >= 2  # both workers really ran tasks


def test_worker_process_killed_mid_map_every_result_once(ex):
    killed, _ = kill_mid_map(ex)
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)


def test_submit_on_dask(ex):
    fut = ex.submit(seeded_sum, {"seed": SEED, "index": 7})
    assert fut.result(timeout=120) == expected_sums(8)[7]


def test_hanging_task_times_out_others_finish(ex):
    check_timeout(ex)


def test_dask_local_cluster_on_demand(local_values):
    with get_executor("dask:local", n_workers=2) as ex:
        assert ex.n_workers == 2
        values = ex.run_all(seeded_sum, [{"seed": SEED, "index": i} for i in range(8)])
    assert values == local_values[:8]


def test_worker_initializer_runs_in_every_dask_worker(dask_address):
    with DaskExecutor(
        dask_address, initializer="cluster.probe:mark_initialized", initargs=("dask",)
    ) as ex:
        tags = ex.map_ordered(initialized_tag, range(8))
    for res in tags:
        assert res.value == f"dask:{res.worker.rsplit(':', 1)[1]}"


def test_line_replications_bitwise_identical_to_this_process(ex):
    """The machining line's replications on the cluster give exactly the numbers computed here."""
    from pathlib import Path

    from vfactory import layout, sim

    f = layout.load(Path(__file__).resolve().parents[2] / "examples/machining_assembly/line.yaml")
    here = sim.run(f, replications=4)
    there = sim.run(f, replications=4, executor=ex)
    assert there.per_replication == here.per_replication
