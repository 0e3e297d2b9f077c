"""FEniCSx process models. The only package that imports dolfinx, petsc4py and mpi4py.

Importing ``solvers`` itself is cheap and dolfinx-free: the registry validates parameters and
names versions without the finite-element stack; a solver module is imported on first solve
(normally inside a spawned worker, see solvers.worker).

    from solvers import SOLVERS
    SOLVERS["heat_treatment"].solve({...})  # -> dict of plain data
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass
from typing import Any

with contextlib.suppress(ImportError):  # optional: only HDF5-backed XDMF input needs it
    # A pip h5py bundles its own HDF5; imported *after* dolfinx (which loads the system HDF5
    # globally) it binds to the wrong library and fails ("Not a datatype"). Imported first, both
    # work, so meshio can read HDF5-backed .xdmf meshes in a solver process. Every solver module
    # imports this package first, hence before dolfinx.
    import h5py  # noqa: F401

from solvers.params import MODELS, VERSIONS, ParameterError  # noqa: E402


@dataclass(frozen=True)
class Solver:
    """One registered solver: ``solve(params: dict) -> dict`` plus its VERSION."""

    name: str
    module: str
    version: str
    params_model: type

    def validate(self, params: dict[str, Any]) -> Any:
        """The validated parameter model (ParameterError naming the fields otherwise)."""
        from solvers.params import validate

        return validate(self.name, params)

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        """Solve in this process (imports dolfinx). Use solvers.worker to solve in a worker."""
        return importlib.import_module(self.module).solve(params)


SOLVERS: dict[str, Solver] = {
    name: Solver(name, f"solvers.{name}", VERSIONS[name], MODELS[name]) for name in VERSIONS
}


def get(name: str) -> Solver:
    try:
        return SOLVERS[name]
    except KeyError:
        raise ParameterError(
            f"unknown solver {name!r}; known: {', '.join(sorted(SOLVERS))}"
        ) from None


def solve(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Solve ``name`` with ``params`` in this process."""
    return get(name).solve(params)


def referenced_files(params: Any) -> list[str]:
    """Paths of files a parameter set refers to (``file`` keys, e.g. geometry.file)."""
    found: list[str] = []
    if isinstance(params, dict):
        for k, v in params.items():
            if k == "file" and isinstance(v, str):
                found.append(v)
            else:
                found.extend(referenced_files(v))
    elif isinstance(params, list | tuple):
        for v in params:
            found.extend(referenced_files(v))
    return found


__all__ = ["SOLVERS", "Solver", "ParameterError", "get", "solve", "referenced_files"]
