"""Process physics for the line: layout values bound to solver outputs, and the result cache.

Never imports dolfinx: solves run in spawned workers (solvers.worker), behind the content-hash
cache. ``resolve(factory)`` runs a layout's ``physics`` solves and writes its ``bindings`` in.
"""

from vfactory.physics.binding import PhysicsError, Resolved, resolve
from vfactory.physics.cache import cache_key, cached_solve, default_cache_dir
from vfactory.physics.expr import ExpressionError

__all__ = [
    "ExpressionError",
    "PhysicsError",
    "Resolved",
    "cache_key",
    "cached_solve",
    "default_cache_dir",
    "resolve",
]
