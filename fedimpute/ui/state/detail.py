"""JobDetailState: one job with its step messages, events, result files and quality.

It follows ``HubState.selected_job_id``, re-reads on :meth:`refresh` only what changed, and
carries out the owner's intents (cancel, download, restart).  Who may do what is asked of
:class:`HubState`, never decided here.  Everything shown is read by :meth:`JobDetailState._snapshot`,
which touches no parameter, so a served page runs it in a worker thread (``load_async``,
``refresh_async``) and only applies the result on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

import pandas as pd
import param

from fedimpute.exceptions import FedImputeError, StoreError, StoreLockedError
from fedimpute.models import Job, JobStatus, utcnow
from fedimpute.ui.queries import store_version
from fedimpute.ui.state.hub import BUSY_NOTICE, HubState

__all__ = ["JobDetailState", "expiry_text"]

log = logging.getLogger(__name__)

FRAMES = ("steps", "events", "results")
STEP_COLUMNS = ["step", "level", "time", "text"]
EVENT_COLUMNS = ["time", "old_status", "status", "detail"]
RESULT_COLUMNS = ["name", "size", "sha256", "state", "downloaded_at"]  # never a server path


def _time(value) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else ""


def expiry_text(job: Job, results: pd.DataFrame, now: datetime | None = None) -> str:
    """When the service deletes the job's results, said so the user knows whether to act ('' unknown)."""
    if job.expires_at is None:
        return ""
    now = now or utcnow()
    when = f"{job.expires_at:%Y-%m-%d %H:%M} UTC"
    downloaded = not results.empty and (results["state"] == "downloaded").all()
    if job.expires_at <= now:
        return f"the service deleted the results at {when}" + ("; the downloaded copy is kept here" if downloaded
                                                                else "")
    left = job.expires_at - now
    span = f"{left.days} day(s)" if left.days else f"{left.total_seconds() / 3600:.0f} hour(s)"
    text = f"the service keeps the results until {when} (another {span})"
    return text + ("; they are downloaded" if downloaded else "; download them before then")


class JobDetailState(param.Parameterized):
    """The selected job and everything recorded about it."""

    hub_state = param.ClassSelector(class_=HubState, constant=True)
    job = param.ClassSelector(class_=Job, default=None, allow_None=True)
    steps = param.DataFrame(default=pd.DataFrame(columns=STEP_COLUMNS))
    events = param.DataFrame(default=pd.DataFrame(columns=EVENT_COLUMNS))
    results = param.DataFrame(default=pd.DataFrame(columns=RESULT_COLUMNS))
    quality = param.Dict(default=None, allow_None=True, doc="The `quality --json` document, once available.")
    quality_note = param.String(default="", doc="Why there is no quality summary yet.")
    can_cancel = param.Boolean(default=False)
    can_download = param.Boolean(default=False)
    can_restart = param.Boolean(default=False, doc="A dead job the service can run again (Cloudgene -1).")
    expiry = param.String(default="", doc="When the service deletes the results, in words ('' unknown).")
    busy = param.Boolean(default=False)
    message = param.String(default="")
    provenance = param.Bytes(default=None, allow_None=True, doc="The shown job's RO-Crate as a zip, once built.")
    provenance_busy = param.Boolean(default=False)

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._quality_key: tuple | None = None
        self._version: tuple | None = None
        self._wanted: str | None = None  # selected, not shown yet: its read found the store busy
        self.hub_state.param.watch(self._selected, "selected_job_id")
        if self.hub_state.selected_job_id:
            self._selected(None)

    def _selected(self, _event) -> None:
        job_id = self.hub_state.selected_job_id
        if self.hub_state.offload and job_id is not None:
            self.hub_state.soon(partial(self.load_async, job_id))
        else:
            self.load(job_id)

    def load(self, job_id: str | None) -> None:
        """Show ``job_id`` (None clears the view); a job this user may not see shows nothing."""
        if job_id is None:
            self._wanted = None
            self.param.update(job=None, steps=self.param.steps.default, events=self.param.events.default,
                              results=self.param.results.default, quality=None, quality_note="", message="",
                              can_cancel=False, can_download=False, can_restart=False, expiry="", provenance=None)
            return
        version = store_version(self.hub_state.store)
        try:
            snapshot = self._snapshot(job_id)
        except FedImputeError as exc:
            self.param.update(job=None, message=str(exc))
            return
        self._version = version
        self._show(snapshot, force=True)

    async def load_async(self, job_id: str) -> None:
        """:meth:`load` with the reads in a worker thread (served pages).  While the store is busy the
        view keeps what it showed and the next periodic refresh tries again; a job the user has
        clicked away from meanwhile is not shown."""
        self._wanted = job_id
        version = store_version(self.hub_state.store)
        try:
            snapshot = await self.hub_state.in_thread(self._snapshot, job_id)
        except StoreLockedError:
            if self._wanted == job_id:
                self.message = BUSY_NOTICE
            return
        except FedImputeError as exc:
            if self._wanted == job_id:
                self._wanted = None
                self.param.update(job=None, message=str(exc))
            return
        if self._wanted != job_id:
            return
        self._wanted, self._version = None, version
        if self.message == BUSY_NOTICE:
            self.message = ""
        self._show(snapshot, force=True)

    def refresh(self, *, if_changed: bool = False) -> bool:
        """Re-read the shown job; returns whether anything changed.

        ``if_changed`` (periodic refreshes) skips the reads while the store file is unchanged.
        """
        if self.job is None:
            return False
        version = store_version(self.hub_state.store)
        if if_changed and version == self._version:
            return False
        self._version = version
        try:
            snapshot = self._snapshot(self.job.job_id)
        except StoreError as exc:
            self.message = f"store busy ({exc})"
            return False
        except FedImputeError:
            self.load(None)
            return True
        return self._show(snapshot, force=False)

    async def refresh_async(self, *, if_changed: bool = False) -> bool:
        """:meth:`refresh` with the reads in a worker thread; also retries a selection whose first
        read found the store busy."""
        if self._wanted is not None:
            await self.load_async(self._wanted)
            return self._wanted is None
        if self.job is None:
            return False
        job_id, version = self.job.job_id, store_version(self.hub_state.store)
        busy = self.message == BUSY_NOTICE
        if if_changed and version == self._version and not busy:
            return False
        try:
            snapshot = await self.hub_state.in_thread(self._snapshot, job_id)
        except StoreLockedError:
            self.message = BUSY_NOTICE
            return False
        except StoreError as exc:
            self.message = f"could not read the store ({exc})"
            return False
        except FedImputeError:
            if self.job is not None and self.job.job_id == job_id:
                self.load(None)
            return True
        if self.job is None or self.job.job_id != job_id or self._wanted is not None:
            return False  # the user selected another job meanwhile
        self._version = version
        if busy:
            self.message = ""
        return self._show(snapshot, force=False)

    def _snapshot(self, job_id: str) -> dict[str, Any]:
        """Everything the view shows about ``job_id``, read from the store; touches no parameter."""
        job = self.hub_state.get_job(job_id)
        store = self.hub_state.store
        results = self._results(store, job)
        quality, quality_key = self._quality(job, results)
        return {"job": job, "steps": self._steps(store, job), "events": self._events(store, job), "results": results,
                "can_cancel": self._cancellable(job), "can_restart": self._restartable(job), "quality": quality,
                "quality_key": quality_key}

    def _show(self, snapshot: dict[str, Any], *, force: bool) -> bool:
        job = snapshot["job"]
        changed = {k: snapshot[k] for k in FRAMES if force or not snapshot[k].equals(getattr(self, k))}
        if not changed and job == self.job:
            return False
        if snapshot["quality_key"] is not None:
            self._quality_key = snapshot["quality_key"]
        other = {"provenance": None} if self.job is None or self.job.job_id != job.job_id else {}  # another job's
        self.param.update(job=job, can_cancel=snapshot["can_cancel"], can_download=self._downloadable(job),
                          can_restart=snapshot["can_restart"], expiry=expiry_text(job, snapshot["results"]),
                          **changed, **snapshot["quality"], **other)
        return True

    @staticmethod
    def _steps(store, job: Job) -> pd.DataFrame:
        rows = [[m.step, m.level.value, _time(m.time), m.text] for m in store.step_messages(job.job_id)]
        return pd.DataFrame(rows, columns=STEP_COLUMNS)

    @staticmethod
    def _events(store, job: Job) -> pd.DataFrame:
        rows = [[_time(e.time), e.old_status.value if e.old_status else "", e.status.value, e.detail]
                for e in store.job_events(job.job_id)]
        return pd.DataFrame(rows, columns=EVENT_COLUMNS)

    @staticmethod
    def _results(store, job: Job) -> pd.DataFrame:
        rows = [[r.name, "" if r.size is None else f"{r.size:,}", r.sha256 or "",
                 "downloaded" if r.downloaded_at else "on the service", _time(r.downloaded_at)]
                for r in store.result_files(job.job_id)]
        return pd.DataFrame(rows, columns=RESULT_COLUMNS)

    def _cancellable(self, job: Job) -> bool:
        if not self.hub_state.may_act_on(job) or job.status.is_terminal or job.service == "*":
            return False
        if not job.remote_id:
            return True  # never reached the service: cancelled here
        from fedimpute.services import adapter_class

        try:
            service = self.hub_state.store.get_service(job.service)
            return adapter_class(service.protocol).can_cancel
        except FedImputeError:
            return False

    def _restartable(self, job: Job) -> bool:
        """Offered to the owner for a failed job the service reports as restartable (Cloudgene: dead),
        on a protocol that has a restart; decided from the stored state, without a request."""
        if not self.hub_state.may_act_on(job) or job.status is not JobStatus.FAILED or not job.remote_id:
            return False
        from fedimpute.services import adapter_class

        try:
            cls = adapter_class(self.hub_state.store.get_service(job.service).protocol)
        except FedImputeError:
            return False
        return cls.can_restart and cls.restartable(job.remote_state)

    def _downloadable(self, job: Job) -> bool:
        return self.hub_state.may_act_on(job) and job.status is JobStatus.COMPLETED and job.service != "*"

    def _quality(self, job: Job, results: pd.DataFrame) -> tuple[dict, tuple | None]:
        """Quality of a completed job, computed once per set of downloaded files: the parameters to
        update and, when computed, the key that :meth:`_show` remembers."""
        if job.status is not JobStatus.COMPLETED:
            return {"quality": None, "quality_note": f"the job is {job.status.value}; quality comes once it "
                    "completed and its results are downloaded"}, None
        key = (job.job_id, tuple(results.loc[results["state"] == "downloaded", "name"]))
        if key == self._quality_key:
            return {}, None
        from fedimpute.quality import job_quality

        try:
            doc = job_quality(self.hub_state.store, job.job_id)
        except StoreLockedError:
            raise  # busy: the whole read is tried again
        except FedImputeError as exc:
            return {"quality": None, "quality_note": str(exc)}, None
        return {"quality": doc, "quality_note": ""}, key

    # -- intents -----------------------------------------------------------------------------

    async def build_provenance(self) -> None:
        """The shown job's provenance (an RO-Crate zip, ``fedimpute provenance``), built in a worker thread
        for anyone who may see the job; a served page's crate names no server path."""
        job = self.job
        if job is None or self.provenance_busy:
            return
        self.param.update(provenance_busy=True, provenance=None, message="")
        try:
            data = await self.hub_state.in_thread(self._provenance_zip, job.job_id)
        except (FedImputeError, OSError) as exc:
            self.param.update(provenance_busy=False, message=f"no provenance: {exc}")
            return
        if self.job is None or self.job.job_id != job.job_id:  # the user selected another job meanwhile
            self.provenance_busy = False
            return
        self.param.update(provenance_busy=False, provenance=data,
                          message=f"provenance of {job.job_id} ready: save it with the button")

    def _provenance_zip(self, job_id: str) -> bytes:
        from fedimpute.provenance.export import provenance_zip

        self.hub_state.get_job(job_id)  # a job this user may see, else "unknown job"
        return provenance_zip(self.hub_state.store, self.hub_state.hub.credentials, job_id,
                              include_paths=not self.hub_state.offload)

    async def cancel(self) -> None:
        """Cancel the shown job (its owner only)."""
        await self._act(self.can_cancel, self.hub_state.hub.cancel, "job {id} cancelled")

    async def download(self) -> None:
        """Fetch the shown job's results into FEDIMPUTE_HOME (its owner only)."""
        await self._act(self.can_download, self.hub_state.hub.download_results, "results of {id} downloaded")

    async def restart(self) -> None:
        """Ask the service to run the shown dead job again (its owner only)."""
        await self._act(self.can_restart, self.hub_state.hub.restart, "job {id} restarted on {service}")

    async def _act(self, allowed: bool, request: Callable[[str], Awaitable[object]], done: str) -> None:
        """``request(job_id)`` for the shown job when this user may make it; ``done`` names the outcome."""
        job = self.job
        if job is None or not allowed:
            return
        await self._run(lambda: request(job.job_id), done.format(id=job.job_id, service=job.service))

    async def _run(self, work: Callable[[], Awaitable[object]], done: str) -> None:
        """Carry out a Hub request (off the page's event loop when served), then show the job again."""
        self.param.update(busy=True, message="")
        try:
            await self.hub_state.run_hub(work)
        except FedImputeError as exc:
            self.message = str(exc)
        else:
            self.message = done
        finally:
            self.busy = False
        await self.refresh_async()
