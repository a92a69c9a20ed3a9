"""JobDetailState: one job with its step messages, events, result files and quality.

It follows ``HubState.selected_job_id``, re-reads on :meth:`refresh` only what changed, and
carries out the owner's intents (cancel, download, restart).  Who may do what is asked of
:class:`HubState`, never decided here.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pandas as pd
import param

from fedimpute.exceptions import FedImputeError, StoreError
from fedimpute.models import Job, JobStatus, utcnow
from fedimpute.ui.queries import store_version
from fedimpute.ui.state.hub import HubState

__all__ = ["JobDetailState", "expiry_text"]

log = logging.getLogger(__name__)

STEP_COLUMNS = ["step", "level", "time", "text"]
EVENT_COLUMNS = ["time", "old_status", "status", "detail"]
RESULT_COLUMNS = ["name", "size", "state", "downloaded_at", "path"]


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

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._quality_key: tuple | None = None
        self._version: tuple | None = None
        self.hub_state.param.watch(lambda e: self.load(e.new), "selected_job_id")
        if self.hub_state.selected_job_id:
            self.load(self.hub_state.selected_job_id)

    def load(self, job_id: str | None) -> None:
        """Show ``job_id`` (None clears the view); a job this user may not see shows nothing."""
        if job_id is None:
            self.param.update(job=None, steps=self.param.steps.default, events=self.param.events.default,
                              results=self.param.results.default, quality=None, quality_note="", message="",
                              can_cancel=False, can_download=False, can_restart=False, expiry="")
            return
        try:
            job = self.hub_state.get_job(job_id)
        except FedImputeError as exc:
            self.param.update(job=None, message=str(exc))
            return
        self._version = store_version(self.hub_state.store)
        self._show(job, force=True)

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
            job = self.hub_state.get_job(self.job.job_id)
        except StoreError as exc:
            self.message = f"store busy ({exc})"
            return False
        except FedImputeError:
            self.load(None)
            return True
        return self._show(job, force=False)

    def _show(self, job: Job, *, force: bool) -> bool:
        store = self.hub_state.store
        frames = {"steps": self._steps(store, job), "events": self._events(store, job),
                  "results": self._results(store, job)}
        changed = {k: v for k, v in frames.items() if force or not v.equals(getattr(self, k))}
        if not changed and job == self.job:
            return False
        self.param.update(job=job, can_cancel=self._cancellable(job), can_download=self._downloadable(job),
                          can_restart=self._restartable(job), expiry=expiry_text(job, frames["results"]),
                          **changed, **self._quality(job, frames["results"]))
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
        rows = [[r.name, "" if r.size is None else f"{r.size:,}", "downloaded" if r.downloaded_at else "on the service",
                 _time(r.downloaded_at), r.path or ""] for r in store.result_files(job.job_id)]
        return pd.DataFrame(rows, columns=RESULT_COLUMNS)

    def _cancellable(self, job: Job) -> bool:
        if not self.hub_state.may_act_on(job) or job.status.is_terminal or job.service == "*":
            return False
        if not job.remote_id:
            return True  # never reached the service: cancelled here
        from fedimpute.services import adapter_class

        try:
            service = self.hub_state.store.get_service(job.service)
            return adapter_class(service.protocol.value).can_cancel
        except FedImputeError:
            return False

    def _restartable(self, job: Job) -> bool:
        """Offered to the owner for a failed job the service reports as restartable (Cloudgene: dead),
        on a protocol that has a restart; decided from the stored state, without a request."""
        if not self.hub_state.may_act_on(job) or job.status is not JobStatus.FAILED or not job.remote_id:
            return False
        from fedimpute.services import adapter_class

        try:
            cls = adapter_class(self.hub_state.store.get_service(job.service).protocol.value)
        except FedImputeError:
            return False
        return cls.can_restart and cls.restartable(job.remote_state)

    def _downloadable(self, job: Job) -> bool:
        return self.hub_state.may_act_on(job) and job.status is JobStatus.COMPLETED and job.service != "*"

    def _quality(self, job: Job, results: pd.DataFrame) -> dict:
        """Quality of a completed job, computed once per set of downloaded files."""
        if job.status is not JobStatus.COMPLETED:
            return {"quality": None, "quality_note": f"the job is {job.status.value}; quality comes once it "
                    "completed and its results are downloaded"}
        key = (job.job_id, tuple(results.loc[results["state"] == "downloaded", "name"]))
        if key == self._quality_key:
            return {}
        from fedimpute.quality import job_quality

        try:
            doc = job_quality(self.hub_state.store, job.job_id)
        except FedImputeError as exc:
            return {"quality": None, "quality_note": str(exc)}
        self._quality_key = key
        return {"quality": doc, "quality_note": ""}

    # -- intents -----------------------------------------------------------------------------

    async def cancel(self) -> None:
        """Cancel the shown job (its owner only)."""
        job = self.job
        if job is None or not self.can_cancel:
            return
        await self._run(self.hub_state.hub.cancel(job.job_id), f"job {job.job_id} cancelled")

    async def download(self) -> None:
        """Fetch the shown job's results into FEDIMPUTE_HOME (its owner only)."""
        job = self.job
        if job is None or not self.can_download:
            return
        await self._run(self.hub_state.hub.download_results(job.job_id), f"results of {job.job_id} downloaded")

    async def restart(self) -> None:
        """Ask the service to run the shown dead job again (its owner only)."""
        job = self.job
        if job is None or not self.can_restart:
            return
        await self._run(self.hub_state.hub.restart(job.job_id), f"job {job.job_id} restarted on {job.service}")

    async def _run(self, coro, done: str) -> None:
        self.param.update(busy=True, message="")
        try:
            await coro
        except FedImputeError as exc:
            self.message = str(exc)
        else:
            self.message = done
        finally:
            self.busy = False
            self.refresh()
