"""Column mapping of a shop-floor event log: which column is what, event words, location classes.

A mapping is a small YAML file (see ``examples/real_lines/dascen_mapping.yaml``)::

    columns: {case: fauf, product: zustand, location: arbeitsstation, event: eventtyp,
              timestamp: zeitstempel, part: materialnummer, quantity: menge, resource: tag_id}
    part_filter: "Car-*"           # rows whose part matches are the part that flows down the line
    events: {release: [Generation], enter: [Entry], leave: [Exit]}
    locations: {stations: ["WS-*"], buffers: ["B-0*"], sources: [Goods-In], sinks: [Goods-Out]}
    timezone: Europe/Berlin        # for timestamps without an offset; offsets are honoured

Event kinds (the vocabulary of ``vfactory.sim.trace``): release (order generated), enter (arrives at
a location: a station's queue or a buffer), start / finish (processing, optional), leave (moves on),
exit (leaves the line), scrap.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import LogError

EVENT_KINDS = ("release", "enter", "start", "finish", "leave", "exit", "scrap")
LOCATION_CLASSES = ("stations", "buffers", "sources", "sinks", "ignore")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Columns(_Strict):
    case: str = Field(description="Order / case id column.")
    product: str = Field(description="Product or variant column.")
    location: str = Field(description="Location column (station, buffer, goods-in/out).")
    event: str = Field(description="Event type column.")
    timestamp: str = Field(description="Timestamp column (ISO 8601, or a number in time_unit).")
    quantity: str | None = Field(None, description="Quantity column (optional, informative).")
    resource: str | None = Field(None, description="Resource / tag column (optional).")
    part: str | None = Field(
        None, description="Item column, when a case has several items (car and its components)."
    )


class Locations(_Strict):
    stations: tuple[str, ...] = Field(("*",), description="Glob patterns of station locations.")
    buffers: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    sinks: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def _default_events() -> dict:
    """Without an ``events`` section the log uses the kind names themselves (enter, leave, …)."""
    return {k: (k,) for k in EVENT_KINDS}


class Mapping(_Strict):
    columns: Columns
    events: dict[Literal[EVENT_KINDS], tuple[str, ...]] = Field(  # type: ignore[valid-type]
        default_factory=_default_events,
        description="Event kind -> words used in the log (matched case-insensitively).",
    )
    products: dict[str, str] = Field(
        default_factory=dict, description="Raw product value -> product name in the layout."
    )
    part_filter: str | None = Field(
        None, description="Glob on the part column: only these rows describe the flowing part."
    )
    locations: Locations = Field(default_factory=lambda: Locations())  # type: ignore[call-arg]
    servers: dict[str, int] = Field(
        default_factory=dict,
        description="Station glob -> parallel servers (default 1, or as seen with start/finish).",
    )
    timezone: str = Field("UTC", description="Zone of timestamps that carry no offset.")
    time_unit: Literal["s", "min", "h"] = Field("min", description="Time unit of the layout.")
    bounce_window_s: float = Field(
        60.0, ge=0, description="Re-reads of a location within this many seconds are one visit."
    )
    run_gap_s: float | None = Field(
        None,
        gt=0,
        description="A pause longer than this (no events) separates production runs; the longest "
        "run is kept. None: the whole log is one run.",
    )
    run_window: tuple[str, str] | None = Field(
        None, description="Explicit run window [start, end] (timestamps) instead of detection."
    )
    name: str | None = Field(None, description="Name of the calibrated line.")

    @field_validator("servers")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        for k, n in v.items():
            if n < 1:
                raise ValueError(f"servers[{k!r}] must be >= 1")
        return v

    def event_kind(self, word: str) -> str | None:
        w = str(word).strip().lower()
        for kind, words in self.events.items():
            if any(w == x.strip().lower() for x in words):
                return kind
        return None

    def location_class(self, location: str) -> str | None:
        """'station', 'buffer', 'source', 'sink', 'ignore' or None (matches no pattern)."""
        for cls in ("ignore", "sources", "sinks", "buffers", "stations"):
            if any(fnmatch.fnmatchcase(location, p) for p in getattr(self.locations, cls)):
                return cls.rstrip("s") if cls != "ignore" else "ignore"
        return None

    def product_name(self, raw: str) -> str:
        return self.products.get(raw, raw)

    def servers_for(self, station: str) -> int | None:
        for pat, n in self.servers.items():
            if fnmatch.fnmatchcase(station, pat):
                return n
        return None


def from_dict(data: dict, file: str = "<mapping>") -> Mapping:
    """Validate a mapping; problems raise ``LogError`` naming the mapping field."""
    if not isinstance(data, dict):
        raise LogError(file, f"expected a mapping with 'columns'; found {type(data).__name__}")
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(p) for p in err["loc"])
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
        raise LogError(file, f"{msg}", column=path) from None


def load(path: str | Path) -> Mapping:
    """Read a mapping YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LogError(str(p), "mapping file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LogError(str(p), f"cannot read mapping: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise LogError(
            str(p), f"not valid YAML: {exc}", row=(mark.line + 1) if mark else None
        ) from None
    return from_dict(data, str(p))
