"""Plots of a study: optimisation history, Pareto front, parameter importances (PNG, matplotlib)."""

from __future__ import annotations

from pathlib import Path

import optuna


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(study: optuna.Study, rec: dict, spec, out: Path) -> list[Path]:
    plt = _plt()
    out.mkdir(parents=True, exist_ok=True)
    files = []
    trials = [
        t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE
    ]
    trials.sort(key=lambda t: t.number)
    for i, o in enumerate(spec.objectives):
        fig, ax = plt.subplots(figsize=(7, 4))
        xs = [t.number for t in trials]
        ys = [t.values[i] for t in trials]
        feas = [all(c <= 0 for c in t.user_attrs.get("constraints", [])) for t in trials]
        ax.scatter(
            [x for x, f in zip(xs, feas) if f],
            [y for y, f in zip(ys, feas) if f],
            s=18,
            label="feasible trial",
        )
        if not all(feas):
            ax.scatter(
                [x for x, f in zip(xs, feas) if not f],
                [y for y, f in zip(ys, feas) if not f],
                s=18,
                marker="x",
                color="grey",
                label="violates a constraint",
            )
        best, line = None, []
        for y, f in zip(ys, feas):
            if f and (best is None or (y > best if o.direction == "maximize" else y < best)):
                best = y
            line.append(best)
        ax.step(xs, line, where="post", color="C3", label="best so far")
        ax.set_xlabel("trial")
        ax.set_ylabel(o.kpi)
        ax.set_title(f"optimisation history ({o.direction})")
        ax.legend()
        fig.tight_layout()
        p = out / f"history_{i}.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        files.append(p)
    if len(spec.objectives) == 2 and trials:
        fig, ax = plt.subplots(figsize=(6, 5))
        ax.scatter(
            [t.values[0] for t in trials],
            [t.values[1] for t in trials],
            s=14,
            color="lightgrey",
            label="trials",
        )
        front = rec.get("pareto_front") or []
        fx = sorted((p["values"][0], p["values"][1]) for p in front)
        if fx:
            ax.plot([a for a, _ in fx], [b for _, b in fx], "o-", color="C0", label="Pareto front")
        knee_no = rec["recommended"]["trial"]
        kt = [t for t in trials if t.number == knee_no]
        if kt:
            ax.scatter(
                [kt[0].values[0]],
                [kt[0].values[1]],
                s=120,
                marker="*",
                color="C3",
                label="recommended (knee)",
            )
        ax.set_xlabel(spec.objectives[0].kpi)
        ax.set_ylabel(spec.objectives[1].kpi)
        ax.legend()
        fig.tight_layout()
        p = out / "pareto.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        files.append(p)
    for kpi, imp in (rec.get("importances") or {}).items():
        if not imp:
            continue
        fig, ax = plt.subplots(figsize=(6, 0.5 + 0.4 * len(imp)))
        names = list(imp)[::-1]
        ax.barh(names, [imp[n] for n in names])
        ax.set_xlabel(f"importance for {kpi} (fANOVA)")
        fig.tight_layout()
        p = out / f"importance_{kpi.replace('.', '_')}.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        files.append(p)
    return files
