"""results.json → report.html (self-contained: inline CSS and images, no network)."""

from __future__ import annotations

import html
import json
from pathlib import Path


def write_report(results: dict, workdir: Path) -> Path:
    """Write ``workdir/report.html`` from the results dict; returns its path."""
    path = Path(workdir) / "report.html"
    body = html.escape(json.dumps(results.get("baseline", {}).get("kpis", {}), indent=1)[:20000])
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(results['layout']['name'])}"
                    f"</title></head><body><h1>{html.escape(results['layout']['name'])}</h1><pre>{body}</pre></body></html>")
    return path
