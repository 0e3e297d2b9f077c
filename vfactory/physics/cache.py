"""Content-hash cache of solver results: a repeated point costs a file read, not a solve.

Key = sha256 of (solver name, solver VERSION, canonical JSON of the parameters with every
referenced file replaced by the sha256 of its bytes). Entries are small JSON files under
``$VFACTORY_CACHE_DIR`` (default ``~/.cache/vfactory/physics``), sharded by the first two hex
digits, written atomically (temporary file + rename) so concurrent workers never see half a file.
Never imports dolfinx: by default a miss is solved in a spawned worker.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Runner = Callable[[str, dict[str, Any]], dict[str, Any]]


def default_cache_dir() -> Path:
    env = os.environ.get("VFACTORY_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vfactory" / "physics"


def _canonical(obj: Any, where: str = "params") -> Any:
    """Plain JSON data with numbers as float reprs (so 1 and 1.0 hash alike) and sorted keys."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int | float):
        f = float(obj)
        if not math.isfinite(f):
            raise ValueError(f"{where}: {obj!r} is not a finite number")
        return repr(f)
    if isinstance(obj, dict):
        return {
            str(k): _canonical(v, f"{where}.{k}")
            for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))
        }
    if isinstance(obj, list | tuple):
        return [_canonical(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if hasattr(obj, "item"):  # numpy scalar
        return _canonical(obj.item(), where)
    raise ValueError(f"{where}: {type(obj).__name__} is not plain data (JSON types only)")


def _with_file_digests(obj: Any) -> Any:
    """Replace ``file`` paths by the sha256 of the file's bytes (same mesh, same key)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "file" and isinstance(v, str):
                try:
                    out[k] = "sha256:" + hashlib.sha256(Path(v).read_bytes()).hexdigest()
                except OSError as exc:
                    raise ValueError(f"{v}: cannot read referenced file ({exc.strerror})") from None
            else:
                out[k] = _with_file_digests(v)
        return out
    if isinstance(obj, list | tuple):
        return [_with_file_digests(v) for v in obj]
    return obj


def _version(name: str) -> str:
    from solvers.params import VERSIONS  # pure Python; no dolfinx

    try:
        return VERSIONS[name]
    except KeyError:
        raise ValueError(f"unknown solver {name!r}; known: {', '.join(sorted(VERSIONS))}") from None


def cache_key(name: str, params: dict[str, Any], version: str | None = None) -> str:
    """The hex sha256 identifying (solver, version, params, referenced file contents)."""
    doc = {
        "solver": name,
        "version": version or _version(name),
        "params": _canonical(_with_file_digests(params)),
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _entry_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def _outputs_missing(params: dict[str, Any]) -> bool:
    """A result whose requested field file (xdmf) is gone must be recomputed to re-create it."""
    path = params.get("xdmf") if isinstance(params, dict) else None
    return bool(path) and not Path(str(path)).exists()


def _write_atomic(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, allow_nan=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def lookup(
    name: str, params: dict[str, Any], cache_dir: str | Path | None = None
) -> dict[str, Any] | None:
    """The cached result or None (a corrupt entry counts as a miss)."""
    d = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = _entry_path(d, cache_key(name, params))
    try:
        doc = json.loads(path.read_text())
        return dict(doc["result"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cached_solve(
    name: str,
    params: dict[str, Any],
    cache_dir: str | Path | None = None,
    runner: Runner | None = None,
) -> dict[str, Any]:
    """The solver's result for ``params``, from the cache when possible.

    The returned dict is the solver's output plus ``"cached"`` (True if read from disk) and
    ``"cache_key"``. ``runner(name, params) -> dict`` does the solve on a miss (default:
    solvers.worker.solve_in_subprocess, so this process never imports dolfinx).
    """
    d = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = cache_key(name, params)
    path = _entry_path(d, key)
    if not _outputs_missing(params):
        hit = lookup(name, params, d)
        if hit is not None:
            return {**hit, "cached": True, "cache_key": key}
    if runner is None:
        from solvers.worker import solve_in_subprocess

        runner = solve_in_subprocess
    t0 = time.perf_counter()
    result = runner(name, params)
    elapsed = time.perf_counter() - t0
    _write_atomic(
        path,
        {
            "solver": name,
            "version": _version(name),
            "params": params,
            "result": result,
            "solve_s": elapsed,
            "created": time.time(),
        },
    )
    return {**result, "cached": False, "cache_key": key}
