"""Following one job closely while a process waits for it (``Hub.wait``, ``submit --wait``).

The monitor's sweep visits every due job and writes its bookkeeping each time; a process that
waits for one job on a local engine would spend tens of milliseconds of CPU per poll opening
DuckDB, taken from the job itself.  A follower keeps one adapter (one HTTP client) for the whole
wait and writes to the store only when the service reports something new.
"""

from __future__ import annotations

import contextlib

from fedimpute.credentials import Credentials
from fedimpute.exceptions import TransientServiceError
from fedimpute.jobs.lifecycle import AdapterSource
from fedimpute.jobs.state import apply_remote
from fedimpute.models import Job
from fedimpute.services.base import ImputationService, RemoteJob
from fedimpute.store import Store

__all__ = ["Follower"]


class Follower:
    """Polls ``job_id`` through ``source``; use :meth:`poll` each tick and :meth:`close` at the end."""

    def __init__(self, store: Store, credentials: Credentials, source: AdapterSource, job_id: str) -> None:
        self.store, self.credentials, self.source, self.job_id = store, credentials, source, job_id
        self.stack = contextlib.AsyncExitStack()
        self.adapter: ImputationService | None = None
        self.job: Job | None = None
        self.last: RemoteJob | None = None

    async def poll(self) -> Job | None:
        """The job after one request, or None when a sweep must act (not on the service yet, or ended)."""
        job = self.job or self.store.get_job(self.job_id)
        if not job.remote_id or job.status.is_terminal:
            self.job = None
            return None
        if self.adapter is None:
            opening = self.source.adapter(job.service, owner=job.owner)  # the owner's token, else the shared one
            self.adapter = await self.stack.enter_async_context(opening)
        try:
            remote = await self.adapter.get_job(job.remote_id, previous=job.status)
        except TransientServiceError:  # the job is not failed because the service hiccuped
            return job
        if remote != self.last:
            job = apply_remote(self.store, self.credentials, self.store.get_job(self.job_id), remote)
            self.last = remote
        self.job = job
        return job

    async def close(self) -> None:
        await self.stack.aclose()
