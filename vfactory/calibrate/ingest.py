"""Reading an event log (CSV or Parquet) into a normalised event table, with located errors.

The table has one row per event: ``row`` (line in the source file), ``case``, ``product``, ``location``,
``kind`` (an event kind of the mapping), ``time`` (UTC timestamp), ``cls`` (location class), and
``part``/``quantity``/``resource`` when mapped. Product and location values are turned into valid layout names (``layout_name``). Rows that are
about another item (a component) or
use an event word the mapping does not know are kept with ``kind``/``keep`` telling why, so that
cleaning can count them.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from .errors import LogError
from .mapping import Mapping

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
MAX_BAD_SHOWN = 3


def read_table(path: str | Path) -> pd.DataFrame:
    """The raw table of a CSV or Parquet file (all columns as read)."""
    p = Path(path)
    if not p.exists():
        raise LogError(str(p), "log file not found")
    if p.stat().st_size == 0:
        raise LogError(str(p), "the log is empty (0 bytes); expected a header and event rows")
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises many types for a broken file
            raise LogError(str(p), f"cannot read as Parquet: {exc}") from None
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1") or b"\x00" in head:
        raise LogError(
            str(p), "not a text CSV file (binary content); give a CSV or a .parquet file", row=1
        )
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LogError(str(p), f"not UTF-8 text: {exc}") from None
    except pd.errors.EmptyDataError:
        raise LogError(str(p), "the log is empty; expected a header and event rows") from None
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise LogError(
            str(p), f"malformed CSV: {exc}", row=int(m.group(1)) if m else None
        ) from None
    return df


def parse_times(values: pd.Series, tz: str, unit: str, file: str, column: str) -> pd.Series:
    """Timestamps as UTC: offsets honoured, naive ones localised in ``tz``; numbers are time units."""
    if pd.api.types.is_datetime64_any_dtype(values):
        s = values
        if getattr(s.dt, "tz", None) is None:
            s = s.dt.tz_localize(tz)
        return s.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(values):
        from ..layout import SECONDS_PER

        return pd.to_datetime(values.astype(float) * SECONDS_PER[unit], unit="s", utc=True)
    text = values.astype(str).str.strip()
    aware = text.str.contains(_OFFSET)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], utc=True, format="ISO8601", errors="coerce")
    naive = ~aware
    if naive.any():
        try:
            t = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
            numeric = pd.to_numeric(text[naive], errors="coerce")
            if t.isna().all() and numeric.notna().all():
                from ..layout import SECONDS_PER

                t = pd.to_datetime(numeric * SECONDS_PER[unit], unit="s")
                out[naive] = t.dt.tz_localize("UTC")
            else:
                out[naive] = t.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(
                    "UTC"
                )
        except Exception as exc:  # unknown zone name and the like
            raise LogError(file, f"cannot localise timestamps in zone {tz!r}: {exc}") from None
    bad = out.isna()
    if bad.any():
        idx = list(values.index[bad])[:MAX_BAD_SHOWN]
        shown = ", ".join(f"row {i + 2}: {values[i]!r}" for i in idx)
        raise LogError(
            file,
            f"{int(bad.sum())} unparseable timestamp(s), e.g. {shown}; expected ISO 8601 "
            "such as 2025-01-07 09:26:16.19+01",
            row=int(idx[0]) + 2,
            column=column,
        )
    return out


def layout_name(value: str) -> str:
    """A valid layout name for a product or location value ("Säge 1" -> "Sage_1")."""
    ascii_ = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9_\-]", "_", ascii_).strip("_") or "unnamed"
    if name[0] == "-":
        name = "_" + name
    return name[:64]


def _map_unique(values: pd.Series, fn) -> pd.Series:
    """``values.map(fn)``, calling ``fn`` once per distinct value (logs repeat a few words)."""
    table = {v: fn(v) for v in values.unique()}
    return values.map(table)


def ingest(path: str | Path, mapping: Mapping) -> pd.DataFrame:
    """Read a log and map it onto the normalised event table (see module docstring)."""
    file = str(path)
    raw = read_table(path)
    if len(raw.columns) == 0 or len(raw) == 0:
        raise LogError(file, "the log has no event rows", row=2)
    raw = raw.reset_index(drop=True)
    cols = mapping.columns
    needed = {k: v for k, v in cols.model_dump().items() if v is not None}
    for field, col in needed.items():
        if col not in raw.columns:
            raise LogError(
                file,
                f"the mapping names column {col!r} for {field}, but the log has no such column "
                f"(columns: {', '.join(map(str, raw.columns))})",
                row=1,
                column=col,
            )
    for field in ("case", "location", "event"):
        col = needed[field]
        empty = raw[col].astype(str).str.strip().isin(["", "nan", "None"])
        if field == "location":
            # a release may have no location (the simulator's trace does not give one)
            words = _map_unique(raw[needed["event"]].astype(str), mapping.event_kind)
            empty &= words != "release"
        if empty.any():
            i = int(empty.idxmax())
            raise LogError(file, f"empty {field} value", row=i + 2, column=col)
    time = parse_times(
        raw[cols.timestamp], mapping.timezone, mapping.time_unit, file, cols.timestamp
    )
    ev = pd.DataFrame(
        {
            "row": raw.index + 2,  # header is line 1
            "case": raw[cols.case].astype(str).str.strip(),
            "product": raw[cols.product].astype(str).str.strip().map(mapping.product_name),
            "location": raw[cols.location].astype(str).str.strip().replace({"nan": ""}),
            "word": raw[cols.event].astype(str).str.strip(),
            "time": time,
        }
    )
    for opt in ("part", "quantity", "resource"):
        col = getattr(cols, opt)
        if col is not None:
            ev[opt] = raw[col].astype(str).str.strip()
    ev["kind"] = _map_unique(ev["word"], mapping.event_kind)
    ev["cls"] = _map_unique(ev["location"], lambda x: mapping.location_class(x) if x else "")
    # products and locations become layout names: letters, digits, '_' and '-' only
    ev["product"] = _map_unique(ev["product"], layout_name)
    ev["location"] = _map_unique(ev["location"], lambda x: layout_name(x) if x else "")
    if ev["kind"].isna().all():
        words = ", ".join(sorted(ev["word"].unique())[:10])
        raise LogError(
            file,
            f"no event word of the log is in the mapping's events (log words: {words})",
            column=cols.event,
        )
    return ev
