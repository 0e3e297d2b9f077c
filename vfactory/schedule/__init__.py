"""Production scheduling: job shop, flexible job shop and parallel machines with setups.

``plan(problem, objective, time_limit, method)`` returns a :class:`Schedule`; problems come from
orders and a routing table (:func:`problem_from_orders`) or from benchmark files
(:func:`read_instance`), or orders on a line layout (:func:`problem_from_layout`).
:func:`replay` runs a schedule in the line simulation with random times and breakdowns, beside
online dispatching under common random numbers.
"""

from vfactory.schedule.checker import check, check_or_raise
from vfactory.schedule.dispatch import RULES, dispatch
from vfactory.schedule.from_layout import problem_from_layout
from vfactory.schedule.instances import (
    instance_dir,
    instance_path,
    read_fjsp,
    read_instance,
    read_jsp,
)
from vfactory.schedule.model import SolverUnavailableError
from vfactory.schedule.planner import plan
from vfactory.schedule.problem import (
    Job,
    Operation,
    Order,
    Problem,
    ProblemError,
    problem_from_orders,
    read_orders,
    read_problem_yaml,
)
from vfactory.schedule.replay import ReplayResult, replay
from vfactory.schedule.solution import Objective, Schedule, ScheduledOperation

__all__ = [
    "RULES",
    "Job",
    "Objective",
    "Operation",
    "Order",
    "Problem",
    "ProblemError",
    "ReplayResult",
    "Schedule",
    "ScheduledOperation",
    "SolverUnavailableError",
    "check",
    "check_or_raise",
    "dispatch",
    "instance_dir",
    "instance_path",
    "plan",
    "problem_from_layout",
    "problem_from_orders",
    "read_fjsp",
    "read_instance",
    "read_jsp",
    "read_orders",
    "read_problem_yaml",
    "replay",
]
