"""results.json → report.html (self-contained: inline CSS and images, no scripts, no network),
and the versioned schema of results.json (``SCHEMA.md``, ``results.schema.json``)."""

from __future__ import annotations

from pathlib import Path

from .page import document
from .schema import SCHEMA_VERSION, load_schema, validate

__all__ = ["SCHEMA_VERSION", "load_schema", "render_report", "validate", "write_report"]


def render_report(results: dict, workdir: Path | str = ".") -> str:
    """The report page as an HTML string. Sections missing from ``results`` are left out."""
    return document(results, Path(workdir))


def write_report(results: dict, workdir: Path | str) -> Path:
    """Write ``workdir/report.html`` from the results dict; returns its path."""
    path = Path(workdir) / "report.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render_report(results, workdir), encoding="utf-8")
    tmp.replace(path)
    return path
