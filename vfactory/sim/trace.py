"""Export a simulation event trace as an event log in a generic schema (CSV or DataFrame).

Columns: ``case_id``, ``product``, ``location`` (station; empty for a release), ``event`` (release,
enter, start, finish, leave, exit, scrap) and ``timestamp`` (ISO 8601 with offset, from ``origin``
plus the simulated time in the layout's time unit). ``vfactory calibrate`` reads such logs back.
``start`` is when the station starts on the part after any load time: enter → start is the wait
for a server plus the loading.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from ..layout import SECONDS_PER

COLUMNS = ("case_id", "product", "location", "event", "timestamp")
DEFAULT_ORIGIN = datetime(2025, 1, 1, tzinfo=timezone.utc)


def to_frame(
    trace: list[tuple],
    time_unit: str = "min",
    origin: datetime = DEFAULT_ORIGIN,
    names: dict[str, str] | None = None,
    words: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The trace ``(time, part_id, product, station, event)`` as a log table.

    ``names`` renames the columns (e.g. ``{"case_id": "Auftrag"}``) and ``words`` the event
    words (e.g. ``{"enter": "Ankunft"}``), to produce logs as other plants write them.
    """
    if origin.tzinfo is None:
        raise ValueError("origin needs a time zone")
    scale = SECONDS_PER[time_unit]
    rows = [
        (
            f"P{pid}",
            product,
            station,
            (words or {}).get(event, event),
            (origin + timedelta(seconds=t * scale)).isoformat(timespec="microseconds"),
        )
        for t, pid, product, station, event in trace
    ]
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.rename(columns=names or {})


def write_csv(trace: list[tuple], path: str | Path, **kwargs) -> Path:
    """Write the trace as a CSV event log; ``kwargs`` as for ``to_frame``."""
    p = Path(path)
    to_frame(trace, **kwargs).to_csv(p, index=False)
    return p
