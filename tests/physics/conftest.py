"""Every physics test gets its own result cache: nothing depends on (or fills) a user's cache."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_result_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VFACTORY_CACHE_DIR", str(tmp_path / "physics-cache"))
