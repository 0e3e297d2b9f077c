"""One trial: a scenario (the layout with overrides) → physics (cached) → replications → KPIs.

``evaluate_task`` takes and returns plain data, so it runs in any ``cluster`` worker (spawn-safe).
"""

from __future__ import annotations

from typing import Any

from ..layout import from_dict, override
from ..sim import run


def scenario(layout_data: dict, overrides: dict[str, Any]):
    """The validated scenario: layout + decision-variable values, with physics bindings resolved."""
    factory = override(from_dict(layout_data), overrides) if overrides else from_dict(layout_data)
    if getattr(factory, "physics", None) or getattr(factory, "bindings", None):
        from ..physics import resolve

        factory = resolve(factory).factory
    return factory


def evaluate_task(item: dict) -> dict:
    """{layout, overrides, replications, seed, kpis} -> {kpi: {mean, half_width, values}}."""
    factory = scenario(item["layout"], item.get("overrides") or {})
    result = run(factory, replications=item["replications"], seed=item.get("seed"))
    out = {}
    for k in item["kpis"]:
        est = result[k]
        out[k] = {
            "mean": est.mean,
            "half_width": est.half_width,
            "values": [row[k] for row in result.per_replication],
        }
    out["_bottleneck"] = result.bottleneck
    return out
