"""get_executor: spec strings, the VFACTORY_CLUSTER variable, clear errors, light import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cluster import ClusterSpecError, get_executor, parse_spec
from cluster.local import LocalExecutor, default_workers


@pytest.mark.parametrize(
    ("spec", "backend", "opts"),
    [
        ("local", "local", {}),
        ("local:4", "local", {"n_workers": 4}),
        (" LOCAL:2 ", "local", {"n_workers": 2}),
        ("ray", "ray", {"address": None}),
        ("ray:local", "ray", {"address": None}),
        ("ray:auto", "ray", {"address": "auto"}),
        ("ray://head.example:10001", "ray", {"address": "ray://head.example:10001"}),
        ("ray://10.0.0.5", "ray", {"address": "ray://10.0.0.5"}),
        ("dask", "dask", {"address": None}),
        ("dask:local", "dask", {"address": None}),
        ("tcp://sched.example:8786", "dask", {"address": "tcp://sched.example:8786"}),
        ("tls://10.1.2.3:8786", "dask", {"address": "tls://10.1.2.3:8786"}),
    ],
)
def test_accepted_specs(spec, backend, opts):
    assert parse_spec(spec) == (backend, opts)


@pytest.mark.parametrize(
    "spec",
    [
        "locale",
        "local:0",
        "local:-1",
        "ray:",
        "spark://x:7077",
        "tcp://",
        "http://sched:8786",
        "daskk",
    ],
)
def test_unknown_spec_lists_accepted_forms(spec):
    with pytest.raises(ClusterSpecError) as info:
        parse_spec(spec)
    text = str(info.value)
    assert repr(spec) in text
    if spec != "local:0":
        for form in ("local:N", "ray:auto", "ray://HOST:PORT", "tcp://HOST:PORT"):
            assert form in text


def test_env_var_selects_backend_and_argument_wins(monkeypatch):
    monkeypatch.setenv("VFACTORY_CLUSTER", "local:3")
    ex = get_executor()  # no pool starts until the first task
    assert isinstance(ex, LocalExecutor) and ex.n_workers == 3
    assert get_executor("local:1").n_workers == 1
    monkeypatch.setenv("VFACTORY_CLUSTER", "")
    assert get_executor().n_workers == default_workers()
    monkeypatch.delenv("VFACTORY_CLUSTER")
    assert get_executor().n_workers == default_workers()


def test_bad_env_var_names_its_source(monkeypatch):
    monkeypatch.setenv("VFACTORY_CLUSTER", "yarn")
    with pytest.raises(ClusterSpecError, match=r"\$VFACTORY_CLUSTER"):
        get_executor()


def test_options_reach_the_backend():
    ex = get_executor("local:2", max_tasks_per_child=5)
    assert ex._max_tasks == 5


def test_package_import_does_not_import_engines():
    code = (
        "import sys, cluster; cluster.get_executor('local:1'); "
        "bad = [m for m in ('ray', 'distributed', 'dask', 'numpy') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
