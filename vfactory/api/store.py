"""Job store: SQLAlchemy models and the repository the service and the workers share.

SQLite (WAL, busy timeout, writes under ``BEGIN IMMEDIATE``) by default, PostgreSQL by URL
(``postgresql+psycopg://…``). Tokens are stored as SHA-256 hashes only. Claims are one atomic
``UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) AND state = 'QUEUED' RETURNING …``; on SQLite
``FOR UPDATE`` is dropped and the immediate transaction makes the conditional update exclusive.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from .states import LEASED, TERMINAL, JobState

TOKEN_PREFIX = "vf_"


class Base(DeclarativeBase):
    pass


class TenantRow(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)


class TokenRow(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    rate_per_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    rate_burst: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class JobRow(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(64), default="")
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    options: Mapped[str] = mapped_column(Text)  # JSON object
    layout_name: Mapped[str] = mapped_column(String(255))
    attachments: Mapped[str] = mapped_column(Text)  # JSON list of stored file names
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    result_attempt: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Wall-clock limit of an attempt recorded at submission (the service's limit, or the job's
    # lower timeout_s); a worker enforces the lower of it and its own. None: older jobs.
    time_limit_s: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (
        Index("ix_jobs_state_created", "state", "created_at"),
        Index("ix_jobs_tenant_created", "tenant_id", "created_at"),
    )


class IdempotencyRow(Base):
    __tablename__ = "idempotency_keys"
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    time: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")


# --- plain values handed out by the repository (no live ORM objects leave a session) ---


@dataclass(frozen=True)
class Caller:
    """The tenant behind a bearer token."""

    tenant_id: int
    tenant: str
    token_id: int
    rate_per_s: float | None
    rate_burst: int | None


@dataclass(frozen=True)
class Job:
    id: str
    tenant_id: int
    kind: str
    state: JobState
    stage: str
    percent: float
    options: dict[str, Any]
    layout_name: str
    attachments: list[str]
    request_hash: str
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None
    lease_owner: str | None
    attempt: int
    result_attempt: int | None
    error: str | None
    time_limit_s: float | None = None


@dataclass(frozen=True)
class Event:
    time: float
    state: str
    message: str


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before by this tenant for a different request."""

    def __init__(self, job_id: str):
        self.job_id = job_id
        super().__init__(job_id)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        tenant_id=row.tenant_id,
        kind=row.kind,
        state=JobState(row.state),
        stage=row.stage,
        percent=row.percent,
        options=json.loads(row.options),
        layout_name=row.layout_name,
        attachments=json.loads(row.attachments),
        request_hash=row.request_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        lease_owner=row.lease_owner,
        attempt=row.attempt,
        result_attempt=row.result_attempt,
        error=row.error,
        time_limit_s=row.time_limit_s,
    )


def _make_engine(url: str, immediate: bool) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=20,
            max_overflow=20,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so that BEGIN IMMEDIATE is ours to send.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)


# Columns added after the first release: created in a database made by an older version.
_ADDED_COLUMNS = {"jobs": {"time_limit_s": "FLOAT"}}


def _add_missing_columns(engine: Engine) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        for name, sql_type in columns.items():
            if name in {c["name"] for c in inspect(engine).get_columns(table)}:
                continue
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
            except Exception:  # another process (server or worker) added it at the same moment
                if name not in {c["name"] for c in inspect(engine).get_columns(table)}:
                    raise


class Store:
    """Repository over the job database; safe to share between threads of one process."""

    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_engine = _make_engine(url, immediate=True)
        # SQLite readers must not take the write lock; other databases share one engine.
        self._read_engine = (
            _make_engine(url, immediate=False) if self.is_sqlite else self._write_engine
        )
        Base.metadata.create_all(self._write_engine)
        _add_missing_columns(self._write_engine)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)
        self._read = sessionmaker(self._read_engine, expire_on_commit=False)

    def close(self) -> None:
        self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            self._read_engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def ping(self) -> bool:
        with self._reading() as s:
            return s.execute(select(1)).scalar_one() == 1

    # --- tenants and tokens ---

    def create_token(
        self, tenant: str, rate_per_s: float | None = None, rate_burst: int | None = None
    ) -> str:
        """Create (if needed) the tenant and a new token for it; the token is returned once."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        with self._writing() as s:
            row = s.execute(select(TenantRow).where(TenantRow.name == tenant)).scalar_one_or_none()
            if row is None:
                row = TenantRow(name=tenant, created_at=now)
                s.add(row)
                s.flush()
            s.add(
                TokenRow(
                    tenant_id=row.id,
                    token_hash=hash_token(token),
                    rate_per_s=rate_per_s,
                    rate_burst=rate_burst,
                    created_at=now,
                )
            )
        return token

    def revoke_tokens(self, tenant: str) -> int:
        with self._writing() as s:
            tid = s.execute(select(TenantRow.id).where(TenantRow.name == tenant)).scalar()
            if tid is None:
                return 0
            res = s.execute(
                update(TokenRow)
                .where(TokenRow.tenant_id == tid, TokenRow.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
            return getattr(res, "rowcount", 0) or 0

    def authenticate(self, token: str) -> Caller | None:
        with self._reading() as s:
            row = s.execute(
                select(TokenRow, TenantRow.name)
                .join(TenantRow, TenantRow.id == TokenRow.tenant_id)
                .where(TokenRow.token_hash == hash_token(token), TokenRow.revoked_at.is_(None))
            ).first()
        if row is None:
            return None
        tok, name = row
        return Caller(tok.tenant_id, name, tok.id, tok.rate_per_s, tok.rate_burst)

    # --- submission and reads (tenant-scoped) ---

    def find_idempotent(self, tenant_id: int, key: str) -> tuple[str, str] | None:
        """(job id, request hash) stored under this tenant's key, or None."""
        with self._reading() as s:
            row = s.get(IdempotencyRow, (tenant_id, key))
            return None if row is None else (row.job_id, row.request_hash)

    def create_job(
        self,
        *,
        job_id: str,
        tenant_id: int,
        kind: str,
        options: dict[str, Any],
        layout_name: str,
        attachments: list[str],
        request_hash: str,
        idempotency_key: str | None = None,
        time_limit_s: float | None = None,
    ) -> tuple[Job, bool]:
        """Insert a QUEUED job; with a key already used, return (that job, False) or raise
        IdempotencyConflict when the earlier request differed."""
        now = time.time()
        try:
            with self._writing() as s:
                if idempotency_key is not None:
                    prior = s.get(IdempotencyRow, (tenant_id, idempotency_key))
                    if prior is not None:
                        if prior.request_hash != request_hash:
                            raise IdempotencyConflict(prior.job_id)
                        return _job(s.get_one(JobRow, prior.job_id)), False
                row = JobRow(
                    id=job_id,
                    tenant_id=tenant_id,
                    kind=kind,
                    state=JobState.QUEUED.value,
                    stage="queued",
                    percent=0.0,
                    options=json.dumps(options),
                    layout_name=layout_name,
                    attachments=json.dumps(attachments),
                    request_hash=request_hash,
                    created_at=now,
                    updated_at=now,
                    attempt=0,
                    time_limit_s=time_limit_s,
                )
                s.add(row)
                s.flush()
                if idempotency_key is not None:
                    s.add(
                        IdempotencyRow(
                            tenant_id=tenant_id,
                            key=idempotency_key,
                            job_id=job_id,
                            request_hash=request_hash,
                            created_at=now,
                        )
                    )
                s.add(
                    EventRow(
                        job_id=job_id, time=now, state=JobState.QUEUED.value, message="submitted"
                    )
                )
                return _job(row), True
        except IntegrityError:
            # Two submissions raced on the same key: the other one won; answer with its job.
            if idempotency_key is None:
                raise
            prior_pair = self.find_idempotent(tenant_id, idempotency_key)
            if prior_pair is None:
                raise
            if prior_pair[1] != request_hash:
                raise IdempotencyConflict(prior_pair[0]) from None
            job = self.get_job(tenant_id, prior_pair[0])
            assert job is not None
            return job, False

    def get_job(self, tenant_id: int | None, job_id: str) -> Job | None:
        """The job, or None when it does not exist or belongs to another tenant."""
        with self._reading() as s:
            row = s.get(JobRow, job_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                return None
            return _job(row)

    def list_jobs(
        self,
        tenant_id: int,
        page_size: int,
        before: tuple[float, str] | None = None,
        state: JobState | None = None,
    ) -> list[Job]:
        """Newest first; ``before`` = (created_at, id) of the last job of the previous page."""
        q = select(JobRow).where(JobRow.tenant_id == tenant_id)
        if state is not None:
            q = q.where(JobRow.state == state.value)
        if before is not None:
            t, jid = before
            q = q.where((JobRow.created_at < t) | ((JobRow.created_at == t) & (JobRow.id < jid)))
        q = q.order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(page_size)
        with self._reading() as s:
            return [_job(r) for r in s.execute(q).scalars()]

    def events(self, job_id: str) -> list[Event]:
        with self._reading() as s:
            rows = s.execute(
                select(EventRow).where(EventRow.job_id == job_id).order_by(EventRow.id)
            ).scalars()
            return [Event(r.time, r.state, r.message) for r in rows]

    def request_cancel(self, tenant_id: int, job_id: str) -> Job | None:
        """QUEUED → CANCELED at once; INITIALIZING/RUNNING → CANCELING (the worker stops it);
        other states are left alone. None when the job is not this tenant's."""
        now = time.time()
        with self._writing() as s:
            row = s.get(JobRow, job_id)
            if row is None or row.tenant_id != tenant_id:
                return None
            state = JobState(row.state)
            if state == JobState.QUEUED:
                row.state, row.finished_at, row.stage = JobState.CANCELED.value, now, "canceled"
            elif state in (JobState.INITIALIZING, JobState.RUNNING):
                row.state = JobState.CANCELING.value
            else:
                return _job(row)
            row.updated_at = now
            s.add(EventRow(job_id=job_id, time=now, state=row.state, message="cancel requested"))
            return _job(row)

    def state_counts(self) -> dict[str, int]:
        with self._reading() as s:
            rows = s.execute(select(JobRow.state, func.count()).group_by(JobRow.state)).all()
            return {state: n for state, n in rows}

    # --- worker side ---

    def claim(self, worker_id: str, lease_s: float) -> Job | None:
        """Atomically take the oldest QUEUED job: state INITIALIZING, a new attempt, our lease."""
        now = time.time()
        oldest = (
            select(JobRow.id)
            .where(JobRow.state == JobState.QUEUED.value)
            .order_by(JobRow.created_at, JobRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        stmt = (
            update(JobRow)
            .where(JobRow.id == oldest, JobRow.state == JobState.QUEUED.value)
            .values(
                state=JobState.INITIALIZING.value,
                stage="initializing",
                percent=0.0,
                lease_owner=worker_id,
                lease_expires_at=now + lease_s,
                attempt=JobRow.attempt + 1,
                updated_at=now,
                started_at=func.coalesce(JobRow.started_at, now),
            )
            .returning(JobRow.id)
        )
        with self._writing() as s:
            job_id = s.execute(stmt).scalar_one_or_none()
            if job_id is None:
                return None
            row = s.get_one(JobRow, job_id)
            s.add(
                EventRow(
                    job_id=job_id,
                    time=now,
                    state=JobState.INITIALIZING.value,
                    message=f"attempt {row.attempt} claimed by {worker_id}",
                )
            )
            return _job(row)

    def heartbeat(
        self,
        job_id: str,
        worker_id: str,
        attempt: int,
        lease_s: float,
        stage: str | None = None,
        percent: float | None = None,
        running: bool = False,
        note: str = "",
    ) -> JobState | None:
        """Renew our lease (and report progress); returns the job's state, or None when the lease
        is no longer ours (it expired and the job went to another worker)."""
        now = time.time()
        values: dict[str, Any] = {"lease_expires_at": now + lease_s, "updated_at": now}
        if stage is not None:
            values["stage"] = stage[:64]
        if percent is not None:
            values["percent"] = max(0.0, min(100.0, float(percent)))
        with self._writing() as s:
            row = s.get(JobRow, job_id)
            if (
                row is None
                or row.lease_owner != worker_id
                or row.attempt != attempt
                or JobState(row.state) not in LEASED
            ):
                return None
            for k, v in values.items():
                setattr(row, k, v)
            if running and row.state == JobState.INITIALIZING.value:
                row.state = JobState.RUNNING.value
                s.add(
                    EventRow(
                        job_id=job_id,
                        time=now,
                        state=row.state,
                        message=f"attempt {attempt} running {note}".strip(),
                    )
                )
            return JobState(row.state)

    def finish(
        self,
        job_id: str,
        worker_id: str,
        attempt: int,
        state: JobState,
        error: str | None = None,
        result_attempt: int | None = None,
        percent: float | None = None,
    ) -> bool:
        """Record the end of our attempt; False (and nothing written) if the lease is not ours.
        ``percent``: the progress reached by an attempt that did not complete (kept on the row)."""
        assert state in TERMINAL
        now = time.time()
        with self._writing() as s:
            row = s.get(JobRow, job_id)
            if (
                row is None
                or row.lease_owner != worker_id
                or row.attempt != attempt
                or JobState(row.state) not in LEASED
            ):
                return False
            if JobState(row.state) == JobState.CANCELING and state == JobState.COMPLETE:
                state = JobState.CANCELED  # the cancel arrived first; the user asked to stop
            row.state = state.value
            row.stage = state.value.lower()
            if state == JobState.COMPLETE:
                row.percent = 100.0
                row.result_attempt = result_attempt
            elif percent is not None:
                row.percent = max(0.0, min(100.0, float(percent)))
            row.error = error
            row.finished_at = row.updated_at = now
            row.lease_owner = None
            row.lease_expires_at = None
            s.add(
                EventRow(
                    job_id=job_id,
                    time=now,
                    state=state.value,
                    message=error or f"attempt {attempt} ended",
                )
            )
            return True

    def release(self, job_id: str, worker_id: str, attempt: int) -> bool:
        """Give a job back (worker shutting down): QUEUED again, or CANCELED if a cancel waits."""
        now = time.time()
        with self._writing() as s:
            row = s.get(JobRow, job_id)
            if row is None or row.lease_owner != worker_id or row.attempt != attempt:
                return False
            new = JobState.CANCELED if row.state == JobState.CANCELING.value else JobState.QUEUED
            row.state, row.stage, row.percent = new.value, new.value.lower(), 0.0
            row.lease_owner = None
            row.lease_expires_at = None
            row.updated_at = now
            if new.terminal:
                row.finished_at = now
            s.add(
                EventRow(
                    job_id=job_id,
                    time=now,
                    state=new.value,
                    message=f"released by {worker_id} (shutting down)",
                )
            )
            return True

    def requeue_expired(self, max_attempts: int) -> list[tuple[str, JobState]]:
        """Jobs whose worker stopped renewing its lease: back to QUEUED (or CANCELED when a cancel
        was pending, SYSTEM_ERROR after max_attempts attempts)."""
        now = time.time()
        changed: list[tuple[str, JobState]] = []
        with self._writing() as s:
            rows = (
                s.execute(
                    select(JobRow).where(
                        JobRow.state.in_([st.value for st in LEASED]),
                        JobRow.lease_expires_at < now,
                    )
                )
                .scalars()
                .all()
            )
            for row in rows:
                owner = row.lease_owner
                if row.state == JobState.CANCELING.value:
                    new = JobState.CANCELED
                elif row.attempt >= max_attempts:
                    new = JobState.SYSTEM_ERROR
                    row.error = f"the worker running this job was lost {row.attempt} times"
                else:
                    new = JobState.QUEUED
                row.state = new.value
                row.stage = new.value.lower()
                row.percent = 0.0 if new == JobState.QUEUED else row.percent
                row.lease_owner = None
                row.lease_expires_at = None
                row.updated_at = now
                if new.terminal:
                    row.finished_at = now
                s.add(
                    EventRow(
                        job_id=row.id,
                        time=now,
                        state=new.value,
                        message=f"lease of {owner} expired (attempt {row.attempt})",
                    )
                )
                changed.append((row.id, new))
        return changed
