"""An optimisation study as layout data: decision variables (layout paths), objectives, constraints.

Written as a ``study:`` section of the layout or as its own YAML file beside it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from .base import Section


class Variable(Section):
    """A decision variable: a numeric range (with optional step / log scale) or a list of choices."""

    low: float | None = Field(None, description="Lower bound of a numeric range.")
    high: float | None = Field(None, description="Upper bound of a numeric range.")
    step: float | None = Field(None, gt=0, description="Grid step within [low, high].")
    log: bool = Field(False, description="Sample on a log scale.")
    type: Literal["float", "int"] = Field("float", description="Numeric type of a range.")
    choices: tuple[int | float | str, ...] | None = Field(None, min_length=1, description="Discrete choices.")

    @model_validator(mode="after")
    def _range_or_choices(self) -> Variable:
        has_range = self.low is not None or self.high is not None
        if self.choices is not None and has_range:
            raise PydanticCustomError("variable", "give either low/high or choices, not both", {})
        if self.choices is None:
            if self.low is None or self.high is None:
                raise PydanticCustomError("variable", "a variable needs low and high, or choices", {})
            if self.high <= self.low:
                raise PydanticCustomError("variable", "high must be above low", {})
            if self.log and self.low <= 0:
                raise PydanticCustomError("variable", "a log-scale range needs low > 0", {})
            if self.log and self.step is not None:
                raise PydanticCustomError("variable", "step and log cannot be combined", {})
        return self


class Objective(Section):
    kpi: str = Field(description="KPI name, e.g. throughput_per_hour or stations.furnace.utilisation.")
    direction: Literal["maximize", "minimize"] = Field(description="maximize or minimize.")


class Constraint(Section):
    kpi: str = Field(description="KPI name.")
    min: float | None = Field(None, description="The KPI's mean must be at least this.")
    max: float | None = Field(None, description="The KPI's mean must be at most this.")

    @model_validator(mode="after")
    def _a_bound(self) -> Constraint:
        if self.min is None and self.max is None:
            raise PydanticCustomError("constraint", "a constraint needs min and/or max", {})
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PydanticCustomError("constraint", f"min ({self.min}) is above max ({self.max}): nothing can meet it", {})
        return self


class Budget(Section):
    trials: int | None = Field(None, ge=1, description="Number of completed trials.")
    time_s: float | None = Field(None, gt=0, description="Wall-clock seconds.")

    @model_validator(mode="after")
    def _some_budget(self) -> Budget:
        if self.trials is None and self.time_s is None:
            raise PydanticCustomError("budget", "give trials and/or time_s", {})
        return self


class InitialDesign(Section):
    kind: Literal["sobol", "lhs", "none"] = Field("sobol", description="Space-filling design enqueued first.")
    n: int = Field(8, ge=0, le=4096, description="Number of design points.")


class Surrogate(Section):
    """Search on a model of the physics, fitted on a design of real solves; verify the best."""

    kind: Literal["gp", "rbf"] = Field("gp", description="Gaussian process or radial basis functions.")
    design: int = Field(8, ge=3, le=256, description="Real solves to fit the model on (Sobol points).")
    verify: int = Field(3, ge=1, le=50, description="Best candidates re-evaluated with the real solver.")


class Study(Section):
    name: str | None = Field(None, description="Study name (default: the factory name).")
    variables: dict[str, Variable] = Field(min_length=1, description="Layout path -> range or choices.")
    objectives: tuple[Objective, ...] = Field(min_length=1, description="One objective, or several (Pareto).")
    constraints: tuple[Constraint, ...] = Field((), description="Bounds on KPI means.")
    budget: Budget = Field(description="When to stop.")
    replications: int = Field(5, ge=2, description="Replications per trial (common random numbers).")
    recheck_replications: int = Field(20, ge=2, description="Replications to re-evaluate the recommendation.")
    sampler: Literal["tpe", "nsga2", "gp", "random"] = Field("tpe", description="Optuna sampler.")
    initial_design: InitialDesign = Field(default_factory=InitialDesign)
    batch_size: int | None = Field(None, ge=1, description="Trials evaluated in parallel (default: workers).")
    seed: int = Field(0, ge=0, description="Sampler seed.")
    surrogate: Surrogate | None = Field(
        None, description="Search on a surrogate of the physics (for expensive solves)."
    )
    storage: str | None = Field(
        None, description="Optuna storage: a .db/.log file, or an RDB URL (default: results/<name>/study.db)."
    )
