"""Upload-and-results job API: FastAPI service, SQLAlchemy job store, worker loop (DESIGN.md §8).

The service accepts a layout (+ attachments) per job, validates it at submit, stores the job, and
worker processes claim jobs with a lease and a heartbeat, run the job's kind in a child process and
write its results and artifacts into a folder per job.
"""

from .settings import Settings
from .states import JobState

__all__ = ["JobState", "Settings"]
