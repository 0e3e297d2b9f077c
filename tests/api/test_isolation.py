"""Tenant isolation: another tenant's job id is a 404 on every endpoint, and listings show only
the caller's own jobs."""

from __future__ import annotations

from .helpers import submit, wait_state


def test_other_tenants_job_is_404_everywhere(sqlite_service):
    alice = sqlite_service.token("alice-gmbh")
    bob = sqlite_service.token("bob-ltd")
    with sqlite_service.client(alice) as a, sqlite_service.client(bob) as b:
        jid = submit(a).json()["id"]
        assert wait_state(a, jid)["state"] == "COMPLETE"
        own_job = submit(b).json()["id"]
        endpoints = [
            ("GET", f"/v1/jobs/{jid}"),
            ("GET", f"/v1/jobs/{jid}/status"),
            ("GET", f"/v1/jobs/{jid}/results"),
            ("GET", f"/v1/jobs/{jid}/artifacts"),
            ("GET", f"/v1/jobs/{jid}/artifacts/results.json"),
            ("POST", f"/v1/jobs/{jid}/cancel"),
        ]
        for method, path in endpoints:
            theirs = b.request(method, path)
            assert theirs.status_code == 404, (method, path, theirs.text)
            # the same answer as for an id that does not exist at all: nothing leaks
            missing = b.request(method, path.replace(jid, "00000000-0000-4000-8000-000000000000"))
            assert missing.status_code == 404
            assert theirs.json()["error"].replace(jid, "X") == missing.json()["error"].replace(
                "00000000-0000-4000-8000-000000000000", "X"
            )
        for method, path in endpoints[:-1]:
            assert a.request(method, path).status_code == 200, path
        listed_b = {j["id"] for j in b.get("/v1/jobs").json()["jobs"]}
        listed_a = {j["id"] for j in a.get("/v1/jobs").json()["jobs"]}
        assert listed_b == {own_job}
        assert jid in listed_a and own_job not in listed_a


def test_artifact_names_cannot_escape_the_job_folder(sqlite_service):
    token = sqlite_service.token("curious")
    with sqlite_service.client(token) as http:
        jid = submit(http).json()["id"]
        assert wait_state(http, jid)["state"] == "COMPLETE"
        for name in (
            "../../../vfactory.db",
            "..%2F..%2F..%2Fvfactory.db",
            "/etc/passwd",
            "../inputs/line.yaml",
        ):
            r = http.get(f"/v1/jobs/{jid}/artifacts/{name}")
            assert r.status_code == 404, (name, r.status_code)
            assert b"SQLite" not in r.content
