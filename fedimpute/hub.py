"""The async Python API: one object that ties the store, the credentials and the adapters.

>>> hub = Hub()                                                   # doctest: +SKIP
>>> job = await hub.submit([Path("chr20.vcf.gz")], "michigan",    # doctest: +SKIP
...                        SubmitOptions(panel="hapmap-2", build="hg19"))
>>> job = await hub.wait(job.job_id)                              # doctest: +SKIP

The rules of a job's life live in :mod:`fedimpute.jobs` (record before upload, quotas, one
write path for remote reports) and the monitor's sweeps in :mod:`fedimpute.monitor`; this
module only ties them to one store and one set of credentials.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from fedimpute._http import build_client
from fedimpute.credentials import Credentials, MissingTokenError
from fedimpute.exceptions import ServiceError, UsageError
from fedimpute.jobs import JobLifecycle, submit
from fedimpute.models import HealthRecord, Job, ReferencePanel, ServiceConfig
from fedimpute.owners import default_owner
from fedimpute.preflight import PreflightReport
from fedimpute.services import adapter_class
from fedimpute.services.base import ImputationService, ProgressCallback, RemoteJob, SubmitOptions, TokenInfo
from fedimpute.services.tokens import token_check_failed
from fedimpute.store import Store

__all__ = ["Hub"]

ClientFactory = Callable[[ServiceConfig], httpx.AsyncClient]


class Hub:
    """Submit, follow, cancel and fetch jobs on any catalogued service: the facade over the store,
    the credentials, the adapters and the job life cycle (:mod:`fedimpute.jobs`)."""

    def __init__(self, store: Store | None = None, credentials: Credentials | None = None, *,
                 client_factory: ClientFactory | None = None) -> None:
        self.store = store or Store()
        self.credentials = credentials or Credentials(self.store.home)
        self._client_factory = client_factory or (
            lambda service: build_client(service.url, ca_bundle=service.settings.get("ca_bundle")))
        self.jobs = JobLifecycle(self.store, self.credentials, self)

    def with_request_hook(self, hook: Callable[[httpx.Request], Awaitable[None]]) -> Hub:
        """A hub on the same store whose every HTTP request passes through ``hook`` first (the
        monitor counts its requests and names itself in the User-Agent this way)."""
        base = self._client_factory

        def factory(service: ServiceConfig) -> httpx.AsyncClient:
            client = base(service)
            client.event_hooks["request"].append(hook)
            return client

        return Hub(self.store, self.credentials, client_factory=factory)

    @asynccontextmanager
    async def adapter(self, service: str | ServiceConfig, *, token: SecretStr | None = None,
                      owner: str | None = None) -> AsyncIterator[ImputationService]:
        """An adapter for ``service`` with a fresh HTTP client, closed on exit.  It sends ``token`` when
        given (a token being verified before it is stored), else the token of ``owner``'s jobs (see
        :meth:`token_for`)."""
        config = service if isinstance(service, ServiceConfig) else self.store.get_service(service)
        cls = adapter_class(config.protocol, service=config.name)
        if token is None:
            token = self.token_for(config, owner)
        async with self._client_factory(config) as client:
            yield cls(config, client, token)

    def token_for(self, service: str | ServiceConfig, owner: str | None) -> SecretStr | None:
        """The token requests for ``owner``'s jobs send to ``service``.  Refused before any request
        (:class:`MissingTokenError`) when ``owner`` has none, the lab has none and the protocol needs one.
        Without an owner: :meth:`acting_token`."""
        config = service if isinstance(service, ServiceConfig) else self.store.get_service(service)
        if not owner:
            return self.acting_token(config.name)
        token = self.credentials.token(config.name, owner)
        if token is None and adapter_class(config.protocol, service=config.name).needs_token:
            raise MissingTokenError(config.name, owner)
        return token

    def acting_token(self, name: str, user: str | None = None) -> SecretStr | None:
        """The token of a request made for no job (a check, panel discovery): ``user``'s, else the shared
        one.  Without ``user``, a one-person process (credentials that read the environment: the CLI, a
        notebook) acts for its user (``FEDIMPUTE_USER``, else the login name); a served dashboard, whose
        credentials do not read the environment, names the signed-in user or gets the shared token."""
        if not user and self.credentials.environment:
            user = default_owner()
        return self.credentials.token(name, user)

    def poll_interval(self, service: ServiceConfig) -> float:
        """Seconds between polls of one job: the service's ``poll_interval`` setting, else its protocol's."""
        return adapter_class(service.protocol, service=service.name).poll_seconds(service)

    # -- services ----------------------------------------------------------------------------

    async def check_service(self, name: str, *, user: str | None = None) -> tuple[HealthRecord, TokenInfo | None]:
        """Health (recorded in the store) and, where the protocol can tell, the validity of the token
        ``user``'s requests would send (theirs, else the shared one)."""
        async with self.adapter(name, token=self.acting_token(name, user)) as adapter:
            health = await adapter.health()
            token = None
            if adapter.verifies_token and adapter.token is not None:
                try:
                    token = await adapter.verify_token()
                except ServiceError as exc:  # 401/403: refused; unreachable: unknown, not "invalid"
                    token = token_check_failed(exc)
        self.store.record_health(health)
        return health, token

    async def verify_token(self, name: str, token: SecretStr | None = None, *,
                           user: str | None = None) -> TokenInfo | None:
        """What the service says of ``token`` (default: the one ``user``'s requests send); None where the
        protocol cannot tell."""
        async with self.adapter(name, token=token or self.acting_token(name, user)) as adapter:
            return await adapter.verify_token() if adapter.verifies_token else None

    async def oauth_login(self, name: str, *, client_id: str | None = None, client_secret: str | None = None,
                          on_prompt: Callable[[str, str], None] | None = None, user: str | None = None) -> None:
        """Get a token through the service's OAuth2 endpoints and store it as ``user``'s (None: the
        lab's shared token): client credentials when ``client_id``/``client_secret`` are given, else
        the device-code flow.  A protocol without OAuth2 login refuses with a NotSupportedError naming it."""
        async with self.adapter(name, token=self.acting_token(name, user)) as adapter:
            token = await adapter.oauth_login(client_id=client_id, client_secret=client_secret, on_prompt=on_prompt)
        self.credentials.set_token(name, token, user=user)

    async def panels(self, name: str, *, refresh: bool = False, user: str | None = None) -> list[ReferencePanel]:
        """Panels of ``name``: from the store's cache, discovered live (with ``user``'s token, else the
        shared one) when empty or ``refresh``."""
        cached = self.store.list_panels(name)
        if cached and not refresh:
            return cached
        service = self.store.get_service(name)
        async with self.adapter(service, token=self.acting_token(name, user)) as adapter:
            panels = await adapter.discover_panels()
        self.store.replace_panels(name, panels)
        return self.store.list_panels(name)

    # -- jobs: the life cycle (fedimpute.jobs) behind one object ----------------------------------

    async def submit(self, files: list[Path], service: str, options: SubmitOptions, *, owner: str,
                     check: bool = True, reports: Mapping[str, PreflightReport] | None = None,
                     progress: ProgressCallback | None = None) -> Job:
        """Run the pre-flight check (unless ``check=False``), record the job, then upload it.

        Returns the job as the store has it afterwards: ``queued``, or ``pending`` when it waits for a
        slot or its upload's outcome is unknown.  A failing check raises
        :class:`~fedimpute.jobs.PreflightFailedError` with nothing recorded or sent."""
        _, jobs = await submit(self.jobs, files, [service], options, owner=owner, check=check, reports=reports,
                               progress=(lambda _what, done, total: progress(done, total)) if progress else None)
        return jobs[0]

    async def submit_many(self, files: list[Path], services: list[str], options: SubmitOptions, *, owner: str,
                          check: bool = True, reports: Mapping[str, PreflightReport] | None = None,
                          progress: Callable[[str, int, int], None] | None = None) -> tuple[Job, list[Job]]:
        """Fan one input out to several services: a parent job and one child per service."""
        if len(services) < 2:
            raise UsageError("a fan-out needs two or more services; use submit() for one")
        parent, children = await submit(self.jobs, files, services, options, owner=owner, check=check,
                                        reports=reports, progress=progress)
        assert parent is not None
        return parent, children

    def record_job(self, files: list[Path], service: str, options: SubmitOptions, *, owner: str,
                   parent_id: str | None = None) -> Job:
        """Record a job without sending it (the monitor, or :meth:`send`, sends it)."""
        return self.jobs.record(files, service, options, owner=owner, parent_id=parent_id)

    async def send(self, job_id: str, *, progress: ProgressCallback | None = None) -> Job:
        return await self.jobs.send(job_id, progress=progress)

    async def refresh(self, job_id: str) -> tuple[Job, RemoteJob | None]:
        """Read one job from its service and record what changed."""
        return await self.jobs.refresh(job_id)

    async def wait(self, job_id: str, *, timeout: float | None = None, interval: float | None = None,
                   on_update: Callable[[Job], None] | None = None) -> Job:
        """Until the job is terminal (or ``timeout`` seconds pass: then TimeoutError).

        The monitor's wait: while this process holds the home's monitor lease it follows the job
        directly (a sweep sends it while it still waits for a slot), and while another process polls
        it only reads the store."""
        from fedimpute.monitor import Monitor

        job = self.store.get_job(job_id)
        tick = interval if interval is not None else min(2.0, self.poll_interval(self.store.get_service(job.service)))
        return await Monitor(self, auto_download=False).wait_for(job_id, timeout=timeout, tick=tick,
                                                                on_update=on_update, focused=True)

    async def cancel(self, job_id: str) -> Job:
        """Cancel remotely, then locally; a pending job that never reached the service is cancelled here."""
        return await self.jobs.cancel(job_id)

    async def restart(self, job_id: str) -> Job:
        """Re-queue a job the service lost to a restart of its own (Cloudgene DEAD, state -1)."""
        return await self.jobs.restart(job_id)

    async def download_results(self, job_id: str, dest: Path | None = None, *, password: str | None = None,
                               progress: Callable[[str, int, int], None] | None = None) -> list[dict[str, Any]]:
        """Fetch every result file once, verify, decrypt and extract (:mod:`fedimpute.results`)."""
        from fedimpute.results import download_results

        return await download_results(self.jobs, job_id, dest, password=password, progress=progress)
