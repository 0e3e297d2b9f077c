"""The FastAPI service: job submission (multipart upload), status, results, artifacts, cancel.

``create_app(settings)`` builds the app; ``vfactory serve`` runs it under uvicorn. Every error is a
JSON ``ErrorBody``; a bad layout is a 422 whose ``issues`` are the layout loader's
``file:line:column: field.path: message`` lines, with the upload's sanitised name as the file.
"""

import base64
import contextlib
import functools
import hashlib
import json
import logging
import math
import mimetypes
import shutil
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import kinds as kind_registry
from .schemas import (
    Artifact,
    ArtifactList,
    ErrorBody,
    JobEvent,
    JobInfo,
    JobList,
    JobStatus,
    JobSummary,
    Limits,
    ServiceInfo,
)
from .settings import Settings
from .states import TERMINAL, JobState
from .store import Caller, IdempotencyConflict, Job, Store
from .uploads import UploadRejected, check_yaml_shape, extract_zip, safe_name

log = logging.getLogger("vfactory.api")

RESULTS_FILE = "results.json"
RESERVED_OPTIONS = ("cluster",)  # set by the worker's operator, never by a submitter


class ApiError(Exception):
    """An error answer: HTTP status, one-line message, optional layout issues and headers."""

    def __init__(
        self,
        status: int,
        message: str,
        issues: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.status, self.message = status, message
        self.issues = issues or []
        self.headers = headers
        super().__init__(message)


def _error(
    status: int,
    message: str,
    issues: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(status=status, error=message, issues=issues or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 404, 409, 413, 415, 422, 429)
}


@functools.cache
def _version() -> str:
    try:
        from importlib.metadata import version

        return version("vfactory")
    except Exception:
        return "0"


# --- request body limit (pure ASGI, so it bounds the stream before multipart parsing) ---


class BodyLimit:
    """Answer 413 once a request body passes ``limit`` bytes (Content-Length or streamed)."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                n = int(declared)
            except ValueError:
                await _send_json(send, _error(400, "Content-Length is not a number"))
                return
            if n > self.limit:
                await _send_json(send, self._too_large(n))
                return
        received = 0
        exceeded = False

        async def limited_receive() -> Any:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Any) -> None:
            if not exceeded:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded:
            await _send_json(send, self._too_large(received))

    def _too_large(self, n: int) -> JSONResponse:
        return _error(413, f"request body of {n}+ bytes is over the limit of {self.limit} bytes")


async def _send_json(send: Any, response: JSONResponse) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})


# --- helpers ---


def _page_token(job: Job) -> str:
    raw = json.dumps([job.created_at, job.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_page_token(token: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created, jid = json.loads(raw)
        return float(created), str(jid)
    except Exception:
        raise ApiError(422, "page_token is not one this service handed out") from None


def _info(job: Job, store: Store | None = None) -> JobInfo:
    events = [
        JobEvent(time=e.time, state=e.state, message=e.message)
        for e in (store.events(job.id) if store else [])
    ]
    return JobInfo(
        id=job.id,
        kind=job.kind,
        state=job.state,
        stage=job.stage,
        percent=job.percent,
        options=job.options,
        layout=job.layout_name,
        attachments=job.attachments,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        attempts=job.attempt,
        error=job.error,
        time_limit_s=job.time_limit_s,
        events=events,
    )


def _status(job: Job) -> JobStatus:
    return JobStatus(
        id=job.id, state=job.state, stage=job.stage, percent=job.percent, updated_at=job.updated_at
    )


def _copy_upload(upload: UploadFile, dest: Path, limit: int, what: str) -> tuple[int, str]:
    """Copy an upload to ``dest`` under a per-file size limit; (size, sha256)."""
    digest = hashlib.sha256()
    size = 0
    upload.file.seek(0)
    with open(dest, "wb") as out:
        while chunk := upload.file.read(1 << 16):
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"{what} is larger than the limit of {limit} bytes per file")
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def job_dir(settings: Settings, job_id: str) -> Path:
    return settings.jobs_dir / job_id


def artifacts_dir(settings: Settings, job: Job) -> Path | None:
    """Folder of the attempt whose outputs the job shows: the completing attempt, else the last."""
    attempt = job.result_attempt if job.state == JobState.COMPLETE else job.attempt
    if not attempt:
        return None
    return job_dir(settings, job.id) / "attempts" / str(attempt)


def _refuse_outside_files(text: str, filename: str) -> None:
    """A tenant's layout may name only its own attachments: no absolute paths to server files."""
    import yaml

    from vfactory.physics.binding import _file_references

    data = yaml.safe_load(text) or {}
    for name, solve in (data.get("physics") or {}).items():
        params = solve.get("params") if isinstance(solve, dict) else None
        for loc, value in _file_references(params or {}, ("physics", name, "params")):
            if Path(value).is_absolute() or ".." in Path(value).parts:
                where = ".".join(map(str, loc))
                raise ApiError(422, f"{filename}: {where}: {value!r} must name an uploaded attachment")


def _validate_mapping(path: Path, filename: str) -> None:
    from vfactory.calibrate.errors import LogError
    from vfactory.calibrate.mapping import load as load_mapping

    try:
        load_mapping(path)
    except LogError as exc:
        raise ApiError(422, f"{filename}: the column mapping is not valid: {exc}") from None


def _validate_layout(text: str, filename: str, base_dir: Path) -> None:
    try:
        from vfactory import layout as layout_pkg
    except ImportError:  # layout package absent: the worker's kind will report problems
        return
    try:
        layout_pkg.loads(text, filename=filename, base_dir=base_dir)
        _refuse_outside_files(text, filename)
    except layout_pkg.LayoutError as exc:
        issues = [str(i) for i in getattr(exc, "issues", [])] or str(exc).splitlines()
        raise ApiError(
            422, f"{filename}: the layout is not valid ({len(issues)} problem(s))", issues
        ) from None
    except RecursionError:
        raise ApiError(422, f"{filename}: the layout nests too deeply") from None
    except Exception as exc:  # any other loader failure is still the upload's fault
        raise ApiError(422, f"{filename}: the layout could not be read: {exc}") from None


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The API service; ``store`` defaults to one opened on ``settings.db_url``."""
    settings = settings or Settings.from_env()
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    staging_root = settings.data_dir / "staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    store = store or Store(settings.db_url)
    from .ratelimit import RateLimiter

    limiter = RateLimiter()
    token_cache: dict[str, tuple[Caller | None, float]] = {}
    stop = threading.Event()

    def sweep() -> None:
        # Re-queue jobs whose worker died even when no other worker is polling right now.
        while not stop.wait(max(settings.lease_s / 2, 0.5)):
            try:
                store.requeue_expired(settings.max_attempts)
            except Exception:
                log.exception("lease sweep failed")

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        kind_registry.available()  # import the kinds now, not in the first request
        thread = threading.Thread(target=sweep, name="vfactory-lease-sweep", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            store.close()

    app = FastAPI(
        title="vfactory job API",
        version=_version(),
        summary="Upload a factory layout with its data, run simulation jobs, download results.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)

    @app.exception_handler(ApiError)
    async def _api_error(_r: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.issues, exc.headers)

    @app.exception_handler(UploadRejected)
    async def _upload_error(_r: Request, exc: UploadRejected) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_r: Request, exc: RequestValidationError) -> JSONResponse:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",))
            lines.append(f"{loc or 'request'}: {err.get('msg', 'invalid')}")
        return _error(422, "; ".join(lines) or "invalid request", lines)

    @app.exception_handler(Exception)
    async def _unexpected(_r: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.error("unhandled error ref=%s", ref, exc_info=exc)
        return _error(500, f"internal error (reference {ref}); the service log has details")

    # --- authentication and rate limit ---

    def caller(authorization: Annotated[str | None, Header()] = None) -> Caller:
        challenge = {"WWW-Authenticate": "Bearer"}
        if not authorization:
            raise ApiError(
                401, "missing bearer token (Authorization: Bearer <token>)", headers=challenge
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 256:
            raise ApiError(
                401, "the Authorization header must be 'Bearer <token>'", headers=challenge
            )
        now = time.monotonic()
        cached = token_cache.get(token)
        if cached is not None and cached[1] > now:
            who = cached[0]
        else:
            who = store.authenticate(token)
            if len(token_cache) > 10_000:
                token_cache.clear()
            token_cache[token] = (who, now + 5.0)
        if who is None:
            raise ApiError(401, "invalid or revoked token", headers=challenge)
        rate = who.rate_per_s if who.rate_per_s is not None else settings.rate_per_s
        burst = who.rate_burst if who.rate_burst is not None else settings.rate_burst
        wait = limiter.take(who.token_id, rate, burst)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise ApiError(
                429,
                f"rate limit of {rate:g} requests/s (burst {burst}) exceeded;"
                f" retry after {retry} s",
                headers={"Retry-After": str(retry)},
            )
        return who

    Authed = Annotated[Caller, Depends(caller)]

    def own_job(job_id: str, who: Caller) -> Job:
        job = store.get_job(who.tenant_id, job_id) if len(job_id) <= 64 else None
        if job is None:
            raise ApiError(404, f"job {job_id!r} not found")
        return job

    # --- endpoints ---

    @app.get("/healthz", tags=["service"], summary="Liveness and database check")
    def healthz() -> dict[str, str]:
        store.ping()
        return {"status": "ok"}

    @app.get("/v1/service-info", response_model=ServiceInfo, tags=["service"])
    def service_info() -> ServiceInfo:
        return ServiceInfo(
            version=_version(),
            kinds=kind_registry.available(),
            states=list(JobState),
            limits=Limits(
                max_upload_bytes=settings.max_upload_bytes,
                max_file_bytes=settings.max_file_bytes,
                max_layout_bytes=settings.max_layout_bytes,
                max_files=settings.max_files,
                rate_per_s=settings.rate_per_s,
                rate_burst=settings.rate_burst,
                job_timeout_s=settings.job_timeout_s,
            ),
        )

    @app.post(
        "/v1/jobs",
        response_model=JobInfo,
        status_code=201,
        tags=["jobs"],
        responses=_ERRORS,
        summary="Submit a job: layout YAML + attachments (CSV, meshes, orders, .zip) + options",
    )
    def submit(
        request: Request,
        response: Response,
        who: Authed,
        layout: Annotated[UploadFile | None, File(description="Line layout (YAML).")] = None,
        attachments: Annotated[
            list[UploadFile] | None,
            File(description="Data files the layout refers to; .zip files are extracted."),
        ] = None,
        kind: Annotated[
            str, Form(description="simulate, physics, optimize, schedule, recommend")
        ] = "simulate",
        options: Annotated[
            str,
            Form(
                description="JSON object of kind options. Every kind also takes timeout_s: the "
                "job's wall-clock limit in seconds, at most the service's limit (limits."
                "job_timeout_s in /v1/service-info, the default), recorded in the job as "
                "time_limit_s; a job that runs longer is stopped and ends EXECUTOR_ERROR 'time "
                "limit of N s exceeded', keeping the files it wrote so far in its artifacts. The "
                "worker that runs the job may enforce a lower limit of its own (its operator's "
                "--job-timeout)."
            ),
        ] = "{}",
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> JobInfo:
        ctype = request.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            raise ApiError(
                415, f"expected a multipart/form-data upload, got {ctype or 'no body'!r}"
            )
        try:
            kind_registry.get(kind)
        except kind_registry.KindUnavailable as exc:
            raise ApiError(422, str(exc)) from None
        opts = _parse_options(options, settings.max_options_bytes)
        try:
            kind_registry.check_options(kind, opts, max_timeout_s=settings.job_timeout_s)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        if idempotency_key is not None and (
            not 1 <= len(idempotency_key) <= 255 or not idempotency_key.isprintable()
        ):
            raise ApiError(422, "Idempotency-Key must be 1 to 255 printable characters")
        if layout is None:
            raise ApiError(422, "missing the 'layout' file (the line layout YAML)")
        files = list(attachments or [])
        if 1 + len(files) > settings.max_files:
            raise ApiError(
                422, f"{1 + len(files)} files uploaded; at most {settings.max_files} per job"
            )
        stage = staging_root / uuid.uuid4().hex
        inputs = stage / "inputs"
        inputs.mkdir(parents=True)
        try:
            layout_name = safe_name(layout.filename, "layout")
            size, layout_hash = _copy_upload(
                layout,
                inputs / layout_name,
                min(settings.max_layout_bytes, settings.max_file_bytes),
                f"layout {layout_name!r}",
            )
            if size == 0:
                raise ApiError(422, f"layout {layout_name!r} is empty")
            digests = [("layout", layout_name, layout_hash)]
            stored: list[str] = []
            for up in files:
                name = safe_name(up.filename, "attachment")
                if (inputs / name).exists() or name == layout_name:
                    raise ApiError(422, f"attachment {name!r}: two uploads have this name")
                _, digest = _copy_upload(
                    up, inputs / name, settings.max_file_bytes, f"attachment {name!r}"
                )
                digests.append(("attachment", name, digest))
                if name.lower().endswith(".zip"):
                    archive = inputs / name
                    stored += extract_zip(
                        archive,
                        inputs,
                        max_entries=settings.max_zip_entries,
                        max_total_bytes=settings.max_zip_bytes,
                        max_ratio=settings.max_zip_ratio,
                        max_depth=settings.max_zip_depth,
                    )
                    archive.unlink()
                else:
                    stored.append(name)
            raw = (inputs / layout_name).read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(422, f"{layout_name}: the layout is not UTF-8 text") from None
            if "\x00" in text:
                raise ApiError(422, f"{layout_name}: the layout contains NUL bytes (binary file?)")
            check_yaml_shape(text, layout_name, settings.max_yaml_nodes, settings.max_yaml_depth)
            if kind == "calibrate":  # the upload is a column mapping; the event log is an attachment
                _validate_mapping(inputs / layout_name, layout_name)
            else:
                _validate_layout(text, layout_name, inputs)

            request_hash = hashlib.sha256(
                json.dumps([kind, opts, sorted(digests)], sort_keys=True).encode()
            ).hexdigest()
            if idempotency_key is not None:
                prior = store.find_idempotent(who.tenant_id, idempotency_key)
                if prior is not None:
                    if prior[1] != request_hash:
                        raise _idempotency_conflict(prior[0])
                    job = store.get_job(who.tenant_id, prior[0])
                    assert job is not None
                    response.status_code = 200
                    response.headers["Location"] = f"/v1/jobs/{job.id}"
                    return _info(job, store)
            job_id = str(uuid.uuid4())
            final = job_dir(settings, job_id)
            # Files go in place before the row exists, so a worker never claims a job without them.
            stage.rename(final)
            try:
                job, created = store.create_job(
                    job_id=job_id,
                    tenant_id=who.tenant_id,
                    kind=kind,
                    options=opts,
                    layout_name=layout_name,
                    attachments=stored,
                    request_hash=request_hash,
                    idempotency_key=idempotency_key,
                    # the limit this service advertises, recorded so that every worker keeps it
                    time_limit_s=kind_registry.time_limit_s(opts, settings.job_timeout_s),
                )
            except IdempotencyConflict as exc:
                shutil.rmtree(final, ignore_errors=True)
                raise _idempotency_conflict(exc.job_id) from None
            except Exception:
                shutil.rmtree(final, ignore_errors=True)
                raise
            if not created:
                shutil.rmtree(final, ignore_errors=True)
                response.status_code = 200
            response.headers["Location"] = f"/v1/jobs/{job.id}"
            return _info(job, store)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    @app.get("/v1/jobs", response_model=JobList, tags=["jobs"], responses=_ERRORS)
    def list_jobs(
        who: Authed,
        page_size: Annotated[int, Query(ge=1, le=200)] = 50,
        page_token: str | None = None,
        state: JobState | None = None,
    ) -> JobList:
        before = _parse_page_token(page_token) if page_token else None
        jobs = store.list_jobs(who.tenant_id, page_size + 1, before, state)
        more = len(jobs) > page_size
        jobs = jobs[:page_size]
        return JobList(
            jobs=[
                JobSummary(
                    id=j.id,
                    kind=j.kind,
                    state=j.state,
                    percent=j.percent,
                    layout=j.layout_name,
                    created_at=j.created_at,
                )
                for j in jobs
            ],
            next_page_token=_page_token(jobs[-1]) if more and jobs else None,
        )

    @app.get("/v1/jobs/{job_id}", response_model=JobInfo, tags=["jobs"], responses=_ERRORS)
    def get_job(job_id: str, who: Authed) -> JobInfo:
        return _info(own_job(job_id, who), store)

    @app.get("/v1/jobs/{job_id}/status", response_model=JobStatus, tags=["jobs"], responses=_ERRORS)
    def get_status(job_id: str, who: Authed) -> JobStatus:
        return _status(own_job(job_id, who))

    @app.post(
        "/v1/jobs/{job_id}/cancel",
        response_model=JobStatus,
        status_code=202,
        tags=["jobs"],
        responses=_ERRORS,
    )
    def cancel(job_id: str, who: Authed) -> JobStatus:
        own_job(job_id, who)
        job = store.request_cancel(who.tenant_id, job_id)
        if job is None:
            raise ApiError(404, f"job {job_id!r} not found")
        if job.state in (JobState.COMPLETE, JobState.EXECUTOR_ERROR, JobState.SYSTEM_ERROR):
            raise ApiError(409, f"job {job_id} has already ended ({job.state.value})")
        return _status(job)

    @app.get(
        "/v1/jobs/{job_id}/results", tags=["jobs"], responses=_ERRORS, response_model=dict[str, Any]
    )
    def results(job_id: str, who: Authed) -> Response:
        job = own_job(job_id, who)
        if job.state != JobState.COMPLETE:
            why = f": {job.error}" if job.error else ""
            raise ApiError(
                409, f"job {job_id} is {job.state.value}{why}; results exist once it is COMPLETE"
            )
        folder = artifacts_dir(settings, job)
        path = folder / RESULTS_FILE if folder else None
        if path is None or not path.is_file():
            raise ApiError(500, f"job {job_id} is COMPLETE but its results file is missing")
        return Response(path.read_bytes(), media_type="application/json")

    @app.get(
        "/v1/jobs/{job_id}/artifacts", response_model=ArtifactList, tags=["jobs"], responses=_ERRORS
    )
    def list_artifacts(job_id: str, who: Authed) -> ArtifactList:
        job = own_job(job_id, who)
        folder = _terminal_folder(job)
        items = []
        if folder is not None and folder.is_dir():
            for p in sorted(folder.rglob("*")):
                if p.is_file() and not p.is_symlink():
                    name = p.relative_to(folder).as_posix()
                    items.append(
                        Artifact(name=name, size=p.stat().st_size, media_type=_media_type(name))
                    )
        return ArtifactList(job_id=job.id, artifacts=items)

    @app.get(
        "/v1/jobs/{job_id}/artifacts/{name:path}",
        tags=["jobs"],
        responses=_ERRORS,
        response_class=FileResponse,
    )
    def get_artifact(job_id: str, name: str, who: Authed) -> FileResponse:
        job = own_job(job_id, who)
        folder = _terminal_folder(job)
        if folder is None:
            raise ApiError(404, f"artifact {name!r} not found")
        root = folder.resolve()
        target = (folder / name).resolve()
        if root not in target.parents or not target.is_file():
            raise ApiError(404, f"artifact {name!r} not found")
        return FileResponse(target, media_type=_media_type(name), filename=target.name)

    def _terminal_folder(job: Job) -> Path | None:
        if job.state not in TERMINAL:
            raise ApiError(
                409, f"job {job.id} is {job.state.value}; artifacts are listed once it has ended"
            )
        return artifacts_dir(settings, job)

    return app


def _idempotency_conflict(job_id: str) -> ApiError:
    # IETF draft "The Idempotency-Key HTTP Header Field": reuse with another payload → 422.
    return ApiError(422, f"Idempotency-Key was already used for a different request (job {job_id})")


def _parse_options(raw: str, limit: int) -> dict[str, Any]:
    if len(raw.encode()) > limit:
        raise ApiError(413, f"options are larger than {limit} bytes")
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise ApiError(
            422, f"options: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ApiError(422, "options: JSON nested too deeply") from None
    except ValueError:  # an integer beyond Python's limit of digits (the only other failure)
        raise ApiError(
            422, f"options: a number has more than {sys.get_int_max_str_digits()} digits"
        ) from None
    if not isinstance(value, dict):
        raise ApiError(422, f"options: expected a JSON object, found {type(value).__name__}")
    for key in RESERVED_OPTIONS:
        if key in value:
            raise ApiError(422, f"options: {key!r} is set by the service operator, not by a job")
    return value


def _media_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0]
    if name.endswith((".yaml", ".yml")):
        return "application/yaml"
    return guessed or "application/octet-stream"
