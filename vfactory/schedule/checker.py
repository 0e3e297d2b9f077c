"""Independent feasibility checker of a schedule against its problem.

Written from the problem's definition only (no code shared with the dispatcher, the local search
or the MILP), so that a bug there cannot hide itself here.  Checks: every operation scheduled
exactly once, on an eligible machine, for its duration; job precedence; release dates; no two
operations overlapping on a machine; the setup time between consecutive operations on a machine;
and that the reported makespan and weighted tardiness match the operations.
"""

from __future__ import annotations

from vfactory.schedule.problem import Problem
from vfactory.schedule.solution import Schedule

TOL = 1e-6


class InfeasibleScheduleError(ValueError):
    """A schedule violates its problem's constraints."""


def check(problem: Problem, schedule: Schedule, *, tol: float = TOL) -> list[str]:
    """Return the list of violations (empty when the schedule is feasible)."""
    errors: list[str] = []
    planned: dict[tuple[str, int], list] = {}
    for so in schedule.operations:
        planned.setdefault((so.job, so.index), []).append(so)

    expected = {(job.id, i) for job in problem.jobs for i in range(len(job.operations))}
    for key in sorted(set(planned) - expected):
        errors.append(f"operation {key} is not part of the problem")
    for key, lst in sorted(planned.items()):
        if len(lst) > 1:
            errors.append(f"operation {key} scheduled {len(lst)} times")

    for job in problem.jobs:
        prev_end: float | None = None
        for i, op in enumerate(job.operations):
            found = planned.get((job.id, i))
            if not found:
                errors.append(f"operation ({job.id!r}, {i}) is not scheduled")
                prev_end = None
                continue
            so = found[0]
            durations = dict(op.alternatives)
            if so.machine not in durations:
                errors.append(
                    f"operation ({job.id!r}, {i}) on machine {so.machine!r}, "
                    f"eligible: {sorted(durations)}"
                )
            elif abs((so.end - so.start) - durations[so.machine]) > tol:
                errors.append(
                    f"operation ({job.id!r}, {i}) on {so.machine!r} lasts {so.end - so.start:g}, "
                    f"expected {durations[so.machine]:g}"
                )
            if i == 0 and so.start < job.release - tol:
                errors.append(
                    f"job {job.id!r} starts at {so.start:g} before its release {job.release:g}"
                )
            if so.start < -tol:
                errors.append(f"operation ({job.id!r}, {i}) starts at negative time {so.start:g}")
            if prev_end is not None and so.start < prev_end - tol:
                errors.append(
                    f"operation ({job.id!r}, {i}) starts at {so.start:g} before operation "
                    f"{i - 1} of the job ends at {prev_end:g}"
                )
            prev_end = so.end

    product = {job.id: job.product for job in problem.jobs}
    by_machine: dict[str, list] = {}
    for so in schedule.operations:
        by_machine.setdefault(so.machine, []).append(so)
    for machine, lst in by_machine.items():
        lst.sort(key=lambda so: (so.start, so.end))
        for a, b in zip(lst, lst[1:], strict=False):
            setup = 0.0
            table = problem.setups.get(machine) or {}
            if product.get(a.job) is not None and product.get(b.job) is not None:
                setup = float(table.get((product[a.job], product[b.job]), 0.0))
            if b.start < a.end + setup - tol:
                what = "overlaps" if b.start < a.end - tol else "leaves no room for the setup after"
                errors.append(
                    f"on {machine!r}: ({b.job!r}, {b.index}) at {b.start:g} {what} "
                    f"({a.job!r}, {a.index}) ending {a.end:g} (setup {setup:g})"
                )

    if schedule.operations:
        makespan = max(so.end for so in schedule.operations)
        if abs(makespan - schedule.makespan) > tol:
            errors.append(f"reported makespan {schedule.makespan:g}, operations give {makespan:g}")
        completion: dict[str, float] = {}
        for so in schedule.operations:
            completion[so.job] = max(completion.get(so.job, so.end), so.end)
        twt = sum(
            job.weight * max(0.0, completion[job.id] - job.due)
            for job in problem.jobs
            if job.due is not None and job.id in completion
        )
        if abs(twt - schedule.total_weighted_tardiness) > tol * max(1.0, twt):
            errors.append(
                f"reported weighted tardiness {schedule.total_weighted_tardiness:g}, "
                f"operations give {twt:g}"
            )
    return errors


def check_or_raise(problem: Problem, schedule: Schedule) -> None:
    """Raise :class:`InfeasibleScheduleError` listing the violations, if any."""
    errors = check(problem, schedule)
    if errors:
        raise InfeasibleScheduleError(
            f"{len(errors)} violation(s): " + "; ".join(errors[:10]) + (" …" if len(errors) > 10 else "")
        )
