"""The wall-clock limit of a job: a job that would run forever is stopped by its worker (the same
stop as a cancel), ends EXECUTOR_ERROR naming the limit, keeps the files it wrote and its
progress, and the worker goes on with the next job. A tenant may lower the operator's limit,
never raise it."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vfactory.api import kinds
from vfactory.api.commands import register
from vfactory.api.settings import DEFAULT_JOB_TIMEOUT_S, Settings
from vfactory.api.store import Store

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

        # a tenant cannot raise the limit, nor give a nonsensical one: 422 before anything runs,
        # the value shown as the tenant wrote it (JSON), never a server error
        for bad, fragment in (
            (60, "above this service's limit of 30 s"),
            (10**400, "(401 digits) s is above this service's limit of 30 s"),
            (0, "positive number of seconds (at least 0.001), found 0"),
            (0.0001, "at least 0.001), found 0.0001"),
            (-5, "positive number of seconds"),
            ("1h", 'found "1h"'),
            (True, "found true"),
            (None, "found null"),
            (float("nan"), "found NaN"),
        ):
            r = submit(http, kind="endless", options=json.dumps({"timeout_s": bad}))
            assert r.status_code == 422 and fragment in r.json()["error"], (bad, r.text)
        # JSON's 1e400 is infinite; an integer longer than Python reads is refused, not a 500
        for raw, fragment in (
            ('{"timeout_s": 1e400}', "found Infinity"),
            ('{"timeout_s": 1' + "0" * 5000 + "}", "more than 4300 digits"),
        ):
            r = submit(http, kind="endless", options=raw)
            assert r.status_code == 422 and fragment in r.json()["error"], r.text[:300]

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
    assert kinds.time_limit_s({"timeout_s": 10**400}, 100.0) == 100.0  # no float overflow
    kinds.check_options("simulate", {"timeout_s": 0.001})  # the smallest, as for --job-timeout
    for bad, shown in (
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (0.0001, "0.0001"),
        (None, "null"),
        (False, "false"),
        ([1], "[1]"),
    ):
        with pytest.raises(ValueError, match=re.escape(f"at least 0.001), found {shown}")):
            kinds.check_options("simulate", {"timeout_s": bad})
    with pytest.raises(ValueError, match=r"found true$"):
        kinds.check_options("simulate", {"replications": True})


def test_operator_limit_setting_and_help():
    assert Settings.from_env({}).job_timeout_s == DEFAULT_JOB_TIMEOUT_S == 6 * 3600
    assert Settings.from_env({"VFACTORY_JOB_TIMEOUT_S": "90"}).job_timeout_s == 90.0
    assert Settings.from_env({"VFACTORY_JOB_TIMEOUT_S": "0.001"}).job_timeout_s == 0.001
    for raw in ("0", "0.0001", "inf", "1e400", "nan"):
        with pytest.raises(ValueError, match="VFACTORY_JOB_TIMEOUT_S.*finite number of seconds"):
            Settings.from_env({"VFACTORY_JOB_TIMEOUT_S": raw})
    app = typer.Typer()
    register(app)
    for command in ("worker", "serve"):  # refused before anything starts: a usage error
        res = CliRunner().invoke(app, [command], env={"VFACTORY_JOB_TIMEOUT_S": "inf"})
        assert res.exit_code == 2, res.output
        assert "finite number of seconds >= 0.001, found inf" in res.output, res.output
    for command in ("worker", "serve"):
        out = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        assert "--job-timeout" in out and "time limit" in out, out
    out = CliRunner().invoke(app, ["submit", "--help"], env={"COLUMNS": "200"}).output
    assert "timeout_s" in out


def test_readme_order_worker_first_without_a_limit_keeps_the_advertised_one(tmp_path):
    """As README starts them, with the worker first: `vfactory worker` (no --job-timeout) on a
    data folder that does not exist yet creates it; then `vfactory serve --job-timeout 2`. The
    server records its limit in each job, so the worker keeps what service-info advertises."""
    svc = Service(tmp_path / "svc")
    svc.store.close()
    later = tmp_path / "not" / "yet" / "data"  # nothing of it exists when the worker starts
    svc.data_dir, svc.db_url = later, f"sqlite:///{later / 'vfactory.db'}"
    svc.env.update(VFACTORY_DATA_DIR=str(later), VFACTORY_DB_URL=svc.db_url)
    svc.env.pop("VFACTORY_JOB_TIMEOUT_S", None)  # the worker's own limit: the 6 h default
    try:
        worker = svc.start_worker(1)
        deadline = time.monotonic() + 30
        while "polling" not in svc.log("worker0.log"):
            assert worker.poll() is None, svc.log("worker0.log")
            assert time.monotonic() < deadline, svc.log("worker0.log")
            time.sleep(0.1)
        assert (later / "jobs").is_dir()
        svc.store = Store(svc.db_url)
        svc.env["VFACTORY_JOB_TIMEOUT_S"] = "2"
        svc.start_server()
        with svc.client(svc.token("acme")) as http:
            assert http.get("/v1/service-info").json()["limits"]["job_timeout_s"] == 2
            job = submit(http, kind="endless").json()
            assert job["time_limit_s"] == 2 and job["options"] == {}  # options stay as sent
            st = wait_state(http, job["id"], timeout=60)
            info = http.get(f"/v1/jobs/{job['id']}").json()
            assert st["state"] == "EXECUTOR_ERROR", info
            assert info["error"].startswith("time limit of 2 s exceeded"), info
            # a tenant's lower timeout_s is recorded as the job's limit
            assert submit(http, TINY_LAYOUT, options='{"timeout_s": 1.5}').json()[
                "time_limit_s"
            ] == 1.5
            doc = http.get("/openapi.json").text
            assert "may enforce a lower limit of its own" in doc
    finally:
        svc.stop()


def test_a_database_of_an_older_version_gains_the_time_limit_column(tmp_path):
    from sqlalchemy import create_engine, inspect

    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:  # the jobs table as the version before time limits made it
        conn.exec_driver_sql("ALTER TABLE jobs DROP COLUMN time_limit_s")
    assert "time_limit_s" not in {c["name"] for c in inspect(engine).get_columns("jobs")}
    engine.dispose()
    store = Store(url)
    try:
        tenant = store.authenticate(store.create_token("acme")).tenant_id
        job, _ = store.create_job(
            job_id="j1", tenant_id=tenant, kind="simulate", options={}, layout_name="l.yaml",
            attachments=[], request_hash="h", time_limit_s=7.5,
        )
        assert store.get_job(tenant, "j1").time_limit_s == 7.5
    finally:
        store.close()
