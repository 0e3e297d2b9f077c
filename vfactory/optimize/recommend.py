"""The recommendation: the best point (or the Pareto knee), re-checked with more replications
against the layout's baseline under common random numbers, with CIs, importances and the
constraints that bind."""

from __future__ import annotations

import math
from typing import Any

import optuna

from ..layout import Factory
from ..layout.study import Study
from ..sim.stats import estimate
from .evaluate import evaluate_task
from .space import canonical
from .study import Evaluator

ACTIVE_TOLERANCE = 0.02  # a constraint is reported active within 2 % of its bound


def _feasible(t: optuna.trial.FrozenTrial) -> bool:
    return all(c <= 0 for c in t.user_attrs.get("constraints", []))


def _violation(t: optuna.trial.FrozenTrial) -> float:
    return sum(max(c, 0.0) for c in t.user_attrs.get("constraints", []))


def pareto_front(
    trials: list[optuna.trial.FrozenTrial], directions: list[str]
) -> list[optuna.trial.FrozenTrial]:
    sign = [1 if d == "minimize" else -1 for d in directions]

    def dominates(a, b):
        va = [s * v for s, v in zip(sign, a.values)]
        vb = [s * v for s, v in zip(sign, b.values)]
        return all(x <= y for x, y in zip(va, vb)) and any(x < y for x, y in zip(va, vb))

    front, seen = [], set()
    for t in trials:
        if not any(dominates(o, t) for o in trials if o is not t):
            key = (canonical(t.params), tuple(t.values))  # memo twins of one point appear once
            if key not in seen:
                seen.add(key)
                front.append(t)
    return front


def knee(front: list[optuna.trial.FrozenTrial], directions: list[str]) -> optuna.trial.FrozenTrial:
    """The front point closest to the utopia point after scaling each objective to [0, 1]."""
    if len(front) == 1:
        return front[0]
    k = len(directions)
    lo = [min(t.values[i] for t in front) for i in range(k)]
    hi = [max(t.values[i] for t in front) for i in range(k)]

    def dist(t):
        d = 0.0
        for i, direction in enumerate(directions):
            span = hi[i] - lo[i] or 1.0
            x = (t.values[i] - lo[i]) / span
            d += (x if direction == "minimize" else 1 - x) ** 2
        return d

    return min(front, key=dist)


def baseline_point(factory: Factory, spec: Study) -> dict[str, Any]:
    data = factory.model_dump(mode="json")
    point = {}
    for path in spec.variables:
        node: Any = data
        for key in path.split("."):
            node = node[int(key)] if isinstance(node, list) else node[key]
        point[path] = node
    return point


def recommend(
    factory: Factory, study: optuna.Study, spec: Study | None = None, executor=None
) -> dict:
    """Choose, re-check and explain the recommended point of a finished study (JSON-able dict)."""
    spec = spec or factory.study
    assert spec is not None
    directions = [o.direction for o in spec.objectives]
    complete = [
        t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE
    ]
    if not complete:
        raise ValueError(
            "no trial completed: nothing to recommend (see the trials' errors in the study)"
        )
    feasible = [t for t in complete if _feasible(t)]
    pool = feasible or sorted(complete, key=_violation)[:1]
    surrogate = study.user_attrs.get("surrogate")
    record = study.user_attrs.get("verified", {})
    verified = [t for t in complete if str(t.number) in record]
    if surrogate is not None and verified and len(directions) == 1:
        # the search ran on predictions: choose among candidates checked with the real solver
        ok = [t for t in verified if all(c <= 0 for c in record[str(t.number)]["constraints"])] or verified
        kpi = spec.objectives[0].kpi
        best = (max if directions[0] == "maximize" else min)(ok, key=lambda t: record[str(t.number)]["kpis"][kpi]["mean"])
        front = [best]
    elif len(directions) == 1:
        best = (max if directions[0] == "maximize" else min)(pool, key=lambda t: t.values[0])
        front = [best]
    else:
        front = pareto_front(pool, directions)
        best = knee(front, directions)

    ev = Evaluator(factory, spec)
    base_params = baseline_point(factory, spec)
    tasks = []
    for params in (dict(best.params), {}):
        task = ev.task(params)
        task["replications"] = spec.recheck_replications
        tasks.append(task)
    if executor is None:
        rec_out, base_out = (evaluate_task(t) for t in tasks)
    else:
        outs = executor.run_all(evaluate_task, tasks)
        rec_out, base_out = outs[0], outs[1]

    objectives = []
    for o in spec.objectives:
        r, b = rec_out[o.kpi], base_out[o.kpi]
        diff = estimate(
            [x - y for x, y in zip(r["values"], b["values"])]
        )  # paired: common random numbers
        better = diff.mean > 0 if o.direction == "maximize" else diff.mean < 0
        significant = diff.half_width is not None and abs(diff.mean) > diff.half_width
        objectives.append(
            {
                "kpi": o.kpi,
                "direction": o.direction,
                "recommended": _ci(r),
                "baseline": _ci(b),
                "improvement": {
                    "mean": diff.mean,
                    "ci95": [diff.low, diff.high],
                    "relative": diff.mean / abs(b["mean"]) if b["mean"] else None,
                    "better": bool(better),
                    "significant": bool(significant),
                },
            }
        )
    constraints = []
    for c in spec.constraints:
        r = rec_out[c.kpi]
        lo = r["mean"] - (r["half_width"] or 0)
        hi = r["mean"] + (r["half_width"] or 0)
        for bound, kind in ((c.min, "min"), (c.max, "max")):
            if bound is None:
                continue
            ok = r["mean"] >= bound if kind == "min" else r["mean"] <= bound
            near = (
                abs(r["mean"] - bound) <= ACTIVE_TOLERANCE * max(abs(bound), 1e-12)
                or lo <= bound <= hi
            )
            constraints.append(
                {
                    "kpi": c.kpi,
                    "bound": kind,
                    "value": bound,
                    "recommended": _ci(r),
                    "satisfied": bool(ok),
                    "active": bool(near),
                }
            )
    importances = {}
    if len(complete) >= 3:
        for i, o in enumerate(spec.objectives):
            try:
                imp = optuna.importance.get_param_importances(
                    study,
                    target=(lambda t, i=i: t.values[i]),
                    evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0),
                )
                importances[o.kpi] = {k: float(v) for k, v in imp.items()}
            except (RuntimeError, ValueError, ZeroDivisionError):
                pass
    errors = sorted({t.user_attrs["error"] for t in study.get_trials(deepcopy=False) if "error" in t.user_attrs})
    return {
        "study": study.study_name,
        "errors": errors[:5],
        "trials": {
            "complete": len(complete),
            "feasible": len(feasible),
            "failed": sum(
                t.state == optuna.trial.TrialState.FAIL for t in study.get_trials(deepcopy=False)
            ),
        },
        "feasible": bool(feasible),
        "recommended": {"trial": best.number, "params": dict(best.params)},
        "baseline": {"params": base_params},
        "replications": spec.recheck_replications,
        "seed": factory.factory.seed,
        "objectives": objectives,
        "constraints": constraints,
        "importances": importances,
        "pareto_front": [
            {"trial": t.number, "params": dict(t.params), "values": list(t.values)} for t in front
        ]
        if len(directions) > 1
        else [],
        "bottleneck": rec_out.get("_bottleneck"),
        "surrogate": None if surrogate is None else {
            "kind": surrogate["kind"],
            "inputs": surrogate["inputs"],
            "design_points": len(surrogate["X"]),
            "cv_relative_rmse": surrogate["cv_relative_rmse"],
            "verified_trials": [t.number for t in verified],
            "real_solves": surrogate["real_solves"]
            + len({canonical(t.params) for t in verified}) * len(surrogate["Y"]),
        },
    }


def _ci(out: dict) -> dict:
    hw = out["half_width"]
    m = out["mean"]
    return {"mean": m, "ci95": [m - hw, m + hw] if hw is not None and not math.isnan(m) else None}
