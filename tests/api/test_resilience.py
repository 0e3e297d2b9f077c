"""Failures of the service's own processes: a worker killed with SIGKILL mid-job, and a server
restart with jobs still queued. Nothing is lost and nothing is done twice."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from .helpers import SLOW_LAYOUT, TINY_LAYOUT, submit, wait_state


def _gone(pid: int) -> bool:
    """The process has exited (absent, or a zombie nobody reaped yet)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return True
    return fields[0] in ("Z", "X")


def test_worker_killed_mid_job_is_requeued_and_completed_once(fresh_service):
    svc = fresh_service
    svc.start_server()
    first = svc.start_worker()
    token = svc.token("acme")
    with svc.client(token) as http:
        jid = submit(http, SLOW_LAYOUT, name="slow.yaml").json()["id"]
        wait_state(http, jid, {"RUNNING"}, pred=lambda st: st["percent"] > 2)
        info = http.get(f"/v1/jobs/{jid}").json()
        running = [e["message"] for e in info["events"] if e["state"] == "RUNNING"]
        child_pid = int(re.search(r"in pid (\d+)", running[0]).group(1))
        # a second worker, started now that the first holds the job, stands by
        svc.start_worker()

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        # the kind's process dies with its worker instead of computing on as an orphan
        deadline = time.monotonic() + 10
        while not _gone(child_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(child_pid)

        # the lease (5 s) expires, the job goes back to the queue and the second worker runs it
        st = wait_state(http, jid, timeout=120)
        assert st["state"] == "COMPLETE"

        info = http.get(f"/v1/jobs/{jid}").json()
        assert info["attempts"] == 2
        events = info["events"]
        states = [e["state"] for e in events]
        assert states.count("COMPLETE") == 1 and states.count("QUEUED") == 2
        assert "lease of" in events[states.index("QUEUED", 1)]["message"]
        arts = [a["name"] for a in http.get(f"/v1/jobs/{jid}/artifacts").json()["artifacts"]]
        assert arts.count("results.json") == 1
        res = http.get(f"/v1/jobs/{jid}/results").json()
        assert res["replications"] == 40
        # the results shown are those of attempt 2; attempt 1 never wrote any
        attempts = svc.data_dir / "jobs" / jid / "attempts"
        assert (attempts / "2" / "results.json").is_file()
        assert not (attempts / "1" / "results.json").exists()


def test_server_restart_loses_no_queued_job(fresh_service):
    svc = fresh_service
    svc.start_server()
    token = svc.token("acme")
    with svc.client(token) as http:
        ids = [submit(http, TINY_LAYOUT, options=f'{{"seed": {i}}}').json()["id"] for i in range(3)]
        dropped = submit(http, TINY_LAYOUT, options='{"seed": 99}').json()["id"]
        r = http.post(f"/v1/jobs/{dropped}/cancel")  # a queued job is canceled at once
        assert r.status_code == 202 and r.json()["state"] == "CANCELED"
    svc.stop_server(signal.SIGKILL)  # a crash, not a clean shutdown
    svc.start_server()
    with svc.client(token) as http:
        listed = {j["id"]: j["state"] for j in http.get("/v1/jobs").json()["jobs"]}
        assert listed == {**{i: "QUEUED" for i in ids}, dropped: "CANCELED"}
        svc.start_worker()
        for i, jid in enumerate(ids):
            assert wait_state(http, jid)["state"] == "COMPLETE"
            res = http.get(f"/v1/jobs/{jid}/results").json()
            assert res["seeds"]["base"] == i
            assert res["kpis"]["throughput"]["mean"] == pytest.approx(0.5)
        info = http.get(f"/v1/jobs/{dropped}").json()
        assert info["state"] == "CANCELED" and info["attempts"] == 0  # never ran


def test_worker_sigterm_gives_the_job_back(fresh_service):
    """A worker stopped cleanly (deploy, scale-down) releases its job at once, without waiting
    for the lease to expire."""
    svc = fresh_service
    svc.start_server()
    w = svc.start_worker()
    token = svc.token("acme")
    with svc.client(token) as http:
        jid = submit(http, SLOW_LAYOUT, name="slow.yaml").json()["id"]
        wait_state(http, jid, {"RUNNING"}, pred=lambda st: st["percent"] > 2)
        w.send_signal(signal.SIGTERM)
        assert w.wait(15) == 0
        info = http.get(f"/v1/jobs/{jid}").json()
        assert info["state"] == "QUEUED"
        assert "released" in info["events"][-1]["message"]
        assert os.path.isdir(svc.data_dir / "jobs" / jid / "inputs")


def test_worker_cluster_spec_reaches_the_kind(fresh_service):
    """``vfactory worker --cluster local:2``: the simulate kind fans its replications out on a
    local pool of 2 processes; results are those of the sequential run (same seeds)."""
    svc = fresh_service
    svc.start_server()
    svc.start_worker(1, "--cluster", "local:2")
    token = svc.token("acme")
    with svc.client(token) as http:
        jid = submit(http, TINY_LAYOUT).json()["id"]
        assert wait_state(http, jid, timeout=120)["state"] == "COMPLETE"
        res = http.get(f"/v1/jobs/{jid}/results").json()
        assert res["replications"] == 3 and res["executor"] == "local:2"
        assert res["kpis"]["throughput"]["mean"] == pytest.approx(0.5)
        assert http.get(f"/v1/jobs/{jid}").json()["options"] == {}  # not the tenant's option
