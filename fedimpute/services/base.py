"""The protocol-adapter interface every service dialect implements.

An adapter is code for one API dialect (Cloudgene, GA4GH WES, DNAstack); a service is
data (:class:`~fedimpute.models.ServiceConfig`).  An adapter owns everything about its
protocol: its settings (a pydantic model, :attr:`ImputationService.Settings`), its default
poll interval and QC limits, how its token travels (an ``httpx.Auth`` set on its client),
the service's own error wording (:meth:`ImputationService.refine_error`) and what it can do.
Adapters are async, return pydantic models (never raw JSON), map remote states onto
:class:`~fedimpute.models.JobStatus` with an explicit table, and raise only
:class:`~fedimpute.exceptions.FedImputeError` subclasses.

Capabilities beyond submit-and-follow (cancel, restart, list jobs, check a token, OAuth2
login) are methods here that raise :class:`~fedimpute.exceptions.NotSupportedError`; an
adapter that overrides one has it, and the matching ClassVar flag (``can_cancel`` ...) is
derived from that, so a view greys out a control instead of catching an error.  The same
holds for :meth:`ImputationService.terms` (``declares_terms``), whose default is "no terms".
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from fedimpute._http import check_response, json_body, transport_errors
from fedimpute.downloads import DownloadedFile, ProgressCallback, safe_join, stream_to_file
from fedimpute.exceptions import NotSupportedError, ServiceError
from fedimpute.models import (  # noqa: F401  SubmitOptions is re-exported for the adapters
    HealthRecord,
    JobStatus,
    MessageLevel,
    ReferencePanel,
    ServiceConfig,
    SubmitOptions,
)
from fedimpute.services.settings import ServiceSettings, validate_settings

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
    "terms_digest",
]

PromptCallback = Callable[[str, str], None]


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


#: ClassVar flag -> the capability method whose override sets it.
CAPABILITIES = {"can_cancel": "cancel", "can_restart": "restart", "lists_jobs": "list_jobs",
                "verifies_token": "verify_token", "logs_in": "oauth_login", "declares_terms": "terms"}


def terms_digest(terms: list[str]) -> str:
    """The SHA-256 of a service's terms as a user accepted them: another text is another digest, so a
    user is asked again when the service changes its terms.

    >>> terms_digest(["I agree."]) == terms_digest(["I agree."]) != terms_digest(["I agree!"])
    True
    """
    return hashlib.sha256(json.dumps(list(terms), ensure_ascii=False).encode()).hexdigest()


class ImputationService(ABC):
    """Base of the protocol adapters; the registry (:mod:`fedimpute.services`) finds them by ``protocol``."""

    protocol: ClassVar[str] = ""
    Settings: ClassVar[type[ServiceSettings]] = ServiceSettings
    #: Seconds between polls of one job when the service's ``poll_interval`` setting is unset.
    default_poll: ClassVar[float] = 10.0
    #: QC limits the protocol's server software applies when its operators set nothing else; filled into
    #: every limit a service entry leaves unset (:func:`fedimpute.catalogue.with_protocol_defaults`).
    default_limits: ClassVar[Mapping[str, object]] = MappingProxyType({})
    #: Every request needs a token: submission is refused before the upload when none is stored.
    needs_token: ClassVar[bool] = False
    can_cancel: ClassVar[bool] = False
    can_restart: ClassVar[bool] = False
    lists_jobs: ClassVar[bool] = False
    verifies_token: ClassVar[bool] = False
    logs_in: ClassVar[bool] = False
    declares_terms: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for flag, method in CAPABILITIES.items():
            setattr(cls, flag, getattr(cls, method) is not getattr(ImputationService, method))

    def __init__(self, config: ServiceConfig, client: httpx.AsyncClient, token: SecretStr | None) -> None:
        """Parse the entry's settings and set up ``client``: the service URL as its base (unless the
        caller gave one) and this protocol's auth, so every request carries the token where it belongs."""
        self.config, self.client, self.token = config, client, token
        self.settings = self.parse_settings(config.settings)
        if not str(client.base_url):
            client.base_url = config.url
        if (auth := self.auth()) is not None:
            client.auth = auth

    @classmethod
    def parse_settings(cls, raw: Mapping[str, str]) -> ServiceSettings:
        """A service entry's settings as this protocol's model (a UsageError names a bad key or value)."""
        return validate_settings(cls.Settings, cls.protocol, raw)

    @classmethod
    def poll_seconds(cls, config: ServiceConfig) -> float:
        """Seconds between polls of one job of ``config``: its ``poll_interval``, else the protocol's default."""
        chosen = cls.parse_settings(config.settings).poll_interval
        return cls.default_poll if chosen is None else chosen

    @classmethod
    def restartable(cls, remote_state: str | None) -> bool:
        """Whether a job the service reports in ``remote_state`` can be restarted there (never, unless
        the adapter has ``can_restart``); lets a view offer Restart without asking the service."""
        return False

    @property
    def name(self) -> str:
        return self.config.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.name!r}, {self.config.url!r})"

    # -- HTTP: one path for every request -------------------------------------------------------

    def auth(self) -> httpx.Auth | None:
        """How the token travels (set on the client); None sends no credentials."""
        return None

    def refine_error(self, error: ServiceError) -> ServiceError:
        """A more precise error for what the service said, where its own wording tells more than the
        status code (Cloudgene's quota messages); ``error`` itself otherwise."""
        return error

    @contextmanager
    def refined(self) -> Iterator[None]:
        """Re-raise a ServiceError raised inside as :meth:`refine_error` makes it."""
        try:
            yield
        except ServiceError as exc:
            better = self.refine_error(exc)
            if better is exc:
                raise
            raise better from exc

    async def request(self, method: str, url: str, *, what: str, sending: str | None = None,
                      **kwargs: Any) -> httpx.Response:
        """One request (``url`` relative to the service URL, or absolute); failures become ServiceErrors
        naming ``what`` (``sending`` instead, for a failure on the way: an upload answered as a submission)."""
        with self.refined(), transport_errors(self.name, what=sending or what):
            response = await self.client.request(method, url, **kwargs)
            return check_response(self.name, response, what=what)

    async def request_json(self, method: str, url: str, *, what: str, **kwargs: Any) -> Any:
        return json_body(self.name, await self.request(method, url, what=what, **kwargs), what=what)

    def not_supported(self, what: str, fix: str) -> NotSupportedError:
        return NotSupportedError(what, protocol=self.protocol, service=self.name, fix=fix)

    # -- what every protocol does ----------------------------------------------------------------

    @abstractmethod
    async def health(self) -> HealthRecord: ...

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

    async def download(self, remote: RemoteFile, dest: Path, *,
                       progress: ProgressCallback | None = None) -> DownloadedFile:
        """One GET of ``remote`` into ``dest`` (a folder); the name may hold sub-folders.  The client's
        auth decides whether the token goes along (only to the service's own hosts)."""

        with self.refined():
            return await stream_to_file(self.name, self.client, remote.url, safe_join(dest, remote.name),
                                        progress=progress)

    # -- what some protocols do (override to offer it) -------------------------------------------

    async def list_jobs(self, *, wanted: set[str] | None = None) -> list[RemoteJob]:
        """The account's jobs, at least those whose ids are in ``wanted`` when given (an adapter may
        stop paging once it has seen them all, or read everything in one request when that is cheaper)."""
        raise self.not_supported("listing jobs", "each job is read on its own")

    async def cancel(self, remote_id: str) -> RemoteJob:
        raise self.not_supported("cancelling jobs", "cancel the job on the service's own site")

    async def restart(self, remote_id: str) -> str:
        """Re-queue a job the service lost; returns what the service said."""
        raise self.not_supported("restarting jobs", "submit the input again with `fedimpute submit`")

    async def verify_token(self) -> TokenInfo:
        raise self.not_supported("checking tokens", "the token is first used by a request that needs it")

    async def terms(self) -> list[str]:
        """The terms a user accepts before submitting here, one text per checkbox of the service's own
        submission form (plain text); none unless the protocol declares some."""
        return []

    async def oauth_login(self, *, client_id: str | None = None, client_secret: str | None = None,
                          on_prompt: PromptCallback | None = None) -> str:
        """A new token from the service's OAuth2 endpoints: client credentials when ``client_id`` and
        ``client_secret`` are given, else the device-code flow (``on_prompt(url, code)`` shows the link)."""
        raise self.not_supported("OAuth2 login", f"store a token with `fedimpute login {self.name} --token`")
