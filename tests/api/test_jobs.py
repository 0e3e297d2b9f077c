"""End to end on SQLite: a real uvicorn server and real worker processes on 127.0.0.1 run the real
``simulate`` kind; results are checked against queueing theory (a saturated station with a
constant process time p delivers exactly 1/p parts per time unit)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest

from vfactory.client import Client, ClientError

from .helpers import SLOW_LAYOUT, TIMES_CSV, TINY_LAYOUT, csv_layout, submit, wait_state


@pytest.fixture(scope="module")
def acme(sqlite_service):
    return sqlite_service.token("acme")


def test_submit_complete_download(sqlite_service, acme, tmp_path):
    with sqlite_service.client(acme) as http:
        r = submit(http)
        assert r.status_code == 201, r.text
        job = r.json()
        assert job["state"] == "QUEUED" and job["layout"] == "line.yaml"
        assert r.headers["location"] == f"/v1/jobs/{job['id']}"
        st = wait_state(http, job["id"])
        assert st["state"] == "COMPLETE" and st["percent"] == 100

        res = http.get(f"/v1/jobs/{job['id']}/results").json()
        assert res["kpis"]["throughput"]["mean"] == pytest.approx(0.5, rel=1e-9)
        assert res["replications"] == 3 and res["executor"] == "in-process"

        arts = http.get(f"/v1/jobs/{job['id']}/artifacts").json()["artifacts"]
        names = {a["name"] for a in arts}
        assert "results.json" in names
        body = http.get(f"/v1/jobs/{job['id']}/artifacts/results.json")
        assert body.status_code == 200 and json.loads(body.content) == res

        info = http.get(f"/v1/jobs/{job['id']}").json()
        assert info["attempts"] == 1
        states = [e["state"] for e in info["events"]]
        assert states == ["QUEUED", "INITIALIZING", "RUNNING", "COMPLETE"]


def test_attachment_csv_and_zip(sqlite_service, acme):
    """The layout reads its process times from an uploaded CSV (plain, then inside a zip with a
    folder): all 4 min, so the saturated station delivers 1/4 part per minute."""
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data/times.csv", TIMES_CSV)
    with sqlite_service.client(acme) as http:
        plain = submit(
            http, csv_layout("times.csv"), attachments=[("times.csv", TIMES_CSV.encode())]
        )
        zipped = submit(
            http, csv_layout("data/times.csv"), attachments=[("measurements.zip", zbuf.getvalue())]
        )
        assert plain.status_code == 201, plain.text
        assert zipped.status_code == 201, zipped.text
        assert zipped.json()["attachments"] == ["data/times.csv"]
        for r in (plain, zipped):
            jid = r.json()["id"]
            assert wait_state(http, jid)["state"] == "COMPLETE", http.get(f"/v1/jobs/{jid}").text
            res = http.get(f"/v1/jobs/{jid}/results").json()
            assert res["kpis"]["throughput"]["mean"] == pytest.approx(0.25, rel=1e-9)


def test_python_client(sqlite_service, acme, tmp_path):
    layout = tmp_path / "line.yaml"
    layout.write_text(TINY_LAYOUT)
    with Client(sqlite_service.url, acme) as client:
        assert "simulate" in client.service_info()["kinds"]
        job = client.submit(layout, kind="simulate", options={"replications": 2, "seed": 11})
        seen: list[str] = []
        final = job.wait(progress=lambda st: seen.append(st["state"]), timeout=60, poll=0.1)
        assert final["state"] == "COMPLETE" and seen[-1] == "COMPLETE"
        res = job.results()
        assert res["replications"] == 2 and res["seeds"]["base"] == 11
        files = job.download(tmp_path / "out")
        assert json.loads((tmp_path / "out" / "results.json").read_text()) == res
        assert {p.name for p in files} >= {"results.json"}
        assert job.id in {j["id"] for j in client.jobs()}
        with pytest.raises(ClientError) as err:
            client.job("no-such-job").status()
        assert err.value.status == 404 and "not found" in err.value.message
        with pytest.raises(ClientError) as err:  # done jobs cannot be canceled
            job.cancel()
        assert err.value.status == 409
    with Client(sqlite_service.url, "vf_wrong") as bad, pytest.raises(ClientError) as err:
        bad.submit(layout)
    assert err.value.status == 401


def test_cli_submit_status_results(sqlite_service, acme, tmp_path):
    layout = tmp_path / "line.yaml"
    layout.write_text(TINY_LAYOUT)
    env = {**sqlite_service.env, "VFACTORY_URL": sqlite_service.url, "VFACTORY_TOKEN": acme}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "vfactory.api", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    sub = cli("submit", str(layout), "--option", "replications=2", "--wait", "--timeout", "60")
    assert sub.returncode == 0, sub.stderr
    job_id = sub.stdout.strip().splitlines()[0]
    st = cli("status", job_id)
    assert st.returncode == 0 and "COMPLETE" in st.stdout
    res = cli("results", job_id)
    assert json.loads(res.stdout)["kpis"]["throughput"]["mean"] == pytest.approx(0.5)
    dl = cli("results", job_id, "--download", str(tmp_path / "dl"))
    assert dl.returncode == 0 and (tmp_path / "dl" / "results.json").is_file()
    made = cli("token", "create", "--tenant", "cli-co", "--db-url", sqlite_service.db_url)
    assert made.returncode == 0 and made.stdout.startswith("vf_")
    with sqlite_service.client(made.stdout.strip()) as http:
        assert http.get("/v1/jobs").json()["jobs"] == []  # a new tenant sees none of acme's
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY_LAYOUT.replace("process_time: 2", "process_time: -2"))
    out = cli("submit", str(bad))
    # a layout the service refuses (422) is the user's to fix: exit code 2, as in the other commands
    assert out.returncode == 2 and "bad.yaml:" in out.stderr and "Traceback" not in out.stderr


def test_idempotency_key(sqlite_service, acme):
    other = sqlite_service.token("globex")
    key = {"Idempotency-Key": "order-4711"}
    with sqlite_service.client(acme) as http, sqlite_service.client(other) as http2:
        first = submit(http, headers=key)
        again = submit(http, headers=key)
        assert first.status_code == 201 and again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        differs = submit(http, options='{"replications": 5}', headers=key)
        assert differs.status_code == 422 and "Idempotency-Key" in differs.json()["error"]
        theirs = submit(http2, headers=key)  # keys are per tenant
        assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
        ids = [j["id"] for j in http.get("/v1/jobs", params={"page_size": 200}).json()["jobs"]]
        assert ids.count(first.json()["id"]) == 1


def test_cancel_running_and_queued(sqlite_service, acme):
    with sqlite_service.client(acme) as http:
        jid = submit(http, SLOW_LAYOUT, name="slow.yaml").json()["id"]
        wait_state(http, jid, {"RUNNING"}, pred=lambda st: st["percent"] > 2)
        r = http.post(f"/v1/jobs/{jid}/cancel")
        assert r.status_code == 202 and r.json()["state"] in ("CANCELING", "CANCELED")
        st = wait_state(http, jid, timeout=20)
        assert st["state"] == "CANCELED" and st["percent"] < 100
        assert http.get(f"/v1/jobs/{jid}/results").status_code == 409
        # a second cancel of a canceled job is harmless
        assert http.post(f"/v1/jobs/{jid}/cancel").json()["state"] == "CANCELED"


def test_kind_crash_is_executor_error_and_worker_survives(sqlite_service, acme):
    with sqlite_service.client(acme) as http:
        jid = submit(http, kind="crash").json()["id"]
        st = wait_state(http, jid)
        assert st["state"] == "EXECUTOR_ERROR"
        info = http.get(f"/v1/jobs/{jid}").json()
        assert "SIGSEGV" in info["error"]
        r = http.get(f"/v1/jobs/{jid}/results")
        assert r.status_code == 409 and "EXECUTOR_ERROR" in r.json()["error"]
        # the same workers still run the next job
        ok = submit(http).json()["id"]
        assert wait_state(http, ok)["state"] == "COMPLETE"


def test_listing_is_paginated(sqlite_service):
    token = sqlite_service.token("paged")
    with sqlite_service.client(token) as http:
        ids = [submit(http).json()["id"] for _ in range(3)]
        page1 = http.get("/v1/jobs", params={"page_size": 2}).json()
        assert [j["id"] for j in page1["jobs"]] == ids[::-1][:2]
        page2 = http.get(
            "/v1/jobs", params={"page_size": 2, "page_token": page1["next_page_token"]}
        ).json()
        assert [j["id"] for j in page2["jobs"]] == ids[:1] and page2["next_page_token"] is None
        assert http.get("/v1/jobs", params={"page_token": "garbage!"}).status_code == 422


def test_openapi_documents_the_endpoints(sqlite_service):
    import httpx

    doc = httpx.get(sqlite_service.url + "/openapi.json").json()
    paths = doc["paths"]
    for p in (
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/status",
        "/v1/jobs/{job_id}/cancel",
        "/v1/jobs/{job_id}/results",
        "/v1/jobs/{job_id}/artifacts",
        "/v1/jobs/{job_id}/artifacts/{name}",
        "/v1/service-info",
    ):
        assert p in paths, p
    assert "JobStatus" in doc["components"]["schemas"]
    assert httpx.get(sqlite_service.url + "/docs").status_code == 200
