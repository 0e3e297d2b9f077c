"""One rich progress bar for every backend: wraps an iterator of TaskResults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cluster.base import TaskResult


def track(results: Iterator[TaskResult], *, total: int, label: str) -> Iterator[TaskResult]:
    """Yield ``results`` unchanged while a progress bar (on stderr) counts done and failed."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task(label, total=total, failed=0)
            failed = 0
            for res in results:
                if not res.ok:
                    failed += 1
                bar.update(task, advance=1, failed=failed)
                yield res
    finally:
        # Stopping early must reach the driver loop at once, so it cancels its tasks.
        close = getattr(results, "close", None)
        if close is not None:
            close()
