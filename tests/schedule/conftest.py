"""Shared fixtures of the scheduling tests: the benchmark instances from ../shared/jsp_instances."""

from __future__ import annotations

import os

import pytest

from vfactory.schedule.instances import instance_dir, read_instance


@pytest.fixture(scope="session")
def jsp_dir():
    d = instance_dir()
    if not (d / "ft06.txt").is_file():
        message = f"benchmark instances not found in {d} (set VFACTORY_JSP_DIR)"
        if os.environ.get("CI"):  # CI has ../shared beside its clone: there they must run
            pytest.fail(message)
        pytest.skip(message)  # a user's machine without the shared instance files
    return d


@pytest.fixture(scope="session")
def load(jsp_dir):
    def _load(name: str):
        return read_instance(jsp_dir / name)

    return _load
