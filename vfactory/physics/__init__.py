"""Process physics for the line: the on-disk result cache of solver runs (bindings come later).

Never imports dolfinx: solves run in spawned workers (solvers.worker).
"""

from vfactory.physics.cache import cache_key, cached_solve, default_cache_dir

__all__ = ["cache_key", "cached_solve", "default_cache_dir"]
