"""Per-process cache of compiled problems (mesh, spaces, JIT-compiled forms, PETSc objects).

Keyed by what changes the compiled code or the mesh topology (solver, geometry kind, cell counts,
degree, boundary layout); every other parameter is a ``fem.Constant`` or Function value updated
in place, so a repeated solve with new parameters costs assembly and solve only.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Protocol

#: Problems kept alive per worker process; the least recently used one is destroyed beyond this.
MAX_PROBLEMS = 16

STATS: dict[str, int] = {"builds": 0, "hits": 0, "evictions": 0}

_problems: OrderedDict[Hashable, Any] = OrderedDict()
_prefix_counter = itertools.count()


class Destroyable(Protocol):
    def destroy(self) -> None: ...


def options_prefix(solver: str) -> str:
    """A unique PETSc options prefix, so no two problems share solver options."""
    return f"vf_{solver}_{next(_prefix_counter)}_"


def get(key: Hashable, build: Callable[[], Destroyable]) -> Any:
    """The cached problem for ``key``, building (and compiling) it on first use."""
    if key in _problems:
        STATS["hits"] += 1
        _problems.move_to_end(key)
        return _problems[key]
    STATS["builds"] += 1
    problem = build()
    _problems[key] = problem
    while len(_problems) > MAX_PROBLEMS:
        _, old = _problems.popitem(last=False)
        STATS["evictions"] += 1
        old.destroy()
    return problem


def clear() -> None:
    """Destroy every cached problem (frees PETSc memory)."""
    while _problems:
        _, p = _problems.popitem()
        p.destroy()
