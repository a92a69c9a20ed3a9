"""The protocol-adapter interface every service dialect implements.

An adapter is code for one API dialect (Cloudgene, GA4GH WES, DNAstack); a service is
data (:class:`~fedimpute.models.ServiceConfig`).  Adapters are async, receive their
``httpx.AsyncClient``, return pydantic models (never raw JSON), map remote states onto
:class:`~fedimpute.models.JobStatus` with an explicit table, and raise only
:class:`~fedimpute.exceptions.ServiceError` subclasses.  What a dialect cannot do is
declared in ClassVar capability flags, so callers grey out a control instead of
catching an error.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from fedimpute.models import (  # noqa: F401  SubmitOptions is re-exported for the adapters
    HealthRecord,
    JobStatus,
    MessageLevel,
    ReferencePanel,
    ServiceConfig,
    SubmitOptions,
)

__all__ = [
    "DownloadedFile",
    "ImputationService",
    "ProgressCallback",
    "RemoteFile",
    "RemoteJob",
    "RemoteMessage",
    "RemoteStep",
    "SubmitOptions",
    "TokenInfo",
    "registry",
]

ProgressCallback = Callable[[int, int], None]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TokenInfo(_Frozen):
    """What the service said about a token.  ``valid`` is None when it could not be asked (network
    failure, maintenance, a URL that is not the service): that is not a refusal, and ``message`` says why."""

    valid: bool | None
    user: str | None = None
    expires_at: datetime | None = None
    message: str = ""


class RemoteMessage(_Frozen):
    time: datetime | None = None
    level: MessageLevel = MessageLevel.INFO
    text: str


class RemoteStep(_Frozen):
    name: str
    messages: list[RemoteMessage] = Field(default_factory=list)


class RemoteFile(_Frozen):
    """A result file as listed by the service; ``url`` downloads it with one GET."""

    name: str
    url: str
    size_hint: str | None = None
    downloads_left: int | None = None


class RemoteJob(_Frozen):
    """A job as the service reports it, already mapped onto fedimpute's statuses."""

    remote_id: str
    name: str | None = None
    submission_key: str | None = Field(default=None, description="fedimpute's job id, when the service "
                                       "keeps it (WES tags, the Cloudgene job name)")
    status: JobStatus
    remote_state: str
    queue_position: int | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    steps: list[RemoteStep] = Field(default_factory=list)
    outputs: list[RemoteFile] = Field(default_factory=list)
    results_expired: bool = False
    expires_at: datetime | None = Field(default=None, description="When the service deletes the results "
                                        "(None where the protocol does not say).")
    restartable: bool = False
    error: str | None = None
    password: SecretStr | None = Field(default=None, description="A result password the service wrote "
                                       "into a message; already removed from the messages.")


class DownloadedFile(_Frozen):
    name: str
    path: Path
    size: int
    sha256: str
    md5: str


_registry: dict[str, type[ImputationService]] = {}
registry = MappingProxyType(_registry)


class ImputationService(ABC):
    """Base of the protocol adapters; subclasses register themselves under ``protocol``."""

    protocol: ClassVar[str] = ""
    can_cancel: ClassVar[bool] = False
    can_restart: ClassVar[bool] = False
    discovers_panels: ClassVar[bool] = False
    lists_jobs: ClassVar[bool] = False
    verifies_token: ClassVar[bool] = False
    needs_token: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.protocol:
            return
        if cls.protocol in _registry:
            raise TypeError(f"protocol {cls.protocol!r} is already registered by {_registry[cls.protocol]}")
        _registry[cls.protocol] = cls

    def __init__(self, config: ServiceConfig, client: httpx.AsyncClient, token: SecretStr | None) -> None:
        self.config, self.client, self.token = config, client, token

    @property
    def name(self) -> str:
        return self.config.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.name!r}, {self.config.url!r})"

    @classmethod
    def restartable(cls, remote_state: str | None) -> bool:
        """Whether a job the service reports in ``remote_state`` can be restarted there (never, unless
        the adapter has ``can_restart``); lets a view offer Restart without asking the service."""
        return False

    @abstractmethod
    async def health(self) -> HealthRecord: ...

    @abstractmethod
    async def verify_token(self) -> TokenInfo: ...

    @abstractmethod
    async def discover_panels(self) -> list[ReferencePanel]: ...

    @abstractmethod
    async def submit(self, files: list[Path], options: SubmitOptions, *, job_name: str,
                     submission_key: str | None = None,
                     progress: ProgressCallback | None = None) -> str:
        """Send the job; return the service's id for it.

        ``submission_key`` is fedimpute's job id: adapters that can label a run (WES tags) attach it,
        so that a submission whose answer was lost can be found on the service again.
        """

    @abstractmethod
    async def get_job(self, remote_id: str, *, previous: JobStatus | None = None) -> RemoteJob: ...

    @abstractmethod
    async def list_jobs(self, *, wanted: set[str] | None = None) -> list[RemoteJob]:
        """The account's jobs, at least those whose ids are in ``wanted`` when given (an adapter may
        stop paging once it has seen them all, or read everything in one request when that is cheaper)."""

    @abstractmethod
    async def cancel(self, remote_id: str) -> RemoteJob: ...

    @abstractmethod
    async def download(self, remote: RemoteFile, dest: Path, *,
                       progress: ProgressCallback | None = None) -> DownloadedFile: ...
