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
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from fedimpute._http import build_client
from fedimpute.credentials import Credentials
from fedimpute.exceptions import (
    AuthenticationError,
    QuotaExceededError,
    RemoteRejectedError,
    ServiceError,
    TransientServiceError,
    UsageError,
)
from fedimpute.models import HealthRecord, Job, JobStatus, ReferencePanel, ServiceConfig, StepMessage, utcnow
from fedimpute.services import adapter_class
from fedimpute.services.base import ImputationService, ProgressCallback, RemoteJob, SubmitOptions, TokenInfo
from fedimpute.services.tokens import token_check_failed
from fedimpute.store import Store

__all__ = ["Hub", "apply_remote", "process_id", "update_parent"]

ClientFactory = Callable[[ServiceConfig], httpx.AsyncClient]
DEFAULT_POLL = {"cloudgene": 60.0}
SLOT_RETRY_SECONDS = 300.0
SLOT_RETRY_MAX = 3600.0


def process_id() -> str:
    """``host:pid`` of this process, to tell whether an interrupted upload's process is still alive."""
    return f"{socket.gethostname()}:{os.getpid()}"


def update_parent(store: Store, parent_id: str | None) -> None:
    """Derive a fan-out parent's status from its children."""
    if not parent_id:
        return
    statuses = {c.status for c in store.list_jobs(parent_id=parent_id)}
    if not statuses:
        return
    if statuses <= {JobStatus.COMPLETED}:
        status = JobStatus.COMPLETED
    elif statuses <= {JobStatus.CANCELLED}:
        status = JobStatus.CANCELLED
    elif all(s.is_terminal for s in statuses):
        status = JobStatus.FAILED if JobStatus.FAILED in statuses else JobStatus.COMPLETED
    elif statuses & {JobStatus.RUNNING, JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}:
        status = JobStatus.RUNNING
    elif JobStatus.QUEUED in statuses:
        status = JobStatus.QUEUED
    else:
        status = JobStatus.PENDING
    counts = ", ".join(f"{sum(1 for c in store.list_jobs(parent_id=parent_id) if c.status is s)} {s.value}"
                       for s in JobStatus if s in statuses)
    store.update_job(parent_id, status=status, detail=f"children: {counts}")


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
                except ServiceError as exc:  # 401/403: refused; unreachable: unknown, not "invalid"
                    token = token_check_failed(exc)
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

    def record_job(self, files: list[Path], service: str, options: SubmitOptions, *, owner: str,
                   parent_id: str | None = None) -> Job:
        """Validate and commit the job row (``pending``) and its password; nothing is sent yet."""
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
        self.store.add_job(job, detail=f"recorded before upload to {config.name}")
        return job

    def options_of(self, job: Job) -> SubmitOptions:
        """The submission options of a recorded job (the password comes from the secret store)."""
        return SubmitOptions(panel=job.panel or "", build=job.build, population=job.population, name=job.name,
                             password=self.credentials.password(job.job_id), **job.options)

    async def send(self, job_id: str, *, progress: ProgressCallback | None = None) -> Job:
        """Upload a recorded job, if the service has a free slot.

        Over the service's ``max_concurrent_jobs`` the job stays ``pending`` (``waiting_for_slot``)
        with no request made; the monitor sends it in the sweep that sees a slot free.  A refusal
        by the service itself ("Only N jobs ...", jobs started elsewhere) waits the same way, with
        a slow fallback timer.  A lost connection leaves it ``pending`` with an unknown outcome,
        reconciled before any retry.
        """
        job = self.store.get_job(job_id)
        config = self.store.get_service(job.service)
        held = self.store.claim_slot(job_id, job.service, config.max_concurrent_jobs, process_id())
        if held is not None:
            return self.store.update_job(job_id, error=f"waiting for a free slot on {job.service}: {held} of "
                                         f"{config.max_concurrent_jobs} jobs running (max_concurrent_jobs)")
        files = [Path(p) for p in job.inputs]
        try:
            async with self.adapter(config) as adapter:
                remote_id = await adapter.submit(files, self.options_of(job), job_name=job.name or job.job_id,
                                                 submission_key=job.job_id, progress=progress)
        except QuotaExceededError as exc:
            self._wait_after_refusal(job_id, exc)
            return self.store.get_job(job_id)
        except TransientServiceError as exc:
            self.store.set_tracking(job_id, submit_state="unknown")
            self.store.update_job(job_id, error=f"upload interrupted ({exc.detail}); the monitor looks for the "
                                  "job on the service before it sends it again")
            raise
        except (ServiceError, UsageError) as exc:
            self.store.set_tracking(job_id, submit_state="refused")
            self.store.update_job(job_id, status=JobStatus.FAILED, error=str(exc), detail="submission refused")
            raise
        return self.adopt(job_id, remote_id, detail=f"accepted by {job.service} as {remote_id}")

    def _wait_after_refusal(self, job_id: str, exc: QuotaExceededError) -> None:
        """The service refused the upload for its quota: wait for a slot-free event, or the fallback
        timer (doubling from 5 minutes to an hour) for slots taken by jobs fedimpute does not know."""
        refusals = int(self.store.tracking(job_id).get("poll_failures") or 0) + 1
        delay = min(SLOT_RETRY_MAX, SLOT_RETRY_SECONDS * 2 ** (refusals - 1))
        self.store.set_tracking(job_id, submit_state="waiting_for_slot", submit_owner=None, poll_failures=refusals,
                                submit_after=utcnow() + timedelta(seconds=delay))
        job = self.store.get_job(job_id)
        self.store.update_job(job_id, error=f"waiting for a free slot on {job.service}: {exc.detail}")

    def adopt(self, job_id: str, remote_id: str, *, detail: str) -> Job:
        """Record that the service holds the job as ``remote_id``."""
        self.store.set_tracking(job_id, submit_state="submitted", submit_owner=None, poll_failures=0)
        return self.store.update_job(job_id, status=JobStatus.QUEUED, remote_id=remote_id, submitted_at=utcnow(),
                                     error=None, detail=detail)

    async def submit(self, files: list[Path], service: str, options: SubmitOptions, *,
                     owner: str, parent_id: str | None = None,
                     progress: ProgressCallback | None = None) -> Job:
        """Record the job, then upload; returns the job as the store has it afterwards."""
        job = self.record_job(files, service, options, owner=owner, parent_id=parent_id)
        return await self.send(job.job_id, progress=progress)

    async def submit_many(self, files: list[Path], services: list[str], options: SubmitOptions, *,
                          owner: str, progress: Callable[[str, int, int], None] | None = None) -> tuple[Job, list[Job]]:
        """Fan one input out to several services: a parent job and one child per service."""
        for name in services:
            self.store.get_service(name)
        parent = self.store.add_job(Job(service="*", owner=owner, name=options.name, panel=options.panel,
                                        build=options.build, inputs=[str(f.resolve()) for f in files],
                                        options={"services": services}), detail="fan-out parent recorded")
        children = [self.record_job(files, s, options, owner=owner, parent_id=parent.job_id) for s in services]
        sent = []
        for child in children:
            report = (lambda d, t, s=child.service: progress(f"upload to {s}", d, t)) if progress else None
            try:
                sent.append(await self.send(child.job_id, progress=report))
            except TransientServiceError:
                sent.append(self.store.get_job(child.job_id))
        update_parent(self.store, parent.job_id)
        return self.store.get_job(parent.job_id), sent

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
        """Poll until the job is terminal (or ``timeout`` seconds pass: then TimeoutError).

        A poll whose report equals the previous one costs one request and no store access: a
        DuckDB open costs tens of milliseconds of CPU, taken from the job itself on a local engine.
        """
        job = self.store.get_job(job_id)
        config = self.store.get_service(job.service)
        interval = self.poll_interval(config) if interval is None else interval
        deadline = None if timeout is None else time.monotonic() + timeout
        last: RemoteJob | None = None
        async with self.adapter(config) as adapter:
            while True:
                try:
                    if job.remote_id:
                        remote = await adapter.get_job(job.remote_id, previous=job.status)
                        if remote != last:
                            job, last = apply_remote(self.store, self.credentials, self.store.get_job(job_id),
                                                     remote), remote
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
        """Re-queue a job the service lost to a restart of its own (Cloudgene DEAD, state -1).

        Refused before any request where the protocol has no restart (a UsageError naming it), and
        after one fresh read of the job where its current state cannot be restarted: the service
        would refuse it anyway ("Job ... is not pending."), less clearly.
        """
        job = self.store.get_job(job_id)
        if job.service == "*":
            raise UsageError(f"job {job_id} is a fan-out parent; restart its children (listed by "
                             f"`fedimpute jobs show {job_id}`)")
        config = self.store.get_service(job.service)
        if not adapter_class(config.protocol.value).can_restart:
            raise UsageError(f"restarting jobs is not supported by the {config.protocol.value} protocol of "
                             f"service {config.name}; submit the input again with `fedimpute submit`")
        if not job.remote_id:
            raise UsageError(f"job {job_id} never reached {config.name}, so there is nothing to restart there; "
                             f"the monitor sends it (`fedimpute jobs refresh`)")
        async with self.adapter(config) as adapter:
            remote = await adapter.get_job(job.remote_id, previous=job.status)
            job = apply_remote(self.store, self.credentials, job, remote)
            if not remote.restartable:
                raise UsageError(f"job {job_id} is {job.status.value} (remote state {remote.remote_state}) on "
                                 f"{config.name}; only a job the service lost to a restart of its own (dead) can be "
                                 "restarted")
            said = await adapter.restart(job.remote_id)
        job = self.store.update_job(job_id, status=JobStatus.QUEUED, started_at=None, finished_at=None,
                                    expires_at=None, error=None, detail=f"restarted on {config.name}: {said}")
        update_parent(self.store, job.parent_id)
        return job

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
    if messages:
        store.add_step_messages(messages)
    if remote.outputs:
        store.add_result_names(job.job_id, [f.name for f in remote.outputs])
    detail = f"remote state {remote.remote_state}"
    if remote.error and remote.status is JobStatus.FAILED:
        detail += f": {remote.error.splitlines()[0][:200]}"
    if remote.results_expired:
        detail += " (results deleted by the service)"
    changes: dict[str, Any] = {"remote_state": remote.remote_state, "queue_position": remote.queue_position}
    for key in ("started_at", "finished_at", "expires_at"):
        if getattr(remote, key) is not None:
            changes[key] = getattr(remote, key)
    if remote.status is JobStatus.FAILED:
        changes["error"] = remote.error
    if remote.status is job.status and all(getattr(job, k) == v for k, v in changes.items()):
        return job  # nothing new: no write
    updated = store.update_job(job.job_id, status=remote.status, detail=detail, **changes)
    if job.parent_id and updated.status is not job.status:
        update_parent(store, job.parent_id)
    return updated
