"""Service settings: data folder, database URL, upload limits, rate limit, lease timings, the
wall-clock limit of a job.

Every field can be set by an environment variable ``VFACTORY_<FIELD>`` (upper case) or by keyword;
keywords win. The database defaults to a SQLite file in the data folder.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1024 * 1024
DEFAULT_JOB_TIMEOUT_S = 6 * 3600.0
# Smallest time limit of a job, for the operator's setting and a tenant's timeout_s alike.
MIN_JOB_TIMEOUT_S = 0.001


def _default_data_dir() -> Path:
    return Path.cwd() / "vfactory-data"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=_default_data_dir)
    db_url: str = ""  # empty: sqlite file <data_dir>/vfactory.db
    host: str = "127.0.0.1"
    port: int = 8000
    # Upload limits (bytes / counts). The total is checked on the raw request body as it streams.
    max_upload_bytes: int = 64 * MiB
    max_file_bytes: int = 32 * MiB
    max_layout_bytes: int = 2 * MiB
    max_files: int = 32
    max_options_bytes: int = 64 * 1024
    # Zip attachments are extracted with these bounds (zip bombs, traversal).
    max_zip_entries: int = 1000
    max_zip_bytes: int = 256 * MiB
    max_zip_ratio: float = 100.0
    max_zip_depth: int = 8
    # YAML shape bounds, checked on the event stream before anything is built (alias bombs).
    max_yaml_nodes: int = 200_000
    max_yaml_depth: int = 64
    # Token bucket per bearer token: refill rate (requests/s) and burst; a token may override both.
    rate_per_s: float = 20.0
    rate_burst: int = 100
    # Worker leases: a job whose lease is not renewed for lease_s seconds is re-queued.
    lease_s: float = 30.0
    heartbeat_s: float = 5.0
    poll_s: float = 1.0
    max_attempts: int = 3
    # Wall-clock seconds one attempt of a job may run before its worker stops it (EXECUTOR_ERROR
    # "time limit of N s exceeded"); a tenant may ask for less with the job option timeout_s,
    # never for more. Bounds what an endless sweep or a huge order book can take from a worker.
    job_timeout_s: float = DEFAULT_JOB_TIMEOUT_S

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser().resolve())
        if not self.db_url:
            object.__setattr__(self, "db_url", f"sqlite:///{self.data_dir / 'vfactory.db'}")
        limit = self.job_timeout_s
        if not (limit >= MIN_JOB_TIMEOUT_S and math.isfinite(limit)):  # also refuses NaN
            raise ValueError(
                "job timeout (VFACTORY_JOB_TIMEOUT_S, --job-timeout) must be a finite number of"
                f" seconds >= {MIN_JOB_TIMEOUT_S:g}, found {limit}"
            )
        if self.heartbeat_s >= self.lease_s:
            raise ValueError(
                f"heartbeat_s ({self.heartbeat_s}) must be shorter than lease_s ({self.lease_s})"
            )

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``VFACTORY_*`` environment variables, then keyword overrides (None = unset)."""
        source: Mapping[str, str] = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            raw = source.get(f"VFACTORY_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _convert(name: str, type_name: object, raw: str) -> object:
    kind = str(type_name)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ValueError(f"VFACTORY_{name.upper()}={raw!r}: expected a {kind}") from None
    if kind == "Path":
        return Path(raw)
    return raw
