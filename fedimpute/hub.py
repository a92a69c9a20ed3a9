"""The async Python API: one object that ties the store, the credentials and the adapters.

>>> hub = Hub()                                                   # doctest: +SKIP
>>> job = await hub.submit([Path("chr20.vcf.gz")], "michigan",    # doctest: +SKIP
...                        SubmitOptions(panel="hapmap-2", build="hg19"))
>>> job = await hub.wait(job.job_id)                              # doctest: +SKIP

Rules kept here: a job row is committed (``pending``) before a byte is uploaded; a
submission whose outcome is unknown (connection lost mid-upload) stays ``pending`` and
is never sent again automatically; every status change becomes an event; step
messages and result passwords are stored as they arrive.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from fedimpute._http import build_client
from fedimpute.credentials import Credentials
from fedimpute.exceptions import (
    AuthenticationError,
    RemoteRejectedError,
    ServiceError,
    TransientServiceError,
    UsageError,
)
from fedimpute.models import HealthRecord, Job, JobStatus, ReferencePanel, ServiceConfig, StepMessage, utcnow
from fedimpute.services import adapter_class
from fedimpute.services.base import ImputationService, ProgressCallback, RemoteJob, SubmitOptions, TokenInfo
from fedimpute.store import Store

__all__ = ["Hub", "apply_remote"]

ClientFactory = Callable[[ServiceConfig], httpx.AsyncClient]
DEFAULT_POLL = {"cloudgene": 60.0}


class Hub:
    """Submit, follow, cancel and fetch jobs on any catalogued service."""

    def __init__(self, store: Store | None = None, credentials: Credentials | None = None, *,
                 client_factory: ClientFactory | None = None) -> None:
        self.store = store or Store()
        self.credentials = credentials or Credentials(self.store.home)
        self._client_factory = client_factory or (lambda service: build_client(service.url))

    @asynccontextmanager
    async def adapter(self, service: str | ServiceConfig) -> AsyncIterator[ImputationService]:
        """An adapter for ``service`` with a fresh HTTP client, closed on exit."""
        config = service if isinstance(service, ServiceConfig) else self.store.get_service(service)
        cls = adapter_class(config.protocol.value)
        async with self._client_factory(config) as client:
            yield cls(config, client, self.credentials.token(config.name))

    def poll_interval(self, service: ServiceConfig) -> float:
        """Seconds between polls of one job: the service's ``poll_interval`` setting, else 60 for Cloudgene."""
        raw = service.settings.get("poll_interval")
        return float(raw) if raw else DEFAULT_POLL.get(service.protocol.value, 10.0)

    # -- services ----------------------------------------------------------------------------

    async def check_service(self, name: str) -> tuple[HealthRecord, TokenInfo | None]:
        """Health (recorded in the store) and, where the protocol can tell, the token's validity."""
        async with self.adapter(name) as adapter:
            health = await adapter.health()
            token = None
            if adapter.verifies_token and adapter.token is not None:
                try:
                    token = await adapter.verify_token()
                except ServiceError as exc:
                    token = TokenInfo(valid=False, message=exc.detail)
        self.store.record_health(health)
        return health, token

    async def verify_token(self, name: str) -> TokenInfo | None:
        async with self.adapter(name) as adapter:
            return await adapter.verify_token() if adapter.verifies_token else None

    async def oauth_login(self, name: str, *, client_id: str | None = None, client_secret: str | None = None,
                          on_prompt: Callable[[str, str], None] | None = None) -> None:
        """Get a token through the service's OAuth2 endpoints and store it in the secret store:
        client credentials when ``client_id``/``client_secret`` are given, else the device-code flow."""
        from fedimpute.services.dnastack_auth import client_credentials_token, device_code_login

        async with self.adapter(name) as adapter:
            config_of = getattr(adapter, "login_config", None)
            if config_of is None:
                raise UsageError(f"service {name} ({adapter.protocol}) has no OAuth2 login; use --token")
            config = await config_of()
            if config is None:
                raise UsageError(f"the registry of {name} lists no OAuth2 configuration; use --token")
            if client_id and client_secret:
                token, _ = await client_credentials_token(adapter.client, config.token_endpoint, client_id,
                                                          client_secret, config.resource or "", config.scope,
                                                          service=name)
            elif config.device_code_endpoint and config.client_id:
                token = await device_code_login(adapter.client, config.device_code_endpoint, config.token_endpoint,
                                                config.client_id, config.resource or "", config.scope,
                                                on_prompt=on_prompt or (lambda url, code: None), service=name)
            else:
                raise UsageError(f"{name} offers no device-code login; use --client-id with a client secret")
        self.credentials.set_token(name, token)

    async def panels(self, name: str, *, refresh: bool = False) -> list[ReferencePanel]:
        """Panels of ``name``: from the store's cache, discovered live when empty or ``refresh``."""
        cached = self.store.list_panels(name)
        if cached and not refresh:
            return cached
        service = self.store.get_service(name)
        async with self.adapter(service) as adapter:
            panels = await adapter.discover_panels()
        self.store.replace_panels(name, panels)
        return self.store.list_panels(name)

    # -- submission ----------------------------------------------------------------------------

    async def submit(self, files: list[Path], service: str, options: SubmitOptions, *,
                     owner: str, parent_id: str | None = None,
                     progress: ProgressCallback | None = None) -> Job:
        """Record the job, then upload; returns the job as the store has it afterwards."""
        config = self.store.get_service(service)
        _check_inputs(files)
        if adapter_class(config.protocol.value).needs_token and self.credentials.token(config.name) is None:
            raise AuthenticationError(config.name, f"no token stored; run `fedimpute login {config.name}` first")
        job = Job(service=config.name, owner=owner, parent_id=parent_id, name=options.name,
                  panel=options.panel, build=options.build, population=options.population,
                  inputs=[str(f.resolve()) for f in files],
                  options=options.model_dump(mode="json", exclude={"password", "name", "panel", "build",
                                                                    "population"}, exclude_none=True))
        job.submission_key = job.job_id
        password = options.password.get_secret_value() if options.password else secrets.token_urlsafe(18)
        self.credentials.set_password(job.job_id, password)
        options = options.model_copy(update={"password": SecretStr(password)})
        self.store.add_job(job, detail=f"recorded before upload to {config.name}")
        try:
            async with self.adapter(config) as adapter:
                remote_id = await adapter.submit(files, options, job_name=options.name or job.job_id,
                                                 submission_key=job.job_id, progress=progress)
        except TransientServiceError as exc:
            self.store.update_job(job.job_id, error=f"upload interrupted ({exc.detail}); the service may or "
                                  "may not have the job, so it is not sent again automatically")
            raise
        except (ServiceError, UsageError) as exc:
            self.store.update_job(job.job_id, status=JobStatus.FAILED, error=str(exc), detail="submission refused")
            raise
        return self.store.update_job(job.job_id, status=JobStatus.QUEUED, remote_id=remote_id,
                                     submitted_at=utcnow(), detail=f"accepted by {config.name} as {remote_id}")

    # -- following jobs ------------------------------------------------------------------------

    async def refresh(self, job_id: str, adapter: ImputationService | None = None) -> tuple[Job, RemoteJob | None]:
        """Read one job from its service and record what changed."""
        job = self.store.get_job(job_id)
        if not job.remote_id:
            return job, None
        if adapter is None:
            async with self.adapter(job.service) as fresh:
                remote = await fresh.get_job(job.remote_id, previous=job.status)
        else:
            remote = await adapter.get_job(job.remote_id, previous=job.status)
        return apply_remote(self.store, self.credentials, job, remote), remote

    async def wait(self, job_id: str, *, timeout: float | None = None, interval: float | None = None,
                   on_update: Callable[[Job], None] | None = None) -> Job:
        """Poll until the job is terminal (or ``timeout`` seconds pass: then TimeoutError)."""
        job = self.store.get_job(job_id)
        config = self.store.get_service(job.service)
        interval = self.poll_interval(config) if interval is None else interval
        deadline = None if timeout is None else time.monotonic() + timeout
        async with self.adapter(config) as adapter:
            while True:
                try:
                    job, _ = await self.refresh(job_id, adapter)
                except TransientServiceError as exc:  # the job is not failed because the service hiccuped
                    if on_update:
                        on_update(job.model_copy(update={"error": str(exc)}))
                else:
                    if on_update:
                        on_update(job)
                    if job.status.is_terminal or not job.remote_id:
                        return job
                if deadline is not None and time.monotonic() + interval > deadline:
                    raise TimeoutError(f"job {job_id} is still {job.status.value} after {timeout:g} s")
                await asyncio.sleep(interval)

    async def cancel(self, job_id: str) -> Job:
        """Cancel remotely, then locally; a pending job that never reached the service is cancelled here."""
        job = self.store.get_job(job_id)
        if job.status.is_terminal:
            raise UsageError(f"job {job_id} is already {job.status.value}; nothing to cancel")
        if not job.remote_id:
            return self.store.update_job(job_id, status=JobStatus.CANCELLED, detail="cancelled before submission")
        async with self.adapter(job.service) as adapter:
            if not adapter.can_cancel:
                raise UsageError(f"service {job.service} ({adapter.protocol}) cannot cancel jobs")
            remote = await adapter.cancel(job.remote_id)
            if remote.status is not JobStatus.CANCELLED:
                remote = await adapter.get_job(job.remote_id, previous=job.status)
        job = apply_remote(self.store, self.credentials, job, remote)
        if job.status is not JobStatus.CANCELLED:
            raise RemoteRejectedError(job.service, f"the service did not cancel job {job.remote_id}; it is "
                                      f"{job.status.value} (remote state {job.remote_state})")
        return job

    async def restart(self, job_id: str) -> Job:
        """Re-queue a job the service lost to a restart (Cloudgene DEAD, state -1)."""
        job = self.store.get_job(job_id)
        async with self.adapter(job.service) as adapter:
            if not adapter.can_restart or not job.remote_id:
                raise UsageError(f"job {job_id} cannot be restarted on {job.service}")
            await adapter.restart(job.remote_id)
        return self.store.update_job(job_id, status=JobStatus.QUEUED, finished_at=None, error=None,
                                     detail="restarted on the service")

    async def download_results(self, job_id: str, dest: Path | None = None, *, password: str | None = None,
                               progress: Callable[[str, int, int], None] | None = None) -> list[dict[str, Any]]:
        from fedimpute.results import download_results

        return await download_results(self, job_id, dest, password=password, progress=progress)


def _check_inputs(files: list[Path]) -> None:
    if not files:
        raise UsageError("no input files; give one bgzipped VCF (.vcf.gz) per chromosome")
    for f in files:
        if not f.is_file():
            raise UsageError(f"input file {f} does not exist")
        if not f.name.endswith(".vcf.gz"):
            raise UsageError(f"{f.name}: imputation servers only read *.vcf.gz (others are silently ignored); "
                             f"compress it with `bgzip -c {f.name} > {f.name.removesuffix('.vcf')}.vcf.gz`")


def apply_remote(store: Store, credentials: Credentials, job: Job, remote: RemoteJob) -> Job:
    """Record what the service reported: status (with an event), times, queue, messages, password."""
    if remote.password is not None and credentials.password(job.job_id) is None:
        credentials.set_password(job.job_id, remote.password)
    messages = [StepMessage(job_id=job.job_id, step_index=i, step=step.name, message_index=j, time=m.time,
                            level=m.level, text=m.text)
                for i, step in enumerate(remote.steps) for j, m in enumerate(step.messages)]
    store.add_step_messages(messages)
    store.add_result_names(job.job_id, [f.name for f in remote.outputs])
    detail = f"remote state {remote.remote_state}"
    if remote.error and remote.status is JobStatus.FAILED:
        detail += f": {remote.error.splitlines()[0][:200]}"
    if remote.results_expired:
        detail += " (results deleted by the service)"
    changes: dict[str, Any] = {"remote_state": remote.remote_state, "queue_position": remote.queue_position}
    for key in ("started_at", "finished_at"):
        if getattr(remote, key) is not None:
            changes[key] = getattr(remote, key)
    if remote.status is JobStatus.FAILED:
        changes["error"] = remote.error
    return store.update_job(job.job_id, status=remote.status, detail=detail, **changes)
