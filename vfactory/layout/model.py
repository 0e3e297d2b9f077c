"""The factory layout as validated, immutable data: factory settings, products, stations, crews.

Times are in the factory's ``time_unit`` unless a distribution says otherwise. See
``examples/`` for commented layouts and ``vfactory schema`` for the JSON Schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .base import Section
from .distribution import Distribution, TimeUnit, coerce_distribution
from .study import Study

Dist = Annotated[Distribution, BeforeValidator(coerce_distribution)]


def _one_or_per_product(v) -> str:
    return "<per-product>" if isinstance(v, dict) and "dist" not in v else "<distribution>"


Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")]

# a duration given once for every product, or per product (process times, load times)
PerProduct = Annotated[
    Annotated[Dist, Tag("<distribution>")] | Annotated[dict[Name, Dist], Tag("<per-product>")],
    Discriminator(_one_or_per_product),
]


class Shifts(Section):
    """A periodic working calendar: within each ``period`` the line works during the ``working`` windows."""

    period: float = Field(
        gt=0, description="Length of the calendar cycle (e.g. 1440 min = one day)."
    )
    working: tuple[tuple[float, float], ...] = Field(
        min_length=1, description="Working windows [start, end) within the period, in time units."
    )

    @model_validator(mode="after")
    def _windows(self) -> Shifts:
        last = 0.0
        for start, end in self.working:
            if not (0 <= start < end <= self.period):
                raise PydanticCustomError(
                    "shift",
                    "window [{s}, {e}] must satisfy 0 <= start < end <= period ({p})",
                    {"s": start, "e": end, "p": self.period},
                )
            if start < last:
                raise PydanticCustomError(
                    "shift", "windows must be sorted and must not overlap", {}
                )
            last = end
        return self


class FactorySettings(Section):
    name: Name = Field(description="Name of the line; results go to results/<name>/.")
    time_unit: TimeUnit = Field(
        "min", description="Time unit of every number in the layout: s, min or h."
    )
    run_length: float = Field(gt=0, description="Simulated time per replication, warm-up included.")
    warmup: float = Field(0.0, ge=0, description="Initial period discarded from every statistic.")
    replications: int = Field(
        10, ge=1, le=100_000, description="Independent replications (for the 95 % CIs)."
    )
    seed: int = Field(
        1, ge=0, description="Base seed; replication r of source s uses SeedSequence(seed, (r, s))."
    )
    shifts: Shifts | None = Field(
        None, description="Working calendar; off-shift time stops all stations."
    )
    cluster: str | None = Field(
        None,
        description="Where replications, sweeps and trials run (local, local:4, ray, ray:auto, "
        "ray://host:10001, dask, tcp://host:8786); --cluster and VFACTORY_CLUSTER take precedence.",
    )

    @field_validator("cluster")
    @classmethod
    def _known_cluster(cls, spec: str | None) -> str | None:
        if spec is not None:
            from cluster import ClusterSpecError, parse_spec

            try:
                parse_spec(spec)
            except ClusterSpecError as exc:
                raise PydanticCustomError("cluster", str(exc), {}) from None
        return spec

    @field_validator("warmup")
    @classmethod
    def _warmup_below_run_length(cls, warmup: float, info: ValidationInfo) -> float:
        run_length = info.data.get("run_length")
        if run_length is not None and warmup >= run_length:
            raise PydanticCustomError(
                "warmup",
                "warmup ({w}) must be shorter than run_length ({r})",
                {"w": warmup, "r": run_length},
            )
        return warmup


class Arrival(Section):
    """Release of new parts into the line."""

    interarrival: Dist | None = Field(None, description="Time between releases.")
    times: tuple[float, ...] | None = Field(
        None, description="Release times instead of an interarrival distribution (trace-driven replay)."
    )
    lot_size: int = Field(1, ge=1, description="Parts released together at each release.")
    when_full: Literal["block", "balk"] = Field(
        "block",
        description="If the first buffer is full: block (wait) or balk (the part is lost, counted).",
    )
    start: float = Field(
        0.0, ge=0, description="Time of the first release (plus one interarrival)."
    )
    limit: int | None = Field(
        None, ge=1, description="Number of releases (lots) after which arrivals stop."
    )

    @model_validator(mode="after")
    def _one_release_rule(self) -> Arrival:
        if self.interarrival is None and self.times is None:
            raise PydanticCustomError(
                "arrival", "needs interarrival (a distribution) or times (release times)", {}
            )
        if self.interarrival is not None and self.times is not None:
            raise PydanticCustomError(
                "arrival", "give either interarrival or times (release times), not both", {}
            )
        if self.times is not None:
            times = self.times
            if any(t < 0 for t in times) or any(b < a for a, b in zip(times, times[1:])):
                raise PydanticCustomError("arrival", "release times must be >= 0 and sorted", {})
        return self


class Product(Section):
    route: tuple[Name, ...] = Field(min_length=1, description="Stations visited, in order.")
    arrival: Annotated[
        Annotated[Arrival, Tag("<process>")] | Annotated[Literal["saturated"], Tag("<saturated>")],
        Discriminator(lambda v: "<process>" if isinstance(v, (dict, Arrival)) else "<saturated>"),
    ] = Field(
        description="An arrival process, or 'saturated': the first station never waits for material."
    )


class Failure(Section):
    """A failure mode of each server of a station."""

    name: Name = Field(
        "failure", description="Name of the failure mode (for results and random streams)."
    )
    mode: Literal["time", "operation"] = Field(
        "operation",
        description="time: the clock to failure runs always; operation: only while the server works.",
    )
    mtbf: Dist = Field(description="Time between failures (operating time for mode 'operation').")
    mttr: Dist = Field(description="Time to repair once a crew member is there.")
    crew: Name | None = Field(
        None, description="Repair crew needed for the repair (waiting for it counts as down)."
    )

    @model_validator(mode="after")
    def _time_between_failures(self) -> Failure:
        if self.mtbf.mean_value <= 0:
            raise PydanticCustomError("mtbf", "mtbf must have a mean above 0 (a machine that is always down)", {})
        return self


class Setup(Section):
    """Changeover when a server switches from one product to another."""

    default: Dist | None = Field(
        None, description="Changeover time for any product change not in the matrix."
    )
    changeover: dict[Name, dict[Name, Dist]] = Field(
        default_factory=dict, description="changeover[from_product][to_product] = time."
    )


class Power(Section):
    """Electrical power draw of each server by state, in kW."""

    idle: float = Field(0.0, ge=0, description="Starved or blocked.")
    working: float = Field(0.0, ge=0, description="Processing.")
    setup: float | None = Field(None, ge=0, description="During setup (default: working).")
    down: float = Field(0.0, ge=0, description="Failed or under repair.")


class Station(Section):
    servers: int = Field(
        1, ge=1, le=10_000, description="Identical parallel servers (machines, operators)."
    )
    buffer: int | None = Field(
        None,
        ge=0,
        description="Slots in the input buffer, not counting parts in service; null = unlimited.",
    )
    process_time: PerProduct = Field(
        description="Process time (per batch at batch stations): one distribution, or one per product."
    )
    load_time: PerProduct | None = Field(
        None,
        description="Handling (loading) time before processing: one distribution, or one per "
        "product (a product not listed has none). The part has left the queue and holds the "
        "server, which is busy but not processing: the time counts as setup among the six "
        "states (reported alone as 'loading'), not as working, so utilisation excludes it; it "
        "draws idle power; scrap is decided after processing as before; operation-dependent "
        "failure clocks do not run, while time-dependent failures and shift ends pause it. "
        "Order on the server: seize the part, load, changeover (if any), process. Per batch at "
        "batch stations. None: no load time (0).",
    )
    batch_size: int = Field(
        1, ge=1, description="Parts processed together (ovens); a server waits for a full batch."
    )
    setup: Setup | None = Field(None, description="Changeover times between products.")
    failures: tuple[Failure, ...] = Field((), description="Failure modes of each server.")
    scrap: float = Field(
        0.0, ge=0, le=1, description="Probability that a processed part is scrapped here."
    )
    power_kw: Power = Field(default_factory=Power, description="Power draw per server by state.")

    def process_time_for(self, product: str) -> Distribution:
        pt = self.process_time
        return pt if isinstance(pt, Distribution) else pt[product]

    def load_time_for(self, product: str) -> Distribution | None:
        """The load time of ``product`` here, or None (no load time)."""
        lt = self.load_time
        return lt if lt is None or isinstance(lt, Distribution) else lt.get(product)


Identifier = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
]


class PhysicsSolve(Section):
    """One named solver run; its outputs are used as ``<name>.<output>`` in bindings."""

    solver: str = Field(description="Solver name (see `vfactory solvers`), e.g. heat_treatment.")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="The solver's parameters (SI units). A text starting with '=' is an "
        "expression of layout parameters, e.g. '=part_diameter_mm / 1000'.",
    )


class RepairCrew(Section):
    size: int = Field(1, ge=1, description="Number of repair technicians working in parallel.")


class Factory(Section):
    """A whole line layout."""

    factory: FactorySettings
    parameters: dict[Name, float] = Field(
        default_factory=dict,
        description="Named process parameters (e.g. furnace temperature) used by bindings.",
    )
    repair_crews: dict[Name, RepairCrew] = Field(
        default_factory=dict, description="Shared repair crews."
    )
    products: dict[Name, Product] = Field(
        min_length=1, description="Products (part types) and their routes."
    )
    stations: dict[Name, Station] = Field(min_length=1, description="Stations, in layout order.")
    study: Study | None = Field(None, description="Optimisation study over this layout (vfactory optimize).")
    physics: dict[Identifier, PhysicsSolve] = Field(
        default_factory=dict,
        description="Named process-physics solves whose outputs bindings use (resolved before "
        "the line simulation runs).",
    )
    bindings: dict[str, str] = Field(
        default_factory=dict,
        description="Layout value path (e.g. stations.furnace.process_time.mean) -> expression "
        "of parameters and solve outputs; time(x_s) converts seconds into the time unit.",
    )

    @property
    def name(self) -> str:
        return self.factory.name

    @property
    def time_unit(self) -> str:
        return self.factory.time_unit
