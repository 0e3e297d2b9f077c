"""Where FFCx/dolfinx put compiled forms, and removal of locks left behind by killed compiles.

FFCx takes a lock by creating ``<module>.c`` exclusively and releases it by writing
``<module>.c.cached`` after the C compiler finished. A worker killed mid-compile leaves the
``.c`` without ``.c.cached``, and every later process waits for it until the JIT timeout.
Pure Python (no dolfinx import): worker initializers call it before anything is compiled.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

#: A lock older than this (seconds) with no finished module is taken as stale.
STALE_S = float(os.environ.get("VFACTORY_JIT_STALE_S", "60"))
#: How long a process waits for another's compile before cleaning and compiling itself.
WAIT_S = int(float(os.environ.get("VFACTORY_JIT_WAIT_S", "60")))


def jit_dir() -> Path:
    """The JIT cache directory: ``$VFACTORY_JIT_DIR``, else dolfinx's default (~/.cache/fenics)."""
    env = os.environ.get("VFACTORY_JIT_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fenics"


def remove_stale_locks(
    cache_dir: str | Path | None = None, older_than_s: float | None = None
) -> list[Path]:
    """Delete unfinished-compile locks older than ``older_than_s``; returns the removed files."""
    d = Path(cache_dir) if cache_dir is not None else jit_dir()
    limit = STALE_S if older_than_s is None else older_than_s
    removed: list[Path] = []
    if not d.is_dir():
        return removed
    now = time.time()
    for c in d.glob("*.c"):
        if c.with_suffix(".c.cached").exists():
            continue
        try:
            if now - c.stat().st_mtime < limit:
                continue  # probably a compile in progress in another process
            c.unlink()
            removed.append(c)
        except FileNotFoundError:  # another worker cleaned it first
            continue
        # Half-built objects of the dead compile would be reused by cffi: remove them too.
        for leftover in d.glob(c.stem + ".*"):
            if leftover.suffix in (".o", ".so") or leftover.name.endswith(".so"):
                leftover.unlink(missing_ok=True)
    return removed
