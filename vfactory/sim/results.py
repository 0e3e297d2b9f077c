"""Results of a line simulation over replications: every KPI with its Student-t 95 % CI."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .server import STATE_NAMES
from .stats import Estimate, estimate

SEED_SCHEME = "numpy SeedSequence(seed, spawn_key=(replication, crc32(source)))"


@dataclass
class LineResult:
    factory: str
    time_unit: str
    seed: int
    replications: list[int]
    warmup: float
    run_length: float
    kpis: dict[str, Estimate]
    bottleneck: str | None
    bottleneck_share: dict[str, float]
    per_replication: list[dict] = field(repr=False, default_factory=list)

    def __getitem__(self, name: str) -> Estimate:
        return self.kpis[name]

    @property
    def stations(self) -> list[str]:
        return sorted(
            {k.split(".")[1] for k in self.kpis if k.startswith("stations.")}, key=self._order
        )

    def _order(self, name: str) -> int:
        keys = [k.split(".")[1] for k in self.kpis if k.startswith("stations.")]
        return keys.index(name)

    def state_fractions(self, station: str) -> dict[str, float]:
        return {s: self.kpis[f"stations.{station}.{s}"].mean for s in STATE_NAMES}

    def to_dict(self) -> dict:
        return {
            "factory": self.factory,
            "time_unit": self.time_unit,
            "warmup": self.warmup,
            "run_length": self.run_length,
            "replications": len(self.replications),
            "seeds": {"base": self.seed, "replications": self.replications, "scheme": SEED_SCHEME},
            "bottleneck": self.bottleneck,
            "bottleneck_share": self.bottleneck_share,
            "kpis": {k: v.to_dict() for k, v in self.kpis.items()},
        }


def aggregate(factory, seed: int, replications: list[int], rows: list[dict]) -> LineResult:
    fs = factory.factory
    names = [k for k in rows[0] if k != "bottleneck"]
    kpis = {k: estimate([r[k] for r in rows]) for k in names}
    votes = Counter(r["bottleneck"] for r in rows if r.get("bottleneck"))
    share = {name: votes[name] / len(rows) for name in factory.stations if votes[name]}
    bottleneck = (
        max(share, key=lambda s: (share[s], kpis[f"stations.{s}.active"].mean)) if share else None
    )
    return LineResult(
        factory=fs.name,
        time_unit=fs.time_unit,
        seed=seed,
        replications=replications,
        warmup=fs.warmup,
        run_length=fs.run_length,
        kpis=kpis,
        bottleneck=bottleneck,
        bottleneck_share=share,
        per_replication=rows,
    )
