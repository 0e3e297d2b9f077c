"""Response models of the job API; they generate the OpenAPI document at /openapi.json."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .states import JobState


class ErrorBody(BaseModel):
    """Every error answer: a status code, a one-line summary and, for layouts, the issues."""

    status: int
    error: str = Field(description="What went wrong, in one line.")
    issues: list[str] = Field(
        default_factory=list,
        description="For a bad layout: one 'file:line:column: field.path: message' per problem.",
    )


class JobStatus(BaseModel):
    id: str
    state: JobState
    stage: str = Field(description="What the worker is doing now, e.g. 'replication 3/10'.")
    percent: float = Field(ge=0, le=100)
    updated_at: float = Field(description="Unix time of the last change or heartbeat.")


class JobEvent(BaseModel):
    time: float
    state: str
    message: str


class JobInfo(BaseModel):
    id: str
    kind: str
    state: JobState
    stage: str
    percent: float
    options: dict[str, Any]
    layout: str = Field(description="Stored (sanitised) file name of the layout.")
    attachments: list[str]
    created_at: float
    started_at: float | None
    finished_at: float | None
    attempts: int = Field(description="How many times a worker has started this job.")
    error: str | None = None
    time_limit_s: float | None = Field(
        None,
        description="Wall-clock seconds an attempt may run, recorded at submission: the job's "
        "option timeout_s, else the service's limits.job_timeout_s. The worker that runs the job "
        "may enforce a lower limit of its own.",
    )
    events: list[JobEvent] = Field(default_factory=list)


class JobSummary(BaseModel):
    id: str
    kind: str
    state: JobState
    percent: float
    layout: str
    created_at: float


class JobList(BaseModel):
    jobs: list[JobSummary]
    next_page_token: str | None = Field(
        None, description="Pass as page_token to get the next page; absent on the last page."
    )


class Artifact(BaseModel):
    name: str = Field(description="Path relative to the job's artifact folder ('/' separated).")
    size: int
    media_type: str


class ArtifactList(BaseModel):
    job_id: str
    artifacts: list[Artifact]


class Limits(BaseModel):
    max_upload_bytes: int
    max_file_bytes: int
    max_layout_bytes: int
    max_files: int
    rate_per_s: float
    rate_burst: int
    job_timeout_s: float = Field(
        description="Wall-clock seconds a job may run (each attempt) before it is stopped and "
        "ends EXECUTOR_ERROR; a job can ask for less with the option timeout_s. A worker may "
        "enforce a lower limit of its own (its operator's --job-timeout)."
    )


class ServiceInfo(BaseModel):
    name: str = "vfactory"
    version: str
    api_version: str = "v1"
    kinds: list[str] = Field(description="Job kinds this server accepts.")
    states: list[JobState]
    limits: Limits
