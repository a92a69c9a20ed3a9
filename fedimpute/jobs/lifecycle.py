"""A job's life on a service: record, send, adopt, refresh, cancel, restart.

Rules kept here, and only here: a job row is committed (``pending``) before a byte is
uploaded; a job over the service's ``max_concurrent_jobs`` waits without any request; a
submission whose outcome is unknown (connection lost mid-upload) stays ``pending`` and is
never sent again until the monitor has looked for it on the service; every status change
becomes an event (:mod:`fedimpute.jobs.state`).
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from fedimpute.credentials import Credentials
from fedimpute.exceptions import (
    QuotaExceededError,
    RemoteRejectedError,
    ServiceError,
    TransientServiceError,
    UsageError,
)
from fedimpute.jobs.state import apply_remote, update_parent
from fedimpute.models import Job, JobStatus, ServiceConfig, utcnow
from fedimpute.preflight import PreflightReport
from fedimpute.provenance.facts import input_facts
from fedimpute.services import adapter_class
from fedimpute.services.base import ImputationService, ProgressCallback, RemoteJob, SubmitOptions
from fedimpute.store import Store

__all__ = ["AdapterSource", "JobLifecycle", "process_id"]

#: A job the service refused for its quota is tried again after this long (doubling up to the
#: maximum) unless a slot-free event comes first: slots taken by jobs fedimpute does not know.
SLOT_RETRY_SECONDS = 300.0
SLOT_RETRY_MAX = 3600.0


class AdapterSource(Protocol):
    """What the life cycle needs from its owner (the :class:`~fedimpute.hub.Hub`): adapters to talk through."""

    def adapter(self, service: str | ServiceConfig, *,
                owner: str | None = None) -> AbstractAsyncContextManager[ImputationService]: ...


def process_id() -> str:
    """``host:pid`` of this process, to tell whether an interrupted upload's process is still alive."""
    return f"{socket.gethostname()}:{os.getpid()}"


class JobLifecycle:
    """The one owner of job-state writes that start from this side (the monitor adds the sweeps)."""

    def __init__(self, store: Store, credentials: Credentials, source: AdapterSource) -> None:
        self.store, self.credentials, self.source = store, credentials, source

    # -- submission ----------------------------------------------------------------------------

    def record(self, files: list[Path], service: str, options: SubmitOptions, *, owner: str,
               parent_id: str | None = None, reports: Sequence[PreflightReport] = ()) -> Job:
        """Validate and commit the job row (``pending``), its input facts and its password; nothing is
        sent yet.  ``reports``: this submission's pre-flight reports (their counts and verdicts are
        recorded; without one the files are scanned and the verdict is ``not checked``)."""
        config = self.store.get_service(service)
        check_inputs(files)
        self.check_token(config, owner)
        job = Job(service=config.name, owner=owner, parent_id=parent_id, name=options.name,
                  panel=options.panel, build=options.build, population=options.population,
                  inputs=[str(f.resolve()) for f in files],
                  options=options.model_dump(mode="json", exclude={"password", "name", "panel", "build",
                                                                    "population"}, exclude_none=True))
        job.submission_key = job.job_id
        self._record_inputs(job, files, reports)
        password = options.password.get_secret_value() if options.password else secrets.token_urlsafe(18)
        self.credentials.set_password(job.job_id, password)
        self.store.add_job(job, detail=f"recorded before upload to {config.name}")
        return job

    def check_token(self, service: str | ServiceConfig, owner: str) -> None:
        """Refuse, before anything is recorded or sent, a job whose owner has no token for a service
        that needs one, and no shared token stands in (:class:`MissingTokenError`, a usage error)."""
        config = service if isinstance(service, ServiceConfig) else self.store.get_service(service)
        if adapter_class(config.protocol).needs_token:
            self.credentials.require_token(config.name, owner)

    def record_parent(self, files: list[Path], services: list[str], options: SubmitOptions, *, owner: str,
                      reports: Sequence[PreflightReport] = ()) -> Job:
        """The fan-out parent of one input sent to several services (its status follows the children)."""
        for name in services:
            self.store.get_service(name)
        check_inputs(files)
        job = Job(service="*", owner=owner, name=options.name, panel=options.panel, build=options.build,
                  inputs=[str(f.resolve()) for f in files], options={"services": services})
        self._record_inputs(job, files, reports)
        return self.store.add_job(job, detail="fan-out parent recorded")

    def _record_inputs(self, job: Job, files: list[Path], reports: Sequence[PreflightReport]) -> None:
        """The input files as they are now (size, SHA-256, counts, verdict), written before the job row:
        a job never exists without them, and they outlive changes to the files (its provenance cites them)."""
        self.store.add_job_inputs(input_facts(job.job_id, files, reports, build=job.build))

    def options_of(self, job: Job) -> SubmitOptions:
        """The submission options of a recorded job (the password comes from the secret store)."""
        return SubmitOptions(panel=job.panel or "", build=job.build, population=job.population, name=job.name,
                             password=self.credentials.password(job.job_id), **job.options)

    async def send(self, job_id: str, *, progress: ProgressCallback | None = None) -> Job:
        """Upload a recorded job, if the service has a free slot.

        Over the service's ``max_concurrent_jobs`` the job stays ``pending`` (``waiting_for_slot``)
        with no request made; the monitor sends it in the sweep that sees a slot free.  A refusal
        by the service itself ("Only N jobs ...", jobs started elsewhere) waits the same way, with
        a slow fallback timer.  A lost connection leaves it ``pending`` with an unknown outcome.
        """
        job = self.store.get_job(job_id)
        config = self.store.get_service(job.service)
        held = self.store.claim_slot(job_id, job.service, config.max_concurrent_jobs, process_id())
        if held is not None:
            return self.store.update_job(job_id, error=f"waiting for a free slot on {job.service}: {held} of "
                                         f"{config.max_concurrent_jobs} jobs running (max_concurrent_jobs)")
        files = [Path(p) for p in job.inputs]
        try:
            async with self.source.adapter(config, owner=job.owner) as adapter:
                remote_id = await adapter.submit(files, self.options_of(job), job_name=job.name or job.job_id,
                                                 submission_key=job.job_id, progress=progress)
        except QuotaExceededError as exc:
            return self._wait_after_refusal(job, exc)
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

    def _wait_after_refusal(self, job: Job, exc: QuotaExceededError) -> Job:
        """Refused for the service's quota: wait for a slot-free event, or the fallback timer."""
        refusals = int(self.store.tracking(job.job_id).get("poll_failures") or 0) + 1
        delay = min(SLOT_RETRY_MAX, SLOT_RETRY_SECONDS * 2 ** (refusals - 1))
        self.store.set_tracking(job.job_id, submit_state="waiting_for_slot", submit_owner=None,
                                poll_failures=refusals, submit_after=utcnow() + timedelta(seconds=delay))
        return self.store.update_job(job.job_id, error=f"waiting for a free slot on {job.service}: {exc.detail}")

    def adopt(self, job_id: str, remote_id: str, *, detail: str) -> Job:
        """Record that the service holds the job as ``remote_id``."""
        self.store.set_tracking(job_id, submit_state="submitted", submit_owner=None, poll_failures=0)
        return self.store.update_job(job_id, status=JobStatus.QUEUED, remote_id=remote_id, submitted_at=utcnow(),
                                     error=None, detail=detail)

    async def send_children(self, parent: Job, children: list[Job],
                            progress: Callable[[str, int, int], None] | None = None) -> list[Job]:
        """Send each child of a fan-out; a lost connection leaves that child to the monitor."""
        sent = []
        for child in children:
            report = (lambda d, t, s=child.service: progress(f"upload to {s}", d, t)) if progress else None
            try:
                sent.append(await self.send(child.job_id, progress=report))
            except TransientServiceError:
                sent.append(self.store.get_job(child.job_id))
        update_parent(self.store, parent.job_id)
        return sent

    # -- following jobs ------------------------------------------------------------------------

    async def refresh(self, job_id: str) -> tuple[Job, RemoteJob | None]:
        """Read one job from its service and record what changed."""
        job = self.store.get_job(job_id)
        if not job.remote_id:
            return job, None
        async with self.source.adapter(job.service, owner=job.owner) as adapter:
            remote = await adapter.get_job(job.remote_id, previous=job.status)
        return apply_remote(self.store, self.credentials, job, remote), remote

    async def cancel(self, job_id: str) -> Job:
        """Cancel remotely, then locally; a pending job that never reached the service is cancelled here."""
        job = self.store.get_job(job_id)
        if job.status.is_terminal:
            raise UsageError(f"job {job_id} is already {job.status.value}; nothing to cancel")
        if not job.remote_id:
            return self.store.update_job(job_id, status=JobStatus.CANCELLED, detail="cancelled before submission")
        async with self.source.adapter(job.service, owner=job.owner) as adapter:
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

        Refused before any request where the protocol has no restart, and after one fresh read
        where the job's current state cannot be restarted: the service would refuse it anyway
        ("Job ... is not pending."), less clearly.
        """
        job = self.store.get_job(job_id)
        if job.service == "*":
            raise UsageError(f"job {job_id} is a fan-out parent; restart its children (listed by "
                             f"`fedimpute jobs show {job_id}`)")
        config = self.store.get_service(job.service)
        if not adapter_class(config.protocol).can_restart:
            raise UsageError(f"restarting jobs is not supported by the {config.protocol} protocol of "
                             f"service {config.name}; submit the input again with `fedimpute submit`")
        if not job.remote_id:
            raise UsageError(f"job {job_id} never reached {config.name}, so there is nothing to restart there; "
                             f"the monitor sends it (`fedimpute jobs refresh`)")
        remote_id = job.remote_id
        async with self.source.adapter(config, owner=job.owner) as adapter:
            remote = await adapter.get_job(remote_id, previous=job.status)
            job = apply_remote(self.store, self.credentials, job, remote)
            if not remote.restartable:
                raise UsageError(f"job {job_id} is {job.status.value} (remote state {remote.remote_state}) on "
                                 f"{config.name}; only a job the service lost to a restart of its own (dead) can be "
                                 "restarted")
            said = await adapter.restart(remote_id)
        restarted = self.store.update_job(job_id, status=JobStatus.QUEUED, started_at=None, finished_at=None,
                                          expires_at=None, error=None, detail=f"restarted on {config.name}: {said}")
        update_parent(self.store, job.parent_id)
        return restarted


def check_inputs(files: list[Path]) -> None:
    """What every service needs of the input list, checked before the job is recorded."""
    if not files:
        raise UsageError("no input files; give one bgzipped VCF (.vcf.gz) per chromosome")
    for f in files:
        if not f.is_file():
            raise UsageError(f"input file {f} does not exist")
        if not f.name.endswith(".vcf.gz"):
            raise UsageError(f"{f.name}: imputation servers only read *.vcf.gz (others are silently ignored); "
                             f"compress it with `bgzip -c {f.name} > {f.name.removesuffix('.vcf')}.vcf.gz`")
