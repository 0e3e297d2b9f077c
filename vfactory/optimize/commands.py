"""``vfactory optimize`` and ``vfactory dashboard``."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def optimize(
        layout: Path = typer.Argument(
            ..., help="Layout YAML with a study: section (or give --study)."
        ),
        study_file: Path | None = typer.Option(
            None, "--study", help="Study YAML beside the layout."
        ),
        trials: int | None = typer.Option(
            None, "--trials", min=1, help="Override study.budget.trials."
        ),
        storage: str | None = typer.Option(
            None,
            "--storage",
            help="Optuna storage: file.db (SQLite), file.log (journal) or an RDB URL.",
        ),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="Output folder (default results/<name>/)."
        ),
        cluster: str | None = typer.Option(
            None,
            "--cluster",
            envvar="VFACTORY_CLUSTER",
            help="Where trials run: local[:N], ray, ray://HOST:10001, dask, tcp://HOST:8786; default: factory.cluster, else in this process",
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Search process conditions with Optuna and recommend the best, re-checked with more replications.

        The study (decision variables as layout paths, objectives and constraints on KPIs, a budget)
        is the layout's study: section or a --study file. Re-running resumes the same study from its
        storage. Writes optimize.json and plots (history, Pareto front, importances) to the output folder;
        watch it live with:  vfactory dashboard LAYOUT
        """
        from ..cli import console, executor_for, load_layout
        from ..layout import LayoutError, load_study
        from .plots import write_plots
        from .recommend import recommend
        from .study import run_study

        f = load_layout(layout)
        spec = f.study
        if study_file is not None:
            try:
                spec = load_study(study_file, f)
            except LayoutError as exc:
                from ..cli import err_console

                for issue in exc.issues:
                    err_console.print(str(issue), markup=False, highlight=False)
                raise typer.Exit(2) from None
        if spec is None:
            from ..cli import _user_error

            raise _user_error(f"{layout} has no study: section; add one or give --study FILE")
        if storage:
            spec = spec.model_copy(update={"storage": storage})
        outdir = out or Path("results") / f.name
        executor = executor_for(cluster, f)
        try:
            study = run_study(
                f, spec, executor=executor, workdir=outdir, progress=not quiet, max_trials=trials
            )
            rec = recommend(f, study, spec, executor=executor)
        except ValueError as exc:
            from ..cli import _user_error

            raise _user_error(str(exc)) from None
        finally:
            if executor is not None:
                executor.close()
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "optimize.json").write_text(json.dumps(rec, indent=2, default=str) + "\n")
        plots = write_plots(study, rec, spec, outdir)
        print_recommendation(console, rec)
        console.print(f"wrote {outdir / 'optimize.json'} and {len(plots)} plots in {outdir}")

    @app.command()
    def dashboard(
        target: str = typer.Argument(
            ..., help="A layout YAML (its study storage), or a storage URL / .db file."
        ),
        port: int = typer.Option(8080, "--port", help="Port on 127.0.0.1."),
        host: str = typer.Option(
            "127.0.0.1", "--host", help="Listen address (loopback by default)."
        ),
    ) -> None:
        """Open optuna-dashboard on a study's storage (history, Pareto front, importances, live)."""
        import os
        import sys

        url = target
        p = Path(target)
        if p.suffix in (".yaml", ".yml"):
            from ..cli import load_layout

            f = load_layout(p)
            st = (f.study.storage if f.study else None) or str(
                Path("results") / f.name / "study.db"
            )
            url = st
        if "://" not in url:
            url = f"sqlite:///{Path(url).resolve()}"
        import shutil

        exe = Path(sys.executable).parent / "optuna-dashboard"
        found = str(exe) if exe.exists() else shutil.which("optuna-dashboard")
        if found is None:
            from ..cli import _user_error

            raise _user_error("optuna-dashboard is not installed (pip install optuna-dashboard)")
        typer.echo(f"optuna-dashboard on http://{host}:{port}  ({url})", err=True)
        # replace this process, so that stopping `vfactory dashboard` stops the dashboard itself
        os.execv(found, [found, url, "--host", host, "--port", str(port)])


def print_recommendation(console, rec: dict) -> None:
    from rich.table import Table

    t = Table(
        title=f"recommendation ({rec['trials']['complete']} trials, re-checked with {rec['replications']} replications)"
    )
    for c in ("KPI", "baseline", "recommended", "improvement (95 % CI)"):
        t.add_column(c)
    for o in rec["objectives"]:
        imp = o["improvement"]
        mark = " ✓" if imp["better"] and imp["significant"] else ""
        t.add_row(
            f"{o['kpi']} ({o['direction']})",
            _fmt(o["baseline"]),
            _fmt(o["recommended"]),
            f"{imp['mean']:+.4g} [{imp['ci95'][0]:+.3g}, {imp['ci95'][1]:+.3g}]{mark}"
            if imp["ci95"][0] is not None
            else f"{imp['mean']:+.4g}",
        )
    console.print(t)
    console.print(
        "recommended: " + ", ".join(f"{k} = {v}" for k, v in rec["recommended"]["params"].items()),
        highlight=False,
    )
    console.print(
        "baseline:    " + ", ".join(f"{k} = {v}" for k, v in rec["baseline"]["params"].items()),
        highlight=False,
    )
    for c in rec["constraints"]:
        state = "active" if c["active"] else ("ok" if c["satisfied"] else "VIOLATED")
        console.print(
            f"constraint {c['kpi']} {c['bound']} {c['value']}: {_fmt(c['recommended'])} ({state})",
            highlight=False,
        )
    for kpi, imp in rec["importances"].items():
        console.print(
            f"importance for {kpi}: " + ", ".join(f"{k} {v:.2f}" for k, v in imp.items()),
            highlight=False,
        )
    if rec["trials"]["failed"]:
        console.print(f"[yellow]{rec['trials']['failed']} trials failed[/yellow]; first errors:", highlight=False)
        for e in rec.get("errors", []):
            console.print("  " + e, highlight=False, markup=False)
    if not rec["feasible"]:
        console.print(
            "[red]no trial met every constraint: the least-violating point is shown[/red]"
        )


def _fmt(ci: dict) -> str:
    if ci["ci95"] is None:
        return f"{ci['mean']:.4g}"
    lo, hi = ci["ci95"]
    return f"{ci['mean']:.4g} ± {(hi - lo) / 2:.2g}"
