"""Replications of a line: sequential in this process, or fanned out on a ``cluster`` executor."""

from __future__ import annotations

from collections.abc import Callable

from ..layout import Factory, from_dict, to_dict
from .line import simulate_replication
from .results import LineResult, aggregate


def replication_task(item: dict) -> dict:
    """Spawn-safe task: plain data in (layout dict, replication, seed), KPI dict out."""
    factory = from_dict(item["layout"])
    return simulate_replication(factory, item["replication"], item["seed"])


def run(
    factory: Factory,
    replications: int | None = None,
    seed: int | None = None,
    progress: bool | Callable[[int, int], None] = False,
    executor=None,
) -> LineResult:
    """Simulate ``replications`` independent replications and aggregate KPIs with 95 % CIs.

    Replication r uses random streams keyed by (seed, r), so results do not depend on where or in
    which order replications run. ``progress`` is True for a progress bar, or a callable
    ``progress(done, total)``. ``executor`` is a ``cluster`` executor (None: run here).
    """
    n = factory.factory.replications if replications is None else replications
    if n < 1:
        raise ValueError("replications must be >= 1")
    seed = factory.factory.seed if seed is None else seed
    reps = list(range(n))
    rows: list[dict | None] = [None] * n

    report, close = _progress(progress, n, factory.factory.name)
    try:
        if executor is None:
            for r in reps:
                rows[r] = simulate_replication(factory, r, seed)
                report(r + 1)
        else:
            data = to_dict(factory)
            items = [{"layout": data, "replication": r, "seed": seed} for r in reps]
            for done, res in enumerate(executor.map(replication_task, items), start=1):
                if res.error is not None:
                    raise RuntimeError(f"replication {res.index} failed: {res.error}")
                rows[res.index] = res.value
                report(done)
    finally:
        close()
    return aggregate(factory, seed, reps, rows)  # type: ignore[arg-type]


def _progress(progress, total: int, name: str):
    if callable(progress):
        return (lambda done: progress(done, total)), (lambda: None)
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        bar = Progress(
            "[bold]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        bar.start()
        task = bar.add_task(f"simulating {name}", total=total)
        return (lambda done: bar.update(task, completed=done)), bar.stop
    return (lambda done: None), (lambda: None)
