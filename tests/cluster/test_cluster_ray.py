"""Ray backend on a real two-node cluster: a head and a worker node in two network
namespaces joined by a veth pair (Ray refuses a second node on loopback), the driver (this
test process) joined to the head's namespace. The namespaces, the veth pair and their
10.254.x.x addresses exist only for this module and are removed at its end; the machine's
own network is never touched. Needs root (``ip netns``), as the test machine has.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
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
from cluster.probe import getpid, initialized_tag, seeded_sum
from cluster.ray_backend import RayExecutor

RAY = str(Path(sys.executable).with_name("ray"))
CLONE_NEWNET = 0x40000000
TAG = f"vfcl{os.getpid()}"  # veth names stay under 15 characters
NS_HEAD, NS_NODE = f"{TAG}h", f"{TAG}n"
SUBNET = 10 + os.getpid() % 200
IP_HEAD, IP_NODE = f"10.254.{SUBNET}.1", f"10.254.{SUBNET}.2"
GCS_PORT = 6379  # free by construction: the namespace is new


def _ip(*args: str) -> None:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if proc.returncode != 0:
        pytest.fail(
            f"`ip {' '.join(args)}` failed ({proc.stderr.strip()}): this test builds a "
            "two-node Ray cluster in network namespaces and needs root (CAP_NET_ADMIN)"
        )


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns failed")


def _ns_pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, timeout=20)
    return [int(p) for p in out.stdout.split()]


def _remove_stale_namespaces() -> None:
    """Namespaces left by an earlier run of this module that was killed before cleaning up
    (their creator's pid, in the name, is gone)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=20)
    for line in out.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(r"vfcl(\d+)[hn]", name)
        if not m or Path(f"/proc/{m.group(1)}").exists():
            continue
        for pid in _ns_pids(name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=20)


def _ray_start(ns: str, *args: str, env: dict[str, str]) -> None:
    proc = subprocess.run(
        ["ip", "netns", "exec", ns, RAY, "start", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"ray start in {ns} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )


# A hung engine must fail the test, not stall the suite (set-up included).
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def ray_cluster(local_values):
    """Yields the GCS address of a 2-node Ray cluster; the driver thread is in NS_HEAD.

    Helper processes of this test process (multiprocessing's resource tracker, the local
    pool that computes ``local_values``) are started before entering the namespace, so
    that the clean-up, which kills every process in the namespaces, only meets Ray's.
    """
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    tmp = Path(tempfile.mkdtemp(prefix=f"{TAG}-ray-"))
    env = dict(
        os.environ,
        RAY_AUTH_MODE="disabled",
        RAY_USAGE_STATS_ENABLED="0",
        # The head starts one Ray client server per client connection and gives it 30 s by
        # default: too little on a busy 2-core CI machine.
        RAY_CLIENT_SERVER_CHECK_CHANNEL_TIMEOUT_S="120",
    )
    home_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    created: list[str] = []
    entered = False
    _remove_stale_namespaces()
    import ray

    if ray.is_initialized():  # a Ray left connected elsewhere in this session
        ray.shutdown()
    try:
        for ns in (NS_HEAD, NS_NODE):
            _ip("netns", "add", ns)
            created.append(ns)
        _ip("link", "add", f"{TAG}a", "type", "veth", "peer", "name", f"{TAG}b")
        _ip("link", "set", f"{TAG}a", "netns", NS_HEAD)
        _ip("link", "set", f"{TAG}b", "netns", NS_NODE)
        for ns, dev, addr in ((NS_HEAD, f"{TAG}a", IP_HEAD), (NS_NODE, f"{TAG}b", IP_NODE)):
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", dev, "up")
        common = ["--num-cpus=1", "--object-store-memory=100000000", "--disable-usage-stats"]
        _ray_start(
            NS_HEAD,
            "--head",
            f"--node-ip-address={IP_HEAD}",
            f"--port={GCS_PORT}",
            "--include-dashboard=false",
            "--ray-client-server-port=10001",
            f"--temp-dir={tmp / 'head'}",
            *common,
            env=env,
        )
        _ray_start(
            NS_NODE,
            f"--address={IP_HEAD}:{GCS_PORT}",
            f"--node-ip-address={IP_NODE}",
            f"--temp-dir={tmp / 'node'}",
            *common,
            env=env,
        )
        fd = os.open(f"/var/run/netns/{NS_HEAD}", os.O_RDONLY)
        try:
            _setns(fd)  # this thread (and the threads Ray starts from it) joins the head's net
        finally:
            os.close(fd)
        entered = True
        yield f"{IP_HEAD}:{GCS_PORT}"
    finally:
        with contextlib.suppress(Exception):
            import ray

            ray.shutdown()
        if entered:
            _setns(home_ns)
        os.close(home_ns)
        # Every process in these namespaces was started by this fixture: stop them by pid.
        for ns in created:
            for pid in _ns_pids(ns):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_ns_pids(ns) for ns in created) and time.monotonic() < deadline:
            time.sleep(0.2)
        for ns in created:
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True, timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def ex(ray_cluster):
    saved = os.environ.get("RAY_ADDRESS")
    os.environ["RAY_ADDRESS"] = ray_cluster  # what `ray:auto` reads, as on a cluster node
    try:
        executor = get_executor("ray:auto")
        deadline = time.monotonic() + 120
        while executor._ray.cluster_resources().get("CPU", 0) < 2:
            if time.monotonic() > deadline:
                pytest.fail(f"the second Ray node never joined: {executor._ray.nodes()}")
            time.sleep(0.5)
        yield executor
        executor.close()
    finally:
        if saved is None:
            os.environ.pop("RAY_ADDRESS", None)
        else:
            os.environ["RAY_ADDRESS"] = saved


def test_two_nodes_on_the_namespace_addresses(ex):
    assert isinstance(ex, RayExecutor)
    nodes = [n for n in ex._ray.nodes() if n["Alive"]]
    assert sorted(n["NodeManagerAddress"] for n in nodes) == sorted([IP_HEAD, IP_NODE])
    assert ex.n_workers == 2


def test_bitwise_identical_failure_isolated_self_killed_worker(ex, tmp_path, local_values):
    by_index = check_scenario(ex, tmp_path, "ray", local_values)
    assert by_index[9].attempts == 2  # Ray reported the crash; the driver resubmitted
    # Ray worker ids are node-ip:pid: tasks ran on both nodes of the cluster.
    assert {r.worker.rsplit(":", 1)[0] for r in by_index.values()} == {IP_HEAD, IP_NODE}


def test_line_replications_bitwise_identical_to_this_process(ex):
    """The machining line's replications on the cluster give exactly the numbers computed here."""
    from pathlib import Path

    from vfactory import layout, sim

    f = layout.load(Path(__file__).resolve().parents[2] / "examples/machining_assembly/line.yaml")
    here = sim.run(f, replications=4)
    there = sim.run(f, replications=4, executor=ex)
    assert there.per_replication == here.per_replication


def test_worker_process_killed_mid_map_every_result_once(ex):
    killed, _ = kill_mid_map(ex)
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)


def test_submit_and_run_all_on_ray(ex):
    assert (
        ex.submit(seeded_sum, {"seed": SEED, "index": 4}).result(timeout=120) == expected_sums(5)[4]
    )
    assert all(isinstance(p, int) for p in ex.run_all(getpid, range(4)))


def test_hanging_task_times_out_others_finish(ex):
    check_timeout(ex)


def test_ray_client_url(ex, local_values):
    # Reconnects through the Ray client (what a laptop uses): ray://HEAD:10001.
    ex._ray.shutdown()
    items = [{"seed": SEED, "index": i} for i in range(8)]
    items[3]["fail"] = "infeasible"
    with get_executor(f"ray://{IP_HEAD}:10001") as client_ex:
        results = client_ex.map_ordered(seeded_sum, items)
    assert [r.value for r in results if r.index != 3] == [
        v for i, v in enumerate(local_values[:8]) if i != 3
    ]
    assert results[3].error is not None and results[3].error.type == "ValueError"


def test_worker_initializer_runs_in_every_ray_worker(ex, ray_cluster):
    # It reconnects the driver with a setup hook in the job's env (after the client test:
    # a Ray client connection started after this one fails to start its server).
    ex._ray.shutdown()
    with RayExecutor(
        ray_cluster, initializer="cluster.probe:mark_initialized", initargs=("ray",)
    ) as ray_ex:
        tags = ray_ex.map_ordered(initialized_tag, range(8))
    for res in tags:
        assert res.value == f"ray:{res.worker.rsplit(':', 1)[1]}"

