"""CLI commands of the job API: serve, worker, token, submit, status, results, cancel.

``register(app)`` adds them to the project's Typer app; ``python -m vfactory.api`` runs them alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .settings import MIN_JOB_TIMEOUT_S

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db-url",
        envvar="VFACTORY_DB_URL",
        help="Job database: sqlite:///path.db or postgresql+psycopg://user@host/db "
        "(default: SQLite file in the data folder).",
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="VFACTORY_DATA_DIR",
        help="Folder for uploads and artifacts, created if missing (default: ./vfactory-data).",
    ),
]
Url = Annotated[str, typer.Option("--url", envvar="VFACTORY_URL", help="Service URL.")]
JobTimeout = Annotated[
    float | None,
    typer.Option(
        "--job-timeout",
        envvar="VFACTORY_JOB_TIMEOUT_S",
        min=MIN_JOB_TIMEOUT_S,
        help="Wall-clock seconds a job may run before its worker stops it; it then ends "
        "EXECUTOR_ERROR 'time limit of N s exceeded' and keeps the files written so far. A job "
        "may ask for less (option timeout_s), never more. The server records its limit in each "
        "job; a worker enforces the lower of that and its own. Default 21600 (6 h).",
    ),
]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="VFACTORY_TOKEN", help="Bearer token of your tenant."),
]


def _settings(db_url: str | None, data_dir: Path | None, **extra: Any) -> Any:
    from .settings import Settings

    try:
        return Settings.from_env(db_url=db_url, data_dir=data_dir, **extra)
    except ValueError as exc:  # a bad setting is the operator's to fix: a usage error
        _fail(str(exc), 2)


def _make_data_dir(settings: Any) -> None:
    """Create the data folder (and its jobs folder) if needed: server and workers may start in
    either order. A path that cannot be a folder is the operator's to fix: exit 2."""
    for folder in (settings.data_dir, settings.jobs_dir):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _fail(f"cannot create the data folder {folder}: {exc.strerror or exc}", 2)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _client(url: str, token: str | None) -> Any:
    from vfactory.client import Client, ClientError

    try:
        return Client(url, token)
    except ClientError as exc:
        _fail(exc.message)


def _guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    from vfactory.client import ClientError

    try:
        return fn(*args, **kwargs)
    except ClientError as exc:  # 4xx: the request (the user's input) was refused -> exit 2
        status = getattr(exc, "status", None) or 0
        _fail(str(exc), 2 if 400 <= status < 500 else 1)
    except TimeoutError as exc:
        _fail(str(exc), 2)


def register(app: typer.Typer) -> None:
    """Add the job-API commands (and the ``token`` group) to ``app``."""

    @app.command(help="Run the job API service (uvicorn). Listens on 127.0.0.1 unless told.")
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        db_url: DbUrl = None,
        data_dir: DataDir = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
        job_timeout: JobTimeout = None,
    ) -> None:
        import uvicorn

        from .app import create_app

        settings = _settings(db_url, data_dir, host=host, port=port, job_timeout_s=job_timeout)
        _make_data_dir(settings)
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=log_level,
            timeout_graceful_shutdown=5,
        )

    @app.command(help="Run worker processes that claim queued jobs and run them.")
    def worker(
        processes: Annotated[int, typer.Option(min=1, help="Worker processes (one job each).")] = 1,
        cluster: Annotated[
            str | None,
            typer.Option(
                help="Executor spec handed to the job kinds as option 'cluster' "
                "(e.g. local, ray://host:10001, tcp://dask-scheduler:8786)."
            ),
        ] = None,
        db_url: DbUrl = None,
        data_dir: DataDir = None,
        job_timeout: JobTimeout = None,
    ) -> None:
        from .worker import run_workers

        settings = _settings(db_url, data_dir, job_timeout_s=job_timeout)
        _make_data_dir(settings)
        run_workers(settings, processes=processes, cluster=cluster)

    token_app = typer.Typer(help="Manage tenant tokens (stored hashed; shown once).")

    @token_app.command("create", help="Create a token for a tenant (created if new); prints it.")
    def token_create(
        tenant: Annotated[str, typer.Option(help="Tenant (company) name.")],
        rate: Annotated[
            float | None, typer.Option(help="Requests per second for this token.")
        ] = None,
        burst: Annotated[int | None, typer.Option(help="Burst size for this token.")] = None,
        db_url: DbUrl = None,
        data_dir: DataDir = None,
    ) -> None:
        from .store import Store

        if not 1 <= len(tenant) <= 64 or not tenant.isprintable():
            _fail("--tenant must be 1 to 64 printable characters")
        settings = _settings(db_url, data_dir)
        _make_data_dir(settings)
        store = Store(settings.db_url)
        try:
            typer.echo(store.create_token(tenant, rate_per_s=rate, rate_burst=burst))
        finally:
            store.close()

    @token_app.command("revoke", help="Revoke every token of a tenant.")
    def token_revoke(
        tenant: Annotated[str, typer.Option(help="Tenant name.")],
        db_url: DbUrl = None,
        data_dir: DataDir = None,
    ) -> None:
        from .store import Store

        store = Store(_settings(db_url, data_dir).db_url)
        try:
            typer.echo(f"revoked {store.revoke_tokens(tenant)} token(s)")
        finally:
            store.close()

    app.add_typer(token_app, name="token")

    @app.command(help="Submit a layout (+ attachments) as a job; prints the job id.")
    def submit(
        layout: Annotated[Path, typer.Argument(help="Layout YAML.")],
        attach: Annotated[
            list[Path] | None, typer.Option("--attach", "-a", help="Attachment (repeatable).")
        ] = None,
        kind: Annotated[
            str, typer.Option(help="simulate|physics|optimize|schedule|recommend")
        ] = "simulate",
        option: Annotated[
            list[str] | None,
            typer.Option(
                "--option",
                "-o",
                help="KEY=VALUE kind option (VALUE read as JSON); every kind takes timeout_s, the "
                "job's wall-clock limit in seconds (-o timeout_s=600), at most the service's.",
            ),
        ] = None,
        options_json: Annotated[
            str | None, typer.Option("--options", help="All options as one JSON object.")
        ] = None,
        idempotency_key: Annotated[str | None, typer.Option(help="Idempotency-Key header.")] = None,
        wait: Annotated[bool, typer.Option(help="Wait for the job to end.")] = False,
        timeout: Annotated[float | None, typer.Option(help="Seconds to wait at most.")] = None,
        url: Url = "http://127.0.0.1:8000",
        token: Token = None,
    ) -> None:
        opts = _options(option or [], options_json)
        client = _client(url, token)
        job = _guard(
            client.submit,
            layout,
            attachments=attach or [],
            kind=kind,
            options=opts,
            idempotency_key=idempotency_key,
        )
        typer.echo(job.id)
        if wait:
            st = _guard(job.wait, progress=True, timeout=timeout)
            if st["state"] != "COMPLETE":
                info = _guard(job.info)
                _fail(f"job {job.id} ended {st['state']}: {info.get('error') or ''}".rstrip(": "))

    @app.command(help="Show a job's state, stage and progress.")
    def status(
        job_id: Annotated[str, typer.Argument(help="Job id.")],
        url: Url = "http://127.0.0.1:8000",
        token: Token = None,
    ) -> None:
        st = _guard(_client(url, token).job(job_id).status)
        typer.echo(f"{st['id']} {st['state']} {st['percent']:.1f}% {st['stage']}")

    @app.command(help="Print a job's results JSON, or download all its artifacts.")
    def results(
        job_id: Annotated[str, typer.Argument(help="Job id.")],
        download: Annotated[
            Path | None, typer.Option(help="Folder to save every artifact into.")
        ] = None,
        url: Url = "http://127.0.0.1:8000",
        token: Token = None,
    ) -> None:
        job = _client(url, token).job(job_id)
        if download is not None:
            for p in _guard(job.download, download):
                typer.echo(str(p))
        else:
            json.dump(_guard(job.results), sys.stdout, indent=2)
            typer.echo()

    @app.command(help="Cancel a job (a running job stops within a heartbeat).")
    def cancel(
        job_id: Annotated[str, typer.Argument(help="Job id.")],
        url: Url = "http://127.0.0.1:8000",
        token: Token = None,
    ) -> None:
        st = _guard(_client(url, token).job(job_id).cancel)
        typer.echo(f"{st['id']} {st['state']}")


def _options(pairs: list[str], options_json: str | None) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if options_json:
        try:
            loaded = json.loads(options_json)
        except json.JSONDecodeError as exc:
            _fail(f"--options is not valid JSON: {exc}")
        if not isinstance(loaded, dict):
            _fail("--options must be a JSON object")
        opts.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"--option {pair!r}: expected KEY=VALUE")
        try:
            opts[key] = json.loads(value)
        except json.JSONDecodeError:
            opts[key] = value
    return opts
