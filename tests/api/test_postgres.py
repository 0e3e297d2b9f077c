"""The same service on PostgreSQL (a throwaway Debian cluster started by the fixture): submit,
complete, download, isolation, and concurrent workers that never take one job twice."""

from __future__ import annotations

import json

import pytest

from .helpers import TIMES_CSV, TINY_LAYOUT, csv_layout, submit, wait_state


def test_postgres_submit_complete_download(postgres_service, tmp_path):
    svc = postgres_service
    token = svc.token("acme")
    other = svc.token("globex")
    with svc.client(token) as http, svc.client(other) as http2:
        ids = [submit(http, TINY_LAYOUT, options=f'{{"seed": {i}}}').json()["id"] for i in range(3)]
        ids.append(
            submit(
                http, csv_layout("times.csv"), attachments=[("times.csv", TIMES_CSV.encode())]
            ).json()["id"]
        )
        for jid in ids:
            assert wait_state(http, jid)["state"] == "COMPLETE"
            info = http.get(f"/v1/jobs/{jid}").json()
            # two workers polled the same queue: each job ran exactly once
            assert info["attempts"] == 1
            assert [e["state"] for e in info["events"]].count("INITIALIZING") == 1
        means = [
            http.get(f"/v1/jobs/{j}/results").json()["kpis"]["throughput"]["mean"] for j in ids
        ]
        assert means == pytest.approx([0.5, 0.5, 0.5, 0.25])
        art = http.get(f"/v1/jobs/{ids[0]}/artifacts/results.json")
        assert json.loads(art.content)["seeds"]["base"] == 0

        assert http2.get(f"/v1/jobs/{ids[0]}").status_code == 404
        assert http2.get("/v1/jobs").json()["jobs"] == []
        bad = submit(http, TINY_LAYOUT.replace("process_time: 2", "process_time: -2"))
        assert bad.status_code == 422 and bad.json()["issues"][0].startswith("line.yaml:14:")
