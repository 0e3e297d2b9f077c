"""``vfactory calibrate``: event log → calibrated layout (+ report). Wired in by ``register(app)``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

EXIT_USER_ERROR = 2


class Mode(str, Enum):
    replay = "replay"
    stochastic = "stochastic"


class Arrivals(str, Enum):
    default = "default"
    observed = "observed"
    fitted = "fitted"


class Handling(str, Enum):
    load = "load"
    transfer = "transfer"
    station = "station"


class BufferCapacity(str, Enum):
    unlimited = "unlimited"
    observed = "observed"


def _mapping(
    path: Path | None,
    case,
    product,
    location,
    event,
    timestamp,
    stations,
    buffers,
    sources,
    sinks,
    tz,
    time_unit,
):
    from . import mapping as mp

    data: dict = {}
    if path is not None:
        import yaml

        data = mp.load(path).model_dump(exclude_none=True)
        data = yaml.safe_load(yaml.safe_dump(data))  # plain data (tuples → lists)
    cols = data.setdefault("columns", {})
    for key, val in (
        ("case", case),
        ("product", product),
        ("location", location),
        ("event", event),
        ("timestamp", timestamp),
    ):
        if val:
            cols[key] = val
    locs = data.setdefault("locations", {})
    for key, val in (
        ("stations", stations),
        ("buffers", buffers),
        ("sources", sources),
        ("sinks", sinks),
    ):
        if val:
            locs[key] = list(val)
    if tz:
        data["timezone"] = tz
    if time_unit:
        data["time_unit"] = time_unit
    return mp.from_dict(data, str(path) if path else "<command-line options>")


def register(app: typer.Typer) -> None:
    """Add the ``calibrate`` command to ``app``."""

    @app.command("calibrate")
    def calibrate_cmd(
        log: Path = typer.Argument(..., help="Event log: CSV or Parquet, one row per event."),
        mapping: Path = typer.Option(
            None,
            "--mapping",
            "-m",
            help="Column mapping YAML (columns, event words, station/buffer patterns, time zone); "
            "see examples/real_lines/dascen_mapping.yaml. The options below override it.",
        ),
        output: Path = typer.Option(..., "--output", "-o", help="Calibrated layout YAML to write."),
        mode: Mode = typer.Option(
            Mode.replay,
            "--mode",
            help="replay: observed releases and process times (trace-driven); stochastic: fitted "
            "distributions.",
        ),
        report: Path = typer.Option(
            None,
            "--report",
            help="Folder for the report (data quality, fits with Q-Q plots, twin).",
        ),
        buffers_capacity: BufferCapacity = typer.Option(
            BufferCapacity.unlimited,
            "--buffer-capacity",
            help="Buffer capacities are not in a log: unlimited, or the most parts observed waiting.",
        ),
        arrivals: Arrivals = typer.Option(
            Arrivals.default,
            "--arrivals",
            help="observed release times or a fitted interarrival distribution (default: observed "
            "for replay, fitted for stochastic).",
        ),
        handling: Handling = typer.Option(
            Handling.load,
            "--handling",
            help="stochastic mode: the time to move a part into a station once a server is free "
            "is the station's load_time (load: the server holds the part, not counted as work), "
            "a delay before its queue (transfer), or part of its process time (station).",
        ),
        replications: int = typer.Option(
            None,
            "--replications",
            min=1,
            help="Replications of the twin check (default 1 for replay, 20 for stochastic).",
        ),
        min_samples: int = typer.Option(
            20, "--min-samples", min=2, help="Fewer observations than this: empirical distribution."
        ),
        no_simulate: bool = typer.Option(
            False, "--no-simulate", help="Skip the twin check (simulating the calibrated layout)."
        ),
        case: str = typer.Option(None, "--case-column", help="Column of the order/case id."),
        product: str = typer.Option(None, "--product-column", help="Column of the product."),
        location: str = typer.Option(None, "--location-column", help="Column of the location."),
        event: str = typer.Option(None, "--event-column", help="Column of the event type."),
        timestamp: str = typer.Option(None, "--time-column", help="Column of the timestamp."),
        station: list[str] = typer.Option(
            None, "--station", help="Glob of station locations (repeatable)."
        ),
        buffer: list[str] = typer.Option(
            None, "--buffer", help="Glob of buffer locations (repeatable)."
        ),
        source: list[str] = typer.Option(None, "--source", help="Glob of goods-in locations."),
        sink: list[str] = typer.Option(None, "--sink", help="Glob of goods-out locations."),
        tz: str = typer.Option(None, "--timezone", help="Zone of timestamps without an offset."),
        time_unit: str = typer.Option(None, "--time-unit", help="Layout time unit: s, min or h."),
    ) -> None:
        """Build and validate a line layout from a shop-floor event log.

        Cleans the log (with a data-quality report), discovers stations, buffers and routes, measures throughput, utilisation, lead time and WIP, fits input distributions, writes a commented layout and simulates it beside the measured KPIs.

        Example: vfactory calibrate log.csv --mapping examples/real_lines/dascen_mapping.yaml -o line.yaml --report report/
        """
        from ..layout import LayoutError
        from . import report as rep
        from .calibration import calibrate
        from .errors import LogError
        from .twin import table

        err = Console(stderr=True)
        out = Console()
        if not out.is_terminal:  # pipes and CI logs: do not squeeze the table into 80 columns
            out.width = max(out.width, 120)
        if mapping is None and not all([case, product, location, event, timestamp]):
            err.print(
                "[red]error:[/red] give --mapping MAP.yaml, or all of --case-column, "
                "--product-column, --location-column, --event-column, --time-column"
            )
            raise typer.Exit(EXIT_USER_ERROR)
        try:
            mp = _mapping(
                mapping,
                case,
                product,
                location,
                event,
                timestamp,
                station,
                buffer,
                source,
                sink,
                tz,
                time_unit,
            )
            cal = calibrate(
                log,
                mp,
                mode.value,
                buffers_capacity.value,
                arrivals=arrivals.value,
                handling=handling.value,
                simulate=not no_simulate,
                replications=replications,
                min_samples=min_samples,
                step=lambda msg: err.print(f"[dim]…[/dim] {msg}", highlight=False),
            )
        except (LogError, LayoutError, ValueError) as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from None
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(cal.built.yaml, encoding="utf-8")
        q = cal.log.quality
        fixed = {k: v for k, v in q.counts.items() if v}
        out.print(
            f"{len(cal.log.completed)} orders, stations {', '.join(cal.discovery.stations)}; "
            f"cleaning: " + (", ".join(f"{k} {v}" for k, v in fixed.items()) or "nothing"),
            highlight=False,
        )
        out.print(f"wrote {output} ({mode.value})", highlight=False)
        if cal.twin:
            out.print(table(cal.twin, cal.log.unit), highlight=False, markup=False)
        if report is not None:
            err.print("[dim]…[/dim] writing the report", highlight=False)
            path = rep.write(cal, report)
            out.print(f"report: {path}", highlight=False)
