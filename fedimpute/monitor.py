"""The job monitor: polite, concurrent, crash-safe polling of every active job.

One sweep, per service and per token (each user's jobs through their own token, the others'
through the lab's shared one: :mod:`fedimpute.jobs.tokens`): read the service's job list once
(where it has one), fetch the detail only of jobs whose state changed or that are running
(for their step messages), reconcile jobs whose submission was interrupted (looked for on the
service before any resubmission), send jobs that wait for a free slot, and download the results
of jobs that completed.  Requests per service run through a semaphore; each job is polled no
more often than the service's poll interval (60 s for Cloudgene); transient failures back off
exponentially with jitter and never mark a job failed; 503 marks the service in maintenance,
401 stops polling with that token, with a clear message.

Only the lease holder (heartbeat in the store) polls a FEDIMPUTE_HOME; others wait or read the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from fedimpute._http import USER_AGENT
from fedimpute.exceptions import (
    ArchiveError,
    AuthenticationError,
    FedImputeError,
    MaintenanceError,
    PermissionDeniedError,
    RemoteNotFoundError,
    ResultsExpiredError,
    ServiceError,
    TransientServiceError,
)
from fedimpute.jobs import Follower, apply_reports, mark_lost, process_id, update_parent
from fedimpute.jobs.tokens import GroupKey, TokenGroup, group_by_token, group_key
from fedimpute.models import HealthRecord, HealthStatus, Job, JobStatus, utcnow
from fedimpute.processes import holder_alive
from fedimpute.services import adapter_class
from fedimpute.services.base import ImputationService, RemoteJob
from fedimpute.upkeep import Upkeep

if TYPE_CHECKING:
    from fedimpute.hub import Hub

__all__ = ["LEASE", "Monitor", "MonitorBusyError", "SweepResult"]

log = logging.getLogger(__name__)
LEASE = "monitor"
MAX_BACKOFF = 600.0
#: After an interrupted upload is not found on the service, look once more this much later before
#: sending it again: the service may still be processing a request whose client died mid-answer.
RESEND_GRACE = 30.0
FINAL_RESULT_ERRORS = ((ResultsExpiredError, "expired"), (ArchiveError, "refused"))  # retrying cannot help

#: A job's row as :meth:`Store.jobs_to_visit` returns it (column -> value).
Row = dict[str, Any]
#: What fetching one job gives: its report, or the error that prevented it.
Outcome = RemoteJob | RemoteNotFoundError | TransientServiceError
_T = TypeVar("_T")


class MonitorBusyError(FedImputeError):
    """Another process holds the monitor lease of this FEDIMPUTE_HOME."""


@dataclass
class SweepResult:
    polled: int = 0
    changed: int = 0
    requests: int = 0
    errors: int = 0
    messages: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"polled": self.polled, "changed": self.changed, "requests": self.requests, "errors": self.errors}


def backoff(failures: int, base: float = 5.0) -> float:
    """Exponential back-off with full jitter, capped at ten minutes."""
    return random.uniform(0.5, 1.0) * min(MAX_BACKOFF, base * 2.0 ** max(failures - 1, 0))


def _alive(owner: str | None) -> bool:
    """Whether the process ``host:pid`` that was uploading still runs (unknown hosts count as alive)."""
    if not owner or ":" not in owner:
        return False
    host, _, pid = owner.rpartition(":")
    return holder_alive(host, pid)


def _ends(outcome: object) -> bool:
    """Whether a fetched report says the job left the service's engine (its slot is free now).
    Only jobs that were queued or running are fetched, so a terminal report is a change."""
    return isinstance(outcome, RemoteNotFoundError) or (isinstance(outcome, RemoteJob) and outcome.status.is_terminal)


class Monitor(Upkeep):
    """Sweeps the active jobs of one FEDIMPUTE_HOME; use :meth:`sweep` once or :meth:`watch`."""

    def __init__(self, hub: Hub, *, concurrency: int = 4, lease_ttl: float = 30.0,
                 auto_download: bool = True, resend_grace: float = RESEND_GRACE) -> None:
        self.store = hub.store
        self.owner = f"{process_id()}:{uuid.uuid4().hex[:6]}"
        self.concurrency, self.lease_ttl, self.auto_download = concurrency, lease_ttl, auto_download
        self.resend_grace = resend_grace
        self.blocked: dict[GroupKey, str] = {}  # (service, token) -> why polling stopped (refused or no token)
        self._holding = False  # set by acquire(): watch/wait_for keep the lease between sweeps
        self._renewed = 0.0  # when wait_for last renewed the lease (monotonic seconds)
        self._service_backoff: dict[str, float] = {}
        self._requests = 0

        async def count(request: httpx.Request) -> None:  # every request, named as the monitor's
            self._requests += 1
            request.headers["User-Agent"] = f"{USER_AGENT} monitor/{self.owner}"

        self.hub = hub.with_request_hook(count)

    # -- the lease ---------------------------------------------------------------------------

    def acquire(self, *, wait: float = 0.0) -> bool:
        """Take the lease, waiting up to ``wait`` seconds for another monitor to let go.  A holder
        whose process is gone (same host, pid dead) is replaced at once, not after its lease expires."""
        deadline = time.monotonic() + wait
        while True:
            if self._try_acquire():
                self._holding = True
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(0.5, self.lease_ttl / 10))

    def _try_acquire(self) -> bool:
        if self.store.acquire_lease(LEASE, self.owner, self.lease_ttl):
            return True
        holder = self.store.lease_holder(LEASE)
        return holder is not None and not _alive(holder[0].rsplit(":", 1)[0]) and \
            self.store.take_over_lease(LEASE, holder[0], self.owner)

    def release(self) -> None:
        self._holding = False
        self.store.release_lease(LEASE, self.owner)

    async def _heartbeat(self, sweeping: asyncio.Future[Any]) -> None:
        """Renew the lease while sweeping; if it was lost (this process stalled past its lease),
        stop the sweep rather than poll alongside the new holder."""
        while True:
            await asyncio.sleep(self.lease_ttl / 3)
            if not await asyncio.to_thread(self.store.acquire_lease, LEASE, self.owner, self.lease_ttl):
                sweeping.cancel()
                return

    # -- one sweep ---------------------------------------------------------------------------

    async def sweep(self, *, force: bool = False) -> SweepResult:
        """One pass over the jobs that are due (all active ones with ``force``); needs the lease."""
        temporary = not self._holding  # a lone sweep gives the lease back when it is done
        if not self._try_acquire():
            holder = self.store.lease_holder(LEASE)
            raise MonitorBusyError(f"another monitor ({holder[0] if holder else '?'}) is polling this "
                                   "FEDIMPUTE_HOME; its results appear in the store (`fedimpute jobs list`)")
        result = SweepResult()
        start = self._requests
        rows = self.store.jobs_to_visit(include_not_due=force)
        groups = group_by_token(rows, self.hub.credentials, self._needs_token_reader())
        sweeping = asyncio.ensure_future(asyncio.gather(
            *(self._sweep_group(key, group, result) for key, group in groups.items())))
        heartbeat = asyncio.create_task(self._heartbeat(sweeping))
        try:
            await sweeping
        except asyncio.CancelledError:
            if not heartbeat.done():
                raise
            raise MonitorBusyError("this monitor lost its lease during a sweep (the process stalled); "
                                   "another monitor took over") from None
        finally:
            heartbeat.cancel()
            if temporary:
                self.release()
        for parent in {r["parent_id"] for r in rows if r["parent_id"]}:
            update_parent(self.store, parent)
        result.requests = self._requests - start
        self._upkeep(result)
        await self._async_upkeep(result)
        return result

    def _needs_token_reader(self) -> Callable[[str], bool]:
        """Whether a service's protocol needs a token, asked only for jobs whose owner has none: the
        catalogue is read (a DuckDB open) at most once per sweep, and only then."""
        protocols: dict[str, str] = {}

        def needs(name: str) -> bool:
            if not protocols:
                protocols.update({s.name: s.protocol for s in self.store.list_services()})
            try:
                return name in protocols and adapter_class(protocols[name], service=name).needs_token
            except FedImputeError:  # an adapter that is not installed: reported when the group is swept
                return False

        return needs

    def is_blocked(self, service: str, owner: str | None) -> bool:
        """Whether polling stopped for ``owner``'s jobs on ``service``: their token was refused, or they
        have none.  A new token (a new digest) starts them again."""
        return group_key(self.hub.credentials, service, owner) in self.blocked

    async def _sweep_group(self, key: GroupKey, group: TokenGroup, result: SweepResult) -> None:
        name = group.service
        if key in self.blocked or self._service_backoff.get(name, 0) > time.monotonic():
            return
        if group.missing is not None:  # nothing is sent without a token; the owner is told how to set one
            self.blocked[key] = str(group.missing)
            result.errors += 1
            result.messages.append(f"not polling {len(group.rows)} job(s) on {name}: {group.missing}")
            return
        try:
            async with self.hub.adapter(name, token=group.token, owner=group.owners[0]) as adapter:
                await self._visit(adapter, group.rows, result)
        except (AuthenticationError, PermissionDeniedError) as exc:
            self.blocked[key] = str(exc)
            if group.origin != "own":  # one user's stale token says nothing of the service for the others
                self.store.record_health(HealthRecord(service=name, status=HealthStatus.UP,
                                                      detail=f"token refused: {exc.detail}"))
            result.errors += 1
            fix = f"; set a new one in Settings or `fedimpute login {name} --user {group.owners[0]}`" \
                if group.origin == "own" else ""
            result.messages.append(f"stopped polling {name} with {group.whose}: {exc}{fix}")
        except MaintenanceError as exc:
            self._pause_service(name, exc, HealthStatus.MAINTENANCE, result)
        except TransientServiceError as exc:
            self._pause_service(name, exc, HealthStatus.DOWN, result)
        except FedImputeError as exc:  # e.g. an adapter not available: report, keep the others going
            result.errors += 1
            result.messages.append(f"{name}: {exc}")

    def _pause_service(self, name: str, exc: ServiceError, status: HealthStatus, result: SweepResult) -> None:
        failures = int(self._service_backoff.get(f"{name}#n", 0)) + 1
        self._service_backoff[f"{name}#n"] = failures
        self._service_backoff[name] = time.monotonic() + backoff(failures)
        self.store.record_health(HealthRecord(service=name, status=status, detail=exc.detail))
        result.errors += 1
        result.messages.append(f"{name}: {exc}; retrying later")

    async def _visit(self, adapter: ImputationService, rows: list[Row], result: SweepResult) -> None:
        active = [r for r in rows if r["status"] in ("queued", "running") and r["remote_id"]]
        orphans = [r for r in rows if r["status"] == "pending" and not r["remote_id"]]
        listed: dict[str, RemoteJob] = {}
        by_key: dict[str, RemoteJob] = {}
        if adapter.lists_jobs and (len(active) > 1 or any(self._needs_search(r) for r in orphans)):
            wanted = {r["remote_id"] for r in active} if not orphans else None
            for job in await adapter.list_jobs(wanted=wanted):
                listed[job.remote_id] = job
                if job.submission_key:
                    by_key[job.submission_key] = job
        self._service_backoff.pop(f"{adapter.name}#n", None)
        sem = asyncio.Semaphore(self.concurrency)

        async def guarded(coro: Awaitable[_T]) -> _T:
            async with sem:
                return await coro

        fetched = await asyncio.gather(*(guarded(self._fetch(adapter, r, listed.get(r["remote_id"])))
                                         for r in active))
        failed = [o for o in fetched if isinstance(o, TransientServiceError)]
        if fetched and len(failed) == len(fetched):
            status = HealthStatus.MAINTENANCE if isinstance(failed[0], MaintenanceError) else HealthStatus.DOWN
            self._pause_service(adapter.name, failed[0], status, result)  # the service, not the jobs, is ill
            return
        interval = self.hub.poll_interval(adapter.config)
        with self.store.session():  # thousands of updates: one connection, and bulk statements
            schedule = [self._next_poll(row, outcome, interval, result) for row, outcome in zip(active, fetched,
                                                                                                strict=True)]
            reports = [(row, o) for row, o in zip(active, fetched, strict=True) if isinstance(o, RemoteJob)]
            lost = [row for row, o in zip(active, fetched, strict=True) if isinstance(o, RemoteNotFoundError)]
            result.changed += apply_reports(self.store, self.hub.credentials, reports)
            result.changed += mark_lost(self.store, lost, "the service no longer knows this job") if lost else 0
            self.store.schedule_polls(schedule)
            freed = sum(1 for outcome in fetched if _ends(outcome))
            released = set(self.store.release_refused(adapter.name, freed)) if orphans else set()
        tasks = [self._reconcile(adapter, r, by_key, bool(listed) or not adapter.lists_jobs, result,
                                 released=r["job_id"] in released) for r in orphans]
        if self.auto_download:
            tasks += [self._download(r, result) for r in rows if r["status"] == "completed"]
        await asyncio.gather(*(guarded(t) for t in tasks))

    def _needs_search(self, row: Row) -> bool:
        state = row["submit_state"]
        return state in (None, "unknown", "searching") or (
            state == "uploading" and not _alive(row["submit_owner"]))

    async def _fetch(self, adapter: ImputationService, row: Row, summary: RemoteJob | None) -> Outcome:
        """The job as the service reports it now (network only), or the error that prevented it."""
        if summary is not None and summary.remote_state == row["remote_state"] and \
                summary.status is not JobStatus.RUNNING:
            return summary  # unchanged and not running: the list entry says all there is
        previous = JobStatus(row["status"])
        try:
            return await adapter.get_job(row["remote_id"], previous=previous)
        except (RemoteNotFoundError, TransientServiceError) as exc:
            return exc

    def _next_poll(self, row: Row, outcome: object, interval: float, result: SweepResult) -> tuple[str, int, Any]:
        """When to poll a fetched job next: after its interval, or after a back-off when the service
        failed to answer for it (the job is not failed because the service hiccuped)."""
        job_id = row["job_id"]
        result.polled += 1
        if isinstance(outcome, TransientServiceError):
            failures = int(row["poll_failures"] or 0) + 1
            result.errors += 1
            result.messages.append(f"{job_id}: {outcome}")
            return job_id, failures, utcnow() + timedelta(seconds=backoff(failures))
        return job_id, 0, utcnow() + timedelta(seconds=interval)

    async def _reconcile(self, adapter: ImputationService, row: Row, by_key: dict[str, RemoteJob],
                         searched: bool, result: SweepResult, *, released: bool = False) -> None:
        """A pending job: adopt it if the service has it; send it only when it surely does not.

        A job waiting for a slot goes out when one is free (:meth:`Hub.send` counts them); one the
        service refused waits for a slot-free event (``released``) or its fallback timer."""
        job_id, state = row["job_id"], row["submit_state"]
        if state == "uploading" and _alive(row["submit_owner"]):
            return  # its uploader is still at work
        waiting = row["submit_after"] and row["submit_after"] > utcnow()
        if (state == "waiting_for_slot" and waiting and not released) or (state == "searching" and waiting):
            return
        if state == "refused":
            return
        found = by_key.get(job_id)
        if found is not None:
            self.hub.jobs.adopt(job_id, found.remote_id, detail=f"found on {adapter.name} as {found.remote_id} "
                                "after an interrupted submission")
            apply_reports(self.store, self.hub.credentials, [(self.store.get_job(job_id).model_dump(), found)])
            result.changed += 1
            return
        if self._needs_search(row) and not searched:
            return  # cannot tell whether the service has it: never risk a second submission
        if self._needs_search(row):
            if state != "searching":  # first miss: the service may still be creating it, look again later
                self.store.set_tracking(job_id, submit_state="searching",
                                        submit_after=utcnow() + timedelta(seconds=self.resend_grace))
                return
            if row["submit_after"] and row["submit_after"] > utcnow():
                return
        try:
            job = await self.hub.jobs.send(job_id)
        except ServiceError as exc:
            result.errors += 1
            result.messages.append(f"{job_id}: {exc}")
            return
        if job.remote_id:
            result.changed += 1

    async def _download(self, row: Row, result: SweepResult) -> None:
        """Fetch a completed job's results; a failure is retried later.  Deleted results are final, and so is
        an archive refused when unpacked (retrying cannot change it; `results download` tries by hand)."""
        job_id = row["job_id"]
        try:
            await self.hub.download_results(job_id)
        except FedImputeError as exc:
            final = next((state for cls, state in FINAL_RESULT_ERRORS if isinstance(exc, cls)), None)
            self.store.set_tracking(job_id, results_state=final, results_error=str(exc),
                                    next_poll_at=utcnow() + timedelta(seconds=backoff(2, 30)))
            result.errors += 1
            result.messages.append(f"{job_id}: results: {exc}")
            return
        self.store.set_tracking(job_id, results_state="downloaded", results_error=None)

    # -- watching ----------------------------------------------------------------------------

    async def wait_for(self, job_id: str, *, timeout: float | None = None, tick: float = 1.0,
                       on_update: Callable[[Job], None] | None = None, focused: bool = False) -> Job:
        """Until ``job_id`` is terminal.  While this process holds the lease it polls: every due job (a
        sweep), or with ``focused`` this job alone, touching the store only when the service's report
        changes (a DuckDB open costs tens of milliseconds of CPU, taken from the job itself on a local
        engine); while another process holds the lease it only reads the store."""
        deadline = None if timeout is None else time.monotonic() + timeout
        follower = Follower(self.store, self.hub.credentials, self.hub, job_id) if focused else None
        try:
            while True:
                job = await self._wait_step(job_id, follower)
                if on_update:
                    on_update(job)
                if job.status.is_terminal or (self.blocked and self.is_blocked(job.service, job.owner)):
                    return job
                if deadline is not None and time.monotonic() + tick > deadline:
                    raise TimeoutError(f"job {job_id} is still {job.status.value} after {timeout:g} s")
                await asyncio.sleep(tick)
        finally:
            if follower is not None:
                await follower.close()
            self.release()

    async def _wait_step(self, job_id: str, follower: Follower | None) -> Job:
        if not self._lease_fresh():
            return self.store.get_job(job_id)
        if follower is not None and (job := await follower.poll()) is not None:
            return job
        with contextlib.suppress(MonitorBusyError):
            await self.sweep()
        return self.store.get_job(job_id)

    def _lease_fresh(self) -> bool:
        """Hold the lease, renewing it (a store write) no more than three times per lease period."""
        now = time.monotonic()
        if self._holding and now < self._renewed + self.lease_ttl / 3:
            return True
        if self.acquire():
            self._renewed = now
            return True
        return False

    async def watch(self, *, tick: float = 1.0, stop: asyncio.Event | None = None,
                    on_sweep: Callable[[SweepResult], None] | None = None) -> None:
        """Sweep whenever jobs are due until none is active (or ``stop`` is set)."""
        stop = stop or asyncio.Event()
        try:
            while not stop.is_set():
                if not await asyncio.to_thread(self.acquire, wait=tick):
                    continue  # another monitor polls; this one waits its turn
                try:
                    result = await self.sweep()
                except MonitorBusyError:
                    continue
                if on_sweep:
                    on_sweep(result)
                left = {(r["service"], r["owner"]) for r in self.store.jobs_to_visit(include_not_due=True)}
                if all(self.is_blocked(service, owner) for service, owner in left):  # none left, or all stuck
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=tick)
        finally:
            self.release()
