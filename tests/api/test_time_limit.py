"""The wall-clock limit of a job: a job that would run forever is stopped by its worker (the same
stop as a cancel), ends EXECUTOR_ERROR naming the limit, keeps the files it wrote and its
progress, and the worker goes on with the next job. A tenant may lower the operator's limit,
never raise it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vfactory.api import kinds
from vfactory.api.commands import register
from vfactory.api.settings import DEFAULT_JOB_TIMEOUT_S, Settings

from .helpers import TINY_LAYOUT, Service, submit, wait_state

SERVICE_LIMIT_S = 30  # the server's VFACTORY_JOB_TIMEOUT_S
WORKER_LIMIT_S = 3  # the worker's --job-timeout, lower than the server's


def _gone(pid: int) -> bool:
    """The process has exited (absent, or a zombie nobody reaped yet)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return True
    return fields[0] in ("Z", "X")


def _job_pid(http, jid: str) -> int:
    events = http.get(f"/v1/jobs/{jid}").json()["events"]
    running = [e["message"] for e in events if e["state"] == "RUNNING"]
    return int(re.search(r"in pid (\d+)", running[0]).group(1))


@pytest.fixture
def limited_service(tmp_path):
    svc = Service(tmp_path, extra_env={"VFACTORY_JOB_TIMEOUT_S": str(SERVICE_LIMIT_S)})
    try:
        svc.start_server()
        svc.start_worker(1, "--job-timeout", str(WORKER_LIMIT_S))  # one worker: jobs in turn
        yield svc
    finally:
        svc.stop()


def test_endless_jobs_stop_at_their_limit_and_the_worker_goes_on(limited_service):
    svc = limited_service
    with svc.client(svc.token("acme")) as http:
        limits = http.get("/v1/service-info").json()["limits"]
        assert limits["job_timeout_s"] == SERVICE_LIMIT_S

        # a tenant cannot raise the limit, nor give a nonsensical one: 422 before anything runs
        for bad, fragment in (
            (60, "above this service's limit of 30 s"),
            (0, "positive number of seconds"),
            (-5, "positive number of seconds"),
            ("1h", "positive number of seconds"),
            (True, "positive number of seconds"),
        ):
            r = submit(http, kind="endless", options=json.dumps({"timeout_s": bad}))
            assert r.status_code == 422 and fragment in r.json()["error"], (bad, r.text)

        lowered = submit(http, kind="endless", options='{"timeout_s": 2}').json()["id"]
        # within the server's limit, but above the worker's: the worker's 3 s apply
        capped = submit(http, kind="endless", options='{"timeout_s": 20}').json()["id"]
        normal = submit(http, TINY_LAYOUT).json()["id"]

        for jid, limit in ((lowered, 2), (capped, WORKER_LIMIT_S)):
            st = wait_state(http, jid, timeout=60)
            info = http.get(f"/v1/jobs/{jid}").json()
            assert st["state"] == "EXECUTOR_ERROR", info
            assert info["error"].startswith(f"time limit of {limit} s exceeded"), info["error"]
            assert info["attempts"] == 1  # ended for good, not re-queued
            # the progress reached is kept (the kind reports step/10 %, a step per 0.1 s)
            assert st["percent"] > 0
            # the job's process was stopped, not left running behind the recorded state
            pid = _job_pid(http, jid)
            assert _gone(pid), f"pid {pid} of job {jid} still runs"
            # the partial results written so far are the job's artifacts
            names = {a["name"] for a in http.get(f"/v1/jobs/{jid}/artifacts").json()["artifacts"]}
            assert {"partial.csv", "log.txt"} <= names and "results.json" not in names
            rows = http.get(f"/v1/jobs/{jid}/artifacts/partial.csv").text.split()
            assert rows[0] == "step" and len(rows) >= 3
            assert [int(x) for x in rows[1:]] == list(range(len(rows) - 1))  # none lost or torn
            log = http.get(f"/v1/jobs/{jid}/artifacts/log.txt").text
            assert "stopped by the worker (SIGTERM)" in log  # unwound, not killed mid-write

        # the same single worker then runs the next job to completion
        st = wait_state(http, normal, timeout=60)
        assert st["state"] == "COMPLETE", http.get(f"/v1/jobs/{normal}").json()
        res = http.get(f"/v1/jobs/{normal}/results").json()
        assert res["kpis"]["throughput"]["mean"] == pytest.approx(0.5)  # 1 / (2 min per part)

        # the limit is documented in the OpenAPI document
        doc = http.get("/openapi.json").text
        assert "timeout_s" in doc and "job_timeout_s" in doc


def test_time_limit_of_a_job():
    assert kinds.time_limit_s({}, 100.0) == 100.0
    assert kinds.time_limit_s({"timeout_s": 5}, 100.0) == 5.0
    assert kinds.time_limit_s({"timeout_s": 500}, 100.0) == 100.0  # never above the operator's
    assert kinds.kind_options({"timeout_s": 5, "seed": 1}) == {"seed": 1}
    kinds.check_options("simulate", {"timeout_s": 5, "seed": 1}, max_timeout_s=10)
    with pytest.raises(ValueError, match="options.timeout_s: 11 s is above"):
        kinds.check_options("simulate", {"timeout_s": 11}, max_timeout_s=10)
    with pytest.raises(ValueError, match="found nan"):
        kinds.check_options("simulate", {"timeout_s": float("nan")})


def test_operator_limit_setting_and_help():
    assert Settings.from_env({}).job_timeout_s == DEFAULT_JOB_TIMEOUT_S == 6 * 3600
    assert Settings.from_env({"VFACTORY_JOB_TIMEOUT_S": "90"}).job_timeout_s == 90.0
    with pytest.raises(ValueError, match="VFACTORY_JOB_TIMEOUT_S"):
        Settings.from_env({"VFACTORY_JOB_TIMEOUT_S": "0"})
    app = typer.Typer()
    register(app)
    for command in ("worker", "serve"):
        out = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        assert "--job-timeout" in out and "time limit" in out, out
    out = CliRunner().invoke(app, ["submit", "--help"], env={"COLUMNS": "200"}).output
    assert "timeout_s" in out
