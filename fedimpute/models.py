"""Domain models shared by the store, the adapters, the CLI and the UI.

They are pydantic v2 models so that every boundary (DuckDB rows, JSON from a
service, CLI ``--json`` output) validates the same way.  Secrets are
:class:`pydantic.SecretStr`: their ``repr`` and JSON dump never show the value.
Timestamps are timezone-aware UTC ``datetime`` objects; JSON renders them as
ISO 8601 strings ending in ``Z``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = [
    "HealthHistory",
    "HealthRecord",
    "HealthStatus",
    "Job",
    "JobEvent",
    "JobStatus",
    "MessageLevel",
    "Population",
    "Protocol",
    "ReferencePanel",
    "ResultFile",
    "ServiceConfig",
    "StepMessage",
    "SubmitOptions",
    "new_job_id",
    "uptime_of",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond (DuckDB keeps microseconds)."""
    return datetime.now(UTC)


def new_job_id() -> str:
    """A fedimpute job id: sortable by creation time, unique without a round trip.

    The random suffix makes two ids created in the same second by two processes
    differ; the id doubles as the client-side submission key sent with a job.
    """
    return f"fi-{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class JobStatus(StrEnum):
    """The six statuses of the CLI contract; adapters map remote states onto them."""

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class Protocol(StrEnum):
    """The names of fedimpute's built-in protocols, for code that wants a constant.  A service's
    ``protocol`` is a plain string: any name the adapter registry knows (:mod:`fedimpute.services`),
    third-party ones included, so this enum is not the list of what exists."""

    CLOUDGENE = "cloudgene"
    WES = "wes"
    DNASTACK = "dnastack"
    LOCAL = "local"


class HealthStatus(StrEnum):
    UP = "up"
    DOWN = "down"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


class MessageLevel(StrEnum):
    """Step message levels; Cloudgene types 0/1/2/3 map to info/error/warning/running."""

    INFO = "info"
    ERROR = "error"
    WARNING = "warning"
    RUNNING = "running"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServiceConfig(_Model):
    """One entry of the service catalogue: data, not code (the protocol picks the adapter)."""

    name: str = Field(description="Unique short name used on the command line.")
    protocol: str = Field(description="The adapter's protocol name (`cloudgene`, `wes`, ...): checked against "
                          "the registry when an entry is made, not when one is read, so a service whose "
                          "adapter package is not installed still lists.")
    url: str = Field(description="Base URL of the service (no trailing slash).")
    app: str | None = Field(default=None, description="Cloudgene app id to submit to.")
    description: str = ""
    location: str = Field(default="", description="Where the service runs (country, institution).")
    enabled: bool = True
    builtin: bool = False
    settings: dict[str, str] = Field(default_factory=dict, description="Protocol settings (`--set`).")
    min_samples: int | None = None
    max_samples: int | None = None
    max_upload_mb: int | None = None
    max_concurrent_jobs: int | None = None
    builds: list[str] = Field(default_factory=lambda: ["hg19", "hg38"])

    @field_validator("name")
    @classmethod
    def _name_is_simple(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "-_." for c in value):
            raise ValueError(
                f"service name {value!r} may only hold letters, digits, '-', '_' and '.'; "
                "choose a short name such as 'michigan' or 'my-wes'"
            )
        return value

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_is_a_name(cls, value: object) -> str:
        text = str(value.value if isinstance(value, Protocol) else value)
        if not text or not all(c.isalnum() or c in "-_" for c in text):
            raise ValueError(f"protocol {text!r} must be a name such as 'cloudgene' or 'wes'")
        return text

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"service URL {value!r} must start with http:// or https://")
        return value.rstrip("/")


class Population(_Model):
    id: str
    label: str


class ReferencePanel(_Model):
    """A reference panel offered by a service; ``panel_id`` is the short id (``hapmap-2``)."""

    service: str
    panel_id: str
    key: str | None = Field(default=None, description="The service's own key (`apps@id@version`).")
    name: str
    build: str | None = None
    populations: list[Population] = Field(default_factory=list)
    samples: int | None = None
    variants: int | None = None
    discovered_at: datetime | None = None


class SubmitOptions(_Model):
    """Service-independent submission options (the CLI's ``submit`` flags)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    panel: str
    build: str | None = None
    population: str | None = None
    phasing: str | None = None
    r2_filter: str | None = None
    mode: str | None = None
    name: str | None = None
    password: SecretStr | None = None
    meta: bool = False
    aes: bool = False


class Job(_Model):
    """fedimpute's record of one job on one service."""

    job_id: str = Field(default_factory=new_job_id)
    parent_id: str | None = None
    name: str | None = None
    service: str
    panel: str | None = None
    build: str | None = None
    population: str | None = None
    owner: str
    remote_id: str | None = None
    status: JobStatus = JobStatus.PENDING
    remote_state: str | None = None
    queue_position: int | None = None
    submission_key: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    inputs: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    expires_at: datetime | None = Field(default=None, description="When the service deletes the results "
                                        "(None where unknown).")
    error: str | None = None


class JobEvent(_Model):
    """One status change of a job: written for every transition, never updated."""

    job_id: str
    time: datetime = Field(default_factory=utcnow)
    old_status: JobStatus | None = None
    status: JobStatus
    detail: str = ""


class StepMessage(_Model):
    """A message a service logged under one step of a job (plain text, HTML stripped)."""

    job_id: str
    step_index: int
    step: str
    message_index: int
    time: datetime | None = None
    level: MessageLevel = MessageLevel.INFO
    text: str


class ResultFile(_Model):
    """A result file of a job, listed by the service and (once fetched) verified on disk."""

    job_id: str
    name: str
    size: int | None = None
    sha256: str | None = None
    path: str | None = None
    url: str | None = None
    downloaded_at: datetime | None = None


class HealthRecord(_Model):
    """One health check of a service."""

    service: str
    status: HealthStatus
    checked_at: datetime | None = Field(default_factory=utcnow)
    detail: str = ""
    latency_ms: float | None = None


class HealthHistory(_Model):
    """A service's health checks over a period, oldest first, and the share that found it up.

    ``uptime`` is None without checks: "never checked" is not "always down".  Maintenance counts
    as not up (the service could not take jobs); a check that could not tell (``unknown``) is left out.
    """

    service: str
    since: datetime
    checks: list[HealthRecord] = Field(default_factory=list)

    @property
    def uptime(self) -> float | None:
        return uptime_of(self.checks)


def uptime_of(checks: list[HealthRecord]) -> float | None:
    """The share of ``checks`` that found the service up; ``unknown`` ones are left out (None without any)."""
    known = [c for c in checks if c.status is not HealthStatus.UNKNOWN]
    if not known:
        return None
    return sum(1 for c in known if c.status is HealthStatus.UP) / len(known)
