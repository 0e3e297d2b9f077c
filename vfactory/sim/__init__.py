"""SimPy line simulation: stations, buffers, failures, statistics, replications."""

from .line import Line, simulate_replication, timeseries
from .results import LineResult
from .runner import replication_task, run
from .server import STATE_NAMES
from .stats import Estimate, estimate

__all__ = [
    "Estimate",
    "Line",
    "LineResult",
    "STATE_NAMES",
    "estimate",
    "replication_task",
    "run",
    "simulate_replication",
    "timeseries",
]
