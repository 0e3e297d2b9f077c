"""Registry of job kinds: kind name → function that runs one job in a worker's child process.

A kind is ``fn(job_dir, layout_path, options, progress) -> dict``: it reads the layout (attachments
sit next to it), writes any artifacts into ``job_dir``, reports ``progress(stage, percent)`` and
returns the results (JSON-able), which the worker stores as ``results.json``.

Kinds are registered as functions or as ``"module:function"`` strings resolved on first use, so a
kind whose implementation is missing on this server is simply *unavailable* (the API answers 422)
rather than an import error. Extra kinds can come from ``VFACTORY_KINDS`` =
``name=module:function,name2=module:function`` (read by the service and the workers alike).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .settings import MIN_JOB_TIMEOUT_S

Progress = Callable[[str, float], None]
KindFn = Callable[[Path, Path, dict[str, Any], Progress], dict[str, Any]]

KNOWN_KINDS = ("simulate", "physics", "optimize", "schedule", "recommend", "calibrate")


class KindUnavailable(LookupError):
    """The kind is unknown or its implementation cannot be loaded on this server."""


_lock = threading.Lock()
_registry: dict[str, KindFn | str] = {}
_resolved: dict[str, KindFn | None] = {}
_env_loaded: str | None = None


def register(name: str, fn: KindFn | str) -> None:
    """Register (or replace) a kind; ``fn`` is a function or a ``"module:function"`` path."""
    with _lock:
        _registry[name] = fn
        _resolved.pop(name, None)


def _load_env() -> None:
    global _env_loaded
    spec = os.environ.get("VFACTORY_KINDS", "")
    if spec == _env_loaded:
        return
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, sep, target = item.partition("=")
        if not sep or ":" not in target:
            raise ValueError(f"VFACTORY_KINDS entry {item!r}: expected name=module:function")
        register(name.strip(), target.strip())
    _env_loaded = spec


def _resolve(name: str) -> KindFn | None:
    with _lock:
        if name in _resolved:
            return _resolved[name]
        target = _registry.get(name)
    fn: KindFn | None
    if target is None:
        fn = None
    elif isinstance(target, str):
        module, _, attr = target.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            fn = None
    else:
        fn = target
    with _lock:
        _resolved[name] = fn
    return fn


def available() -> list[str]:
    """Kinds this server can run, sorted."""
    _load_env()
    with _lock:
        names = list(_registry)
    return sorted(n for n in names if _resolve(n) is not None)


def get(name: str) -> KindFn:
    """The kind's function, or KindUnavailable with a message naming the available kinds."""
    _load_env()
    fn = _resolve(name)
    if fn is None:
        avail = ", ".join(available()) or "none"
        if name in KNOWN_KINDS or name in _registry:
            raise KindUnavailable(
                f"kind {name!r} is not available on this server; available: {avail}"
            )
        raise KindUnavailable(f"unknown kind {name!r}; available: {avail}")
    return fn


# Options of every kind: read by the worker, never handed to the kind's function.
JOB_OPTIONS = ("timeout_s",)


def kind_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options that go to the kind's function (``options`` without JOB_OPTIONS)."""
    return {k: v for k, v in options.items() if k not in JOB_OPTIONS}


def time_limit_s(options: dict[str, Any], operator_limit_s: float) -> float:
    """Wall-clock seconds one attempt of the job may run: the job's ``timeout_s`` when it asks
    for less than the operator's limit, else the operator's limit (lowered, never raised)."""
    asked = options.get("timeout_s")
    if isinstance(asked, (int, float)) and not isinstance(asked, bool) and asked > 0:
        # min() first: a huge int compares exactly, where float() of it would overflow
        return float(min(asked, operator_limit_s))
    return operator_limit_s


def shown(value: Any, limit: int = 40) -> str:
    """``value`` as a message shows it: in JSON spelling (true, null, NaN, "text"), since that is
    how the tenant wrote it, shortened to about ``limit`` characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):  # not JSON-able, or an int beyond Python's digit limit
        return f"a {type(value).__name__}"
    if len(text) <= limit:
        return text
    head = text[: limit - 12]
    digits = len(text.lstrip("-"))
    return f"{head}… ({digits} digits)" if isinstance(value, int) else f"{head}…"


def check_options(
    name: str, options: dict[str, Any], max_timeout_s: float | None = None
) -> None:
    """Refuse options a kind cannot use (ValueError naming the option), before a job is queued.
    ``timeout_s`` (every kind) must be a finite number of seconds, at least MIN_JOB_TIMEOUT_S and
    at most ``max_timeout_s``."""
    if "timeout_s" in options:
        value = options["timeout_s"]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not value >= MIN_JOB_TIMEOUT_S  # also refuses NaN
            or (isinstance(value, float) and math.isinf(value))
        ):
            raise ValueError(
                "options.timeout_s: expected a positive number of seconds (at least"
                f" {MIN_JOB_TIMEOUT_S:g}), found {shown(value)}"
            )
        if max_timeout_s is not None and value > max_timeout_s:
            raise ValueError(
                f"options.timeout_s: {shown(value)} s is above this service's limit of"
                f" {max_timeout_s:g} s per job; ask for at most that"
            )
    check = _OPTION_CHECKS.get(name)
    if check is not None:
        check(kind_options(options))


def _check_simulate_options(options: dict[str, Any]) -> None:
    allowed = {"replications": 1, "seed": 0}  # name → smallest value
    for key, value in options.items():
        if key not in allowed:
            raise ValueError(
                f"options.{key}: unknown option of kind 'simulate'; known: "
                + ", ".join(sorted(allowed))
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < allowed[key]:
            raise ValueError(
                f"options.{key}: expected an integer >= {allowed[key]}, found {shown(value)}"
            )


def _checker(kind: str, ints: dict[str, int], texts: tuple[str, ...] = (), required: tuple[str, ...] = ()):
    """Options of a pipeline kind: integers with a smallest value, attachment names, required ones."""

    def check(options: dict[str, Any]) -> None:
        for key in required:
            if key not in options:
                raise ValueError(f"options.{key}: kind {kind!r} needs it (the name of an attachment)")
        for key, value in options.items():
            if key in ints:
                if isinstance(value, bool) or not isinstance(value, int) or value < ints[key]:
                    raise ValueError(f"options.{key}: expected an integer >= {ints[key]}, found {shown(value)}")
            elif key in texts:
                if not isinstance(value, str) or not value or "/" in value or "\\" in value:
                    raise ValueError(f"options.{key}: expected the file name of an attachment, found {shown(value)}")
            else:
                known = ", ".join(sorted([*ints, *texts])) or "none"
                raise ValueError(f"options.{key}: unknown option of kind {kind!r}; known: {known}")

    return check


_OPTION_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "simulate": _check_simulate_options,
    "recommend": _checker("recommend", {"replications": 2, "trials": 1}, ("orders",)),
    "optimize": _checker("optimize", {"replications": 2, "trials": 1}),
    "schedule": _checker("schedule", {}, ("orders",), required=("orders",)),
    "physics": _checker("physics", {}),
    "calibrate": _checker("calibrate", {}, ("log", "mode"), required=("log",)),
}


# --- built-in kinds ---


def simulate(job_dir: Path, layout_path: Path, options: dict[str, Any], progress: Progress) -> dict:
    """Line simulation: ``vfactory.sim.run`` on the uploaded layout. Options: replications, seed;
    replications fan out on the worker's cluster executor when the worker has one."""
    from vfactory import layout as layout_pkg
    from vfactory import sim

    progress("loading layout", 0.0)
    factory = layout_pkg.load(layout_path)
    if factory.physics or factory.bindings:
        from vfactory.physics import resolve

        progress("physics", 0.5)
        factory = resolve(factory).factory
    progress("simulating", 1.0)

    def on_progress(done: int, total: int) -> None:
        progress(f"replication {done}/{total}", 1.0 + 98.0 * done / max(total, 1))

    spec = options.get("cluster")  # set by the worker's operator (vfactory worker --cluster)
    if spec:
        from cluster import get_executor

        with get_executor(spec) as executor:
            result = sim.run(
                factory,
                replications=options.get("replications"),
                seed=options.get("seed"),
                progress=on_progress,
                executor=executor,
            )
    else:
        result = sim.run(
            factory,
            replications=options.get("replications"),
            seed=options.get("seed"),
            progress=on_progress,
        )
    progress("writing results", 99.0)
    out = result.to_dict()
    out["executor"] = spec or "in-process"  # provenance: where the replications ran
    return out


def _simulate_available() -> KindFn | None:
    try:
        importlib.import_module("vfactory.sim")
        importlib.import_module("vfactory.layout")
    except ImportError:
        return None
    return simulate


register("simulate", "vfactory.api.kinds:_simulate_entry")
for _name in ("physics", "optimize", "schedule", "recommend", "calibrate"):
    # The pipeline module provides these when it exists: vfactory.pipeline.<name>_kind.
    register(_name, f"vfactory.pipeline:{_name}_kind")


def __getattr__(attr: str) -> Any:
    # ``_simulate_entry`` resolves only when vfactory.sim and vfactory.layout are importable.
    if attr == "_simulate_entry":
        fn = _simulate_available()
        if fn is None:
            raise AttributeError(attr)
        return fn
    raise AttributeError(attr)
