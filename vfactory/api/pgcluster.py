"""A throwaway local PostgreSQL cluster (for tests, benchmarks and trying the service on
PostgreSQL): ``initdb`` in a temp folder, listening on 127.0.0.1 and a free port, trust auth, no
fsync, removed on exit. Needs the server binaries (Debian: ``apt-get install postgresql``). As root
it runs the cluster as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


def _bindir() -> Path:
    configured = os.environ.get("VFACTORY_PG_BIN")
    if configured:
        return Path(configured)
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found (Debian: apt-get install postgresql;"
        " or set VFACTORY_PG_BIN to the folder holding initdb and pg_ctl)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def throwaway_cluster(max_connections: int = 200) -> Iterator[str]:
    """Start a cluster; yields an SQLAlchemy URL of its database ``vfactory`` (superuser ``vf``)."""
    bindir = _bindir()
    base = Path(tempfile.mkdtemp(prefix="vfactory-pg-"))
    data = base / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, text=True, timeout=120)

    started = False
    try:
        run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "vf",
            "--no-sync",
            "-E",
            "UTF8",
        )
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-k {base} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
            f" -c max_connections={max_connections}",
            "start",
        )
        started = True
        create_database(f"postgresql+psycopg://vf@127.0.0.1:{port}/postgres", "vfactory")
        yield f"postgresql+psycopg://vf@127.0.0.1:{port}/vfactory"
    finally:
        if started:
            with contextlib.suppress(Exception):
                run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def create_database(url: str, name: str | None = None) -> str:
    """Create a database (a fresh random name by default) on the server of ``url``; its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = name or f"db_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        host=base.host, port=base.port, user=base.username, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)
