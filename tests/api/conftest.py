"""Fixtures of the job-API tests: services on SQLite and on a throwaway PostgreSQL cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .helpers import Service


@pytest.fixture(scope="session")
def sqlite_service(tmp_path_factory) -> Iterator[Service]:
    """Shared service on SQLite: one server and `vfactory worker --processes 2`."""
    svc = Service(tmp_path_factory.mktemp("svc-sqlite"))
    try:
        svc.start_server()
        svc.start_worker(processes=2)
        yield svc
    finally:
        svc.stop()


@pytest.fixture
def fresh_service(tmp_path) -> Iterator[Service]:
    """A service of the test's own (nothing started yet) for tests that kill processes."""
    svc = Service(tmp_path)
    try:
        yield svc
    finally:
        svc.stop()


@pytest.fixture(scope="session")
def postgres_service(postgres_url, tmp_path_factory) -> Iterator[Service]:
    svc = Service(tmp_path_factory.mktemp("svc-pg"), db_url=postgres_url)
    try:
        svc.start_server()
        svc.start_worker()
        svc.start_worker()
        yield svc
    finally:
        svc.stop()
