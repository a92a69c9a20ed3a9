"""The monitor's upkeep at the end of each sweep: service health every 15 minutes, warnings
about results a service is about to delete, the clean-up of the dashboard's upload staging, and
notifications (events the upkeep finds, then the outbox delivered: :mod:`fedimpute.notify`).

All read the time only through :meth:`Upkeep.clock`, so tests simulate days passing without
sleeping; health and expiry keep their schedule in the store, so it holds across processes and
restarts.  Staging (``HOME/uploads/<user>/<batch>/``, written by :mod:`fedimpute.ui.uploads`) is
looked at every few minutes: a batch goes once no pending job still needs its files (a job waits
for a free slot with its inputs on disk), when it was handed to jobs (a ``.submitted`` marker) or
when nothing in it changed for a day (a page left open, a server that stopped mid-upload).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from fedimpute.exceptions import FedImputeError, UnknownProtocolError
from fedimpute.models import HealthRecord, HealthStatus, JobStatus, ServiceConfig, utcnow

if TYPE_CHECKING:
    from fedimpute.hub import Hub
    from fedimpute.monitor import SweepResult
    from fedimpute.notify import Sender
    from fedimpute.store import Store

__all__ = ["HANDED_OVER", "STAGING_DIRNAME", "Upkeep", "batches_in_use", "clean_staging", "staging_dir"]

#: The folder of browser uploads under FEDIMPUTE_HOME (``<user>/<batch>/<file>`` below it).
STAGING_DIRNAME = "uploads"
#: A batch whose files were handed to submitted jobs: deleted as soon as none of them is pending.
HANDED_OVER = ".submitted"
#: A batch untouched this long is deleted (unless a pending job still needs its files).
STAGING_MAX_AGE = timedelta(days=1)

log = logging.getLogger("fedimpute.monitor")


class Upkeep:
    """Health checks and expiry warnings, mixed into :class:`~fedimpute.monitor.Monitor`."""

    store: Store
    hub: Hub
    _requests: int

    #: Seconds between two health checks of one service (``FEDIMPUTE_HEALTH_PERIOD`` overrides; 0: none).
    health_period: float = 900.0
    #: A health check that takes longer records the service as down.
    health_timeout: float = 20.0
    #: Warn this long before a service deletes results that are not downloaded.
    expiry_warning: timedelta = timedelta(hours=24)
    #: How often the upload staging folder is looked at.
    staging_every: timedelta = timedelta(minutes=5)
    #: How often downloads and outages are looked for (tokens: every ``tokens_every``).
    events_every: timedelta = timedelta(minutes=1)
    tokens_every: timedelta = timedelta(hours=1)
    #: A completion waits this long for the monitor to download its results (its message then carries
    #: the quality line); only where this monitor downloads results.
    hold_completed: timedelta = timedelta(minutes=10)

    def clock(self) -> datetime:
        """Now, in UTC.  Health periods and expiry warnings read the time only here, so a test can
        replace it on the instance to simulate days passing."""
        return utcnow()

    def _health_every(self) -> float:
        raw = os.environ.get("FEDIMPUTE_HEALTH_PERIOD", "").strip()
        try:
            return float(raw) if raw else self.health_period
        except ValueError:
            log.warning("FEDIMPUTE_HEALTH_PERIOD=%r is not a number of seconds; using %g", raw, self.health_period)
            return self.health_period

    async def _check_health(self, result: SweepResult) -> None:
        """Check every enabled service whose newest recorded check is older than the period (the
        store's time, so the period holds across processes and restarts); concurrently, time-limited.

        Between two due times the store is not read at all (``_health_next``): a sweep every few
        seconds would otherwise pay a DuckDB open each time to learn that nothing is due."""
        every, now = self._health_every(), self.clock()
        if every <= 0 or now < getattr(self, "_health_next", now):
            return
        period = timedelta(seconds=every)
        due, next_due = self.store.services_due_for_health(now - period)
        self._health_next = min(next_due + period if next_due else now + period, now + period)
        if not due:
            return
        start = self._requests
        records = await asyncio.gather(*(self._health_of(service) for service in due))
        with self.store.session():
            for record in records:
                self.store.record_health(record)
        result.requests += self._requests - start

    async def _health_of(self, service: ServiceConfig) -> HealthRecord:
        """One service's health, never an exception: a check that fails says why in its detail."""
        try:
            async with self.hub.adapter(service) as adapter:
                record = await asyncio.wait_for(adapter.health(), self.health_timeout)
        except TimeoutError:
            record = HealthRecord(service=service.name, status=HealthStatus.DOWN,
                                  detail=f"no answer within {self.health_timeout:.0f} s")
        except UnknownProtocolError as exc:  # the protocol's adapter is not installed: nothing to tell
            record = HealthRecord(service=service.name, status=HealthStatus.UNKNOWN, detail=str(exc))
        except FedImputeError as exc:
            record = HealthRecord(service=service.name, status=HealthStatus.DOWN, detail=str(exc))
        except Exception as exc:  # a bug must not stop the monitor; it is logged, and unknown is not down
            log.warning("health check of %s failed", service.name, exc_info=True)
            record = HealthRecord(service=service.name, status=HealthStatus.UNKNOWN,
                                  detail=f"check failed: {type(exc).__name__}")
        return record.model_copy(update={"checked_at": self.clock()})

    async def _async_upkeep(self, result: SweepResult) -> None:
        """The sweep's chores that talk to the network: health checks, then notifications."""
        await self._check_health(result)
        await self._notify(result)

    async def _notify(self, result: SweepResult) -> None:
        """Queue the events found by looking (downloads, outages, tokens), then deliver the outbox.  A
        failure here is logged and retried next sweep: notifications never stop the monitor."""
        from fedimpute.notify.events import queue_downloads_and_outages, queue_token_expiry

        now = self.clock()
        try:
            if now >= getattr(self, "_events_next", now):
                self._events_next = now + self.events_every
                queue_downloads_and_outages(self.store, now)
            if now >= getattr(self, "_tokens_next", now):
                self._tokens_next = now + self.tokens_every
                queue_token_expiry(self.store, self.hub.credentials, now)
            report = await self._sender().run_once()
        except Exception as exc:
            log.warning("notifications: %s (tried again next sweep)", exc, exc_info=not isinstance(exc, FedImputeError))
            return
        if report:
            result.messages.append(f"notifications: {report.sent} delivered, {report.failed} failed "
                                   f"({report.messages} message(s))")

    def _sender(self) -> Sender:
        sender: Sender | None = getattr(self, "_notify_sender", None)
        if sender is None:
            from fedimpute.notify import Sender

            hold = self.hold_completed if getattr(self, "auto_download", False) else None
            sender = self._notify_sender = Sender(self.store, self.hub.credentials, clock=lambda: self.clock(),
                                                  hold_completed=hold)
        return sender

    def _upkeep(self, result: SweepResult) -> None:
        """The sweep's minute-scale chores, each on a schedule of its own."""
        self._warn_expiring(result)
        self._clean_staging(result)

    def _warn_expiring(self, result: SweepResult) -> None:
        """Warn once (log and job event) about completed jobs whose results the service deletes within
        ``expiry_warning`` and that are not downloaded yet."""
        now = self.clock()
        if now < getattr(self, "_expiry_next", now):
            return  # warnings are about a day ahead: looking once a minute is plenty
        self._expiry_next = now + timedelta(minutes=1)
        for job in self.store.expiring_jobs(now + self.expiry_warning):
            if job.expires_at is None:  # expiring_jobs lists only jobs with an expiry date
                continue
            left = job.expires_at - now
            when = f"{job.expires_at:%Y-%m-%d %H:%M} UTC"
            if left.total_seconds() > 0:
                detail = (f"{job.service} deletes the results at {when} (in {left.total_seconds() / 3600:.0f} h) "
                          f"and they are not downloaded yet; run `fedimpute results download {job.job_id}`")
            else:
                detail = (f"{job.service} was due to delete the results at {when} and they were never "
                          f"downloaded; try `fedimpute results download {job.job_id}` now")
            if self.store.warn_expiry(job.job_id, detail, now):
                log.warning("job %s: %s", job.job_id, detail)
                result.messages.append(f"{job.job_id}: {detail}")

    def _clean_staging(self, result: SweepResult) -> None:
        """Every ``staging_every``: delete upload batches no pending job needs that were handed over
        or are older than a day (see the module's docstring)."""
        now = self.clock()
        if now < getattr(self, "_staging_next", now):
            return
        self._staging_next = now + self.staging_every
        try:
            removed = clean_staging(self.store.home, batches_in_use(self.store), now=now)
        except (OSError, FedImputeError) as exc:  # a busy store or a vanished folder: next time
            log.info("staging clean-up skipped: %s", exc)
            return
        if removed:
            log.info("staging: removed %d upload batch(es) no job needs", len(removed))
            result.messages.append(f"removed {len(removed)} staged upload batch(es)")


def staging_dir(home: Path) -> Path:
    """``HOME/uploads``: every user's staged browser uploads."""
    return Path(home) / STAGING_DIRNAME


def batches_in_use(store: Store) -> set[Path]:
    """Batch folders holding an input of a job that is still pending (not yet sent to its service)."""
    root = staging_dir(store.home).resolve()
    used = set()
    for job in store.list_jobs(status=JobStatus.PENDING):
        for name in job.inputs:
            path = Path(name)
            if path.parent.parent.parent == root:  # uploads/<user>/<batch>/<file>
                used.add(path.parent)
    return used


def _newest_change(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    times += [entry.stat(follow_symlinks=False).st_mtime for entry in os.scandir(folder)]
    return max(times)


def clean_staging(home: Path, in_use: set[Path], *, now: datetime,
                  max_age: timedelta = STAGING_MAX_AGE) -> list[Path]:
    """Delete the batches not in ``in_use`` that were handed over or untouched for ``max_age``;
    returns them.  Files outside ``<user>/<batch>/`` folders (none are written) are left alone."""
    root = staging_dir(home)
    if not root.is_dir():
        return []
    resolved_root, removed = root.resolve(), []
    for user in (p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        for batch in (p for p in user.iterdir() if p.is_dir() and not p.is_symlink()):
            if resolved_root / user.name / batch.name in in_use:
                continue
            old = now.timestamp() - _newest_change(batch) > max_age.total_seconds()
            if old or (batch / HANDED_OVER).exists():
                shutil.rmtree(batch, ignore_errors=True)
                removed.append(batch)
    return removed
