"""File paths in results.json: written relative, so a results folder can be moved, copied or
downloaded from the API and still find its files (SCHEMA.md, "Paths").

A file inside the results folder is stored relative to that folder (``fields/furnace.xdmf``,
``study.db``); a data file of the layout (a mesh it names) relative to the layout's folder, as the
layout names it. ``resolve`` turns a stored path back into one a program can open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SQLITE = "sqlite:///"


def relative_paths(node: Any, results_dir: Path | str, layout_dir: Path | str | None = None) -> Any:
    """``node`` (results data) with every absolute path inside ``results_dir`` made relative to it
    and every one inside ``layout_dir`` relative to that; a ``sqlite:///`` URL of a file inside
    the results folder becomes the file's relative path. Anything else is returned as it is."""
    bases = [Path(results_dir).resolve()]
    if layout_dir is not None:
        layout = Path(layout_dir).resolve()
        if layout.parent != layout:  # never the file-system root: it holds every path
            bases.append(layout)
    return _walk(node, bases)


def _walk(node: Any, bases: list[Path]) -> Any:
    if isinstance(node, dict):
        return {k: _walk(v, bases) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(v, bases) for v in node]
    if isinstance(node, str):
        return _relative(node, bases)
    return node


def _relative(text: str, bases: list[Path]) -> str:
    is_url = text.startswith(SQLITE)
    raw = text[len(SQLITE) :] if is_url else text
    if not raw.startswith("/") or "\n" in raw:
        return text
    path = Path(raw)
    for i, base in enumerate(bases):
        if is_url and i > 0:  # a database beside the layout is the user's, named as they gave it
            break
        try:
            return path.resolve().relative_to(base).as_posix()
        except (ValueError, OSError):
            continue
    return text


def resolve(stored: str, results: Path | str) -> str:
    """A path read from results.json, made usable: a relative path joined to the folder of the
    results file (``results`` is that file or its folder); an absolute path or a URL unchanged.

    >>> resolve("study.db", "/data/copy/results.json")
    '/data/copy/study.db'
    """
    if "://" in stored or Path(stored).is_absolute():
        return stored
    base = Path(results)
    if base.suffix == ".json":
        base = base.parent
    return str(base / stored)


def storage_url(stored: str, results: Path | str) -> str:
    """The Optuna storage URL of ``optimization.storage`` (a database URL, or an SQLite file,
    relative to the results folder when it lies inside it)."""
    if "://" in stored:
        return stored
    return f"{SQLITE}{Path(resolve(stored, results)).resolve()}"
