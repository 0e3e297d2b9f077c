"""One trial: a scenario (the layout with overrides) → physics (cached) → replications → KPIs.

``evaluate_task`` takes and returns plain data, so it runs in any ``cluster`` worker (spawn-safe).
"""

from __future__ import annotations

from typing import Any

from ..layout import from_dict, override
from ..sim import run


def scenario(layout_data: dict, overrides: dict[str, Any], surrogate: dict | None = None, inprocess: bool = False):
    """The validated scenario: layout + decision-variable values, with physics bindings resolved
    (by the real solvers, or by a surrogate's predictions when one is given)."""
    factory = override(from_dict(layout_data), overrides) if overrides else from_dict(layout_data)
    if factory.physics or factory.bindings:
        from ..physics import resolve

        outputs = None
        if surrogate is not None:
            from .surrogate import predictor

            outputs = predictor(surrogate).predict(factory.parameters)
        factory = resolve(factory, outputs=outputs, inprocess=inprocess).factory
    return factory


def evaluate_task(item: dict) -> dict:
    """{layout, overrides, replications, seed, kpis} -> {kpi: {mean, half_width, values}}."""
    factory = scenario(
        item["layout"], item.get("overrides") or {}, item.get("surrogate"), item.get("inprocess", False)
    )
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
