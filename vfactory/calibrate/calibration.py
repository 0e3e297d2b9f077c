"""The whole path from an event log to a validated layout: ingest → clean → discover → measure →
fit → build → simulate → compare. ``calibrate()`` is what the CLI (and later the API) calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..layout import Factory, loads
from .build import Built, build
from .clean import CleanLog, clean
from .discover import Discovery, discover
from .fit import Fit, fit
from .ingest import ingest
from .mapping import Mapping
from .measure import Measured, measure
from .samples import interarrivals, process_times
from .twin import Row, compare


@dataclass
class Calibration:
    log: CleanLog
    discovery: Discovery
    measured: Measured
    built: Built
    factory: Factory
    fits: dict[str, Fit] = field(default_factory=dict)
    result: object | None = None  # sim.LineResult of the twin check
    twin: list[Row] = field(default_factory=list)


def input_fits(log: CleanLog, disc: Discovery, min_samples: int = 20) -> dict[str, Fit]:
    """Input analysis of every process time (station, product) and every product's interarrivals."""
    out: dict[str, Fit] = {}
    for (st, p), obs in sorted(process_times(log).items()):
        out[f"process/{st}/{p}"] = fit([d for _, d, _ in obs], min_samples=min_samples)
    for p, rel in disc.releases.items():
        ia = interarrivals(rel)
        if ia:
            out[f"interarrival/{p}"] = fit(ia, min_samples=min_samples)
    return out


def calibrate(
    path: str | Path,
    mapping: Mapping,
    mode: str = "replay",
    buffers: str = "unlimited",
    arrivals: str = "default",
    handling: str = "load",
    simulate: bool = True,
    replications: int | None = None,
    min_samples: int = 20,
    step: Callable[[str], None] = lambda msg: None,
) -> Calibration:
    """Calibrate a layout from the log at ``path``; ``step(msg)`` is told about each stage."""
    step(f"reading {path}")
    events = ingest(path, mapping)
    step(f"cleaning {len(events)} events")
    log = clean(events, mapping, str(path))
    if not log.completed:
        dropped = ", ".join(f"{k} {v}" for k, v in log.quality.counts.items() if v) or "nothing"
        raise ValueError(
            f"{path}: no completed order left after cleaning; nothing to calibrate "
            f"(cleaning: {dropped}). Check the mapping's event words and location patterns."
        )
    disc = discover(log)
    measured = measure(log)
    step("fitting input distributions")
    fits = input_fits(log, disc, min_samples)
    built = build(
        log,
        disc,
        mode,
        buffers,
        name=mapping.name,
        replications=replications,
        min_samples=min_samples,
        fits=fits,
        arrivals=arrivals,
        handling=handling,
    )
    fits.update(built.fits)
    factory = loads(built.yaml, filename="<calibrated layout>")
    cal = Calibration(log, disc, measured, built, factory, fits)
    if simulate:
        from .. import sim

        n = factory.factory.replications
        step(f"simulating the calibrated layout ({n} replication{'s' if n > 1 else ''})")
        every = max(1, n // 5)

        def progress(done: int, total: int) -> None:
            if done % every == 0 or done == total:
                step(f"replication {done}/{total} done")

        cal.result = sim.run(factory, progress=progress if n > 1 else False)
        cal.twin = compare(measured, cal.result, built.stations)
    return cal
