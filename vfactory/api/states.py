"""Job states of the API (modelled on GA4GH WES) and which transitions are terminal."""

from __future__ import annotations

from enum import Enum


class JobState(str, Enum):
    """Life cycle: QUEUED → INITIALIZING → RUNNING → COMPLETE | EXECUTOR_ERROR | SYSTEM_ERROR |
    CANCELED; a cancel of a running job passes through CANCELING until the worker has stopped it.
    A job stopped at its wall-clock limit ends EXECUTOR_ERROR ("time limit of N s exceeded")."""

    QUEUED = "QUEUED"
    INITIALIZING = "INITIALIZING"
    RUNNING = "RUNNING"
    CANCELING = "CANCELING"
    COMPLETE = "COMPLETE"
    EXECUTOR_ERROR = "EXECUTOR_ERROR"
    SYSTEM_ERROR = "SYSTEM_ERROR"
    CANCELED = "CANCELED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset(
    {JobState.COMPLETE, JobState.EXECUTOR_ERROR, JobState.SYSTEM_ERROR, JobState.CANCELED}
)
# States in which a worker holds a lease on the job.
LEASED = frozenset({JobState.INITIALIZING, JobState.RUNNING, JobState.CANCELING})
