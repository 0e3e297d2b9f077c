"""The job store on its own: atomic claims under concurrency (SQLite and PostgreSQL), lease
expiry, hashed tokens, idempotency keys."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import text

from vfactory.api.pgcluster import create_database
from vfactory.api.states import JobState
from vfactory.api.store import IdempotencyConflict, Store, hash_token


def _queue(store: Store, tenant_id: int, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        jid = str(uuid.uuid4())
        store.create_job(
            job_id=jid,
            tenant_id=tenant_id,
            kind="simulate",
            options={},
            layout_name="line.yaml",
            attachments=[],
            request_hash="h",
        )
        ids.append(jid)
    return ids


def _tenant(store: Store, name: str) -> int:
    caller = store.authenticate(store.create_token(name))
    assert caller is not None
    return caller.tenant_id


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    else:  # a fresh database of its own in the session's throwaway cluster
        url = create_database(request.getfixturevalue("postgres_url"))
    s = Store(url)
    yield s
    s.close()


def test_concurrent_claims_take_each_job_once(store):
    tid = _tenant(store, "acme")
    ids = _queue(store, tid, 40)
    claimed: list[tuple[str, str]] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        own = Store(store.url)  # each worker has its own connection pool, like a process
        try:
            while (job := own.claim(name, lease_s=30)) is not None:
                with lock:
                    claimed.append((job.id, name))
        finally:
            own.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    got = [jid for jid, _ in claimed]
    assert sorted(got) == sorted(ids)  # every job once, none twice
    job = store.get_job(tid, ids[0])
    assert job.state == JobState.INITIALIZING and job.attempt == 1


def test_lease_expiry_requeues_then_gives_up(store):
    tid = _tenant(store, "acme")
    (jid,) = _queue(store, tid, 1)
    for attempt in (1, 2):
        job = store.claim("w1", lease_s=0.05)
        assert job.id == jid and job.attempt == attempt
        time.sleep(0.1)
        # the lease has expired: w1 may no longer renew or finish the job
        assert store.requeue_expired(max_attempts=2) == [
            (jid, JobState.QUEUED if attempt < 2 else JobState.SYSTEM_ERROR)
        ]
        assert store.heartbeat(jid, "w1", attempt, 30) is None
        assert not store.finish(jid, "w1", attempt, JobState.COMPLETE, result_attempt=attempt)
    job = store.get_job(tid, jid)
    assert job.state == JobState.SYSTEM_ERROR and "lost 2 times" in job.error


def test_cancel_while_running_wins_over_completion(store):
    tid = _tenant(store, "acme")
    (jid,) = _queue(store, tid, 1)
    job = store.claim("w1", lease_s=30)
    assert store.heartbeat(jid, "w1", 1, 30, running=True) == JobState.RUNNING
    assert store.request_cancel(tid, jid).state == JobState.CANCELING
    assert store.heartbeat(jid, "w1", 1, 30) == JobState.CANCELING
    assert store.finish(jid, "w1", job.attempt, JobState.COMPLETE, result_attempt=1)
    assert store.get_job(tid, jid).state == JobState.CANCELED
    assert store.request_cancel(tid + 1000, jid) is None  # not that tenant's job


def test_tokens_are_stored_hashed(store):
    token = store.create_token("acme")
    with store._reading() as s:
        stored = [r[0] for r in s.execute(text("SELECT token_hash FROM tokens"))]
    assert token not in stored and hash_token(token) in stored
    assert store.authenticate(token).tenant == "acme"
    assert store.authenticate(token + "x") is None
    assert store.revoke_tokens("acme") == 1
    assert store.authenticate(token) is None


def test_idempotency_key_per_tenant(store):
    a, b = _tenant(store, "a"), _tenant(store, "b")
    kw = dict(kind="simulate", options={}, layout_name="l.yaml", attachments=[])
    j1, new1 = store.create_job(
        job_id=str(uuid.uuid4()), tenant_id=a, request_hash="h1", idempotency_key="k", **kw
    )
    j2, new2 = store.create_job(
        job_id=str(uuid.uuid4()), tenant_id=a, request_hash="h1", idempotency_key="k", **kw
    )
    assert new1 and not new2 and j1.id == j2.id
    with pytest.raises(IdempotencyConflict):
        store.create_job(
            job_id=str(uuid.uuid4()), tenant_id=a, request_hash="h2", idempotency_key="k", **kw
        )
    j3, new3 = store.create_job(
        job_id=str(uuid.uuid4()), tenant_id=b, request_hash="h2", idempotency_key="k", **kw
    )
    assert new3 and j3.id != j1.id
