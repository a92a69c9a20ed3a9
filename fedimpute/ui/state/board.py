"""BoardState: the user's active jobs with their progress, queue position and ETA, and their phases
(and the jobs that ended in the last few hours, so a job that finishes while watched does not vanish).

One read (:func:`read_board`, touching no parameter, so a served page runs it in a worker thread)
brings every active job of the user, its newest progress row, its progress history (the phases:
waiting to be sent, queued, each step) and its ETA.  :meth:`BoardState.refresh` skips the read while
the store file is unchanged, and assigns only what changed, so an idle board sends the browser nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import param

from fedimpute.exceptions import StoreError, StoreLockedError
from fedimpute.jobs.eta import Eta, etas
from fedimpute.jobs.progress import progress_json, progress_text
from fedimpute.models import Job, JobStatus, utcnow
from fedimpute.store import Store
from fedimpute.ui.queries import store_version
from fedimpute.ui.state.hub import BUSY_NOTICE, HubState

__all__ = ["ACTIVE", "BOARD_COLUMNS", "PHASE_COLUMNS", "BoardState", "phases_of", "read_board"]

log = logging.getLogger(__name__)
ACTIVE = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING)
ENDED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
#: Jobs that ended this recently stay on the board (completed at 100%, or where they stopped), below the
#: active ones, so a job that finishes while it is watched does not just vanish.
RECENT = timedelta(hours=6)
RECENT_LIMIT = 20
BOARD_COLUMNS = ["job_id", "name", "service", "panel", "status", "step", "progress", "fraction", "queue",
                 "eta", "eta_range", "based_on"]
PHASE_COLUMNS = ["job_id", "label", "phase", "start", "end"]


def _time(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else ""


def _queue(history: list[dict[str, Any]], now: dict[str, Any] | None) -> str:
    """The queue position now, and where it started when it moved ("5 → 2")."""
    if not now or now.get("queue_position") is None or now.get("status") != JobStatus.QUEUED.value:
        return ""
    first = next((r["queue_position"] for r in history if r.get("queue_position") is not None), None)
    position = now["queue_position"]
    return f"{first} → {position}" if first is not None and first != position else str(position)


def _row(job: Job, progress: dict[str, Any] | None, history: list[dict[str, Any]], eta: Eta | None) -> list[Any]:
    shown = progress if progress and progress.get("status") == job.status.value else None
    fraction = 1.0 if job.status is JobStatus.COMPLETED else None if shown is None else shown.get("fraction")
    step = progress_text(progress_json(shown)) if shown else {JobStatus.PENDING: "waiting to be sent"}.get(
        job.status, job.status.value)
    return [job.job_id, job.name or "", job.service, job.panel or "", job.status.value, step,
            "unknown" if fraction is None else f"{fraction:.0%}", fraction, _queue(history, shown),
            _time(eta.finish_at) if eta else "no estimate",
            f"{eta.low:%H:%M}–{eta.high:%H:%M}" + ("" if eta.low.date() == eta.high.date() else f" ({eta.high:%m-%d})")
            if eta else "", eta.based_on if eta else 0]


def phases_of(job: Job, history: list[dict[str, Any]], times: dict[str, datetime], now: datetime) -> list[list[Any]]:
    """The job's phases on a time axis: waiting to be sent, queued, then each step the progress rows name
    (from the row that first names it to the next one), the last one until the job ended, or ``now``."""
    label = f"{job.name} ({job.job_id[-6:]})" if job.name else job.job_id
    marks: list[tuple[datetime, str]] = [(job.created_at, "waiting to be sent")]
    if "queued" in times:
        marks.append((times["queued"], "queued"))
    steps: list[tuple[datetime, str]] = []
    for row in history:
        if row["status"] == JobStatus.RUNNING.value and row.get("step") and (not steps or steps[-1][1] != row["step"]):
            steps.append((row["time"], str(row["step"])))
    if not steps and "running" in times:  # running, and the service has named no step yet
        steps.append((times["running"], "running"))
    marks += steps
    marks.sort(key=lambda m: m[0])
    ends = [t for t, _ in marks[1:]] + [job.finished_at if job.status.is_terminal and job.finished_at else now]
    return [[job.job_id, label, phase, start, max(end, start)] for (start, phase), end in zip(marks, ends, strict=True)]


@dataclass(frozen=True)
class Board:
    rows: pd.DataFrame
    phases: pd.DataFrame


def read_board(store: Store, owner: str | None, now: datetime | None = None) -> Board:
    """Every active job of ``owner`` (every owner's for None), newest first, with progress and ETA, then
    the jobs that ended in the last :data:`RECENT`."""
    now = now or utcnow()
    with store.session():  # a handful of reads, one DuckDB open
        jobs = [j for status in ACTIVE for j in store.list_jobs(status=status, owner=owner) if j.service != "*"]
        jobs.sort(key=lambda j: (j.created_at, j.job_id), reverse=True)
        jobs += [j for status in ENDED for j in store.list_jobs(status=status, owner=owner, limit=RECENT_LIMIT)
                 if j.service != "*" and j.finished_at and j.finished_at >= now - RECENT]
        ids = [j.job_id for j in jobs]
        latest, history = store.latest_progress(ids), store.progress_history(ids)
        times, found = store.status_times(ids), etas(store, jobs, now=now)
    rows = [_row(j, latest.get(j.job_id), history.get(j.job_id, []), found.get(j.job_id)) for j in jobs]
    phases = [p for j in jobs for p in phases_of(j, history.get(j.job_id, []), times.get(j.job_id, {}), now)]
    return Board(pd.DataFrame(rows, columns=BOARD_COLUMNS), pd.DataFrame(phases, columns=PHASE_COLUMNS))


class BoardState(param.Parameterized):
    """The board's model: :meth:`refresh` (or ``refresh_async`` in a served page) re-reads it."""

    hub_state = param.ClassSelector(class_=HubState, constant=True)
    rows = param.DataFrame(default=pd.DataFrame(columns=BOARD_COLUMNS), doc="One row per active job.")
    phases = param.DataFrame(default=pd.DataFrame(columns=PHASE_COLUMNS), doc="The jobs' phases on a time axis.")
    error = param.String(default="", doc="Why the last refresh kept the old board.")
    read_once = param.Boolean(default=False, doc="A read got through (before it, the board says so).")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._version: tuple | None = None
        if not self.hub_state.offload:
            self.refresh()

    def _owner(self) -> str | None:
        return None if self.hub_state.admin else self.hub_state.user

    def _due(self, if_changed: bool) -> tuple | None:
        """The store's version when a read is due (the file changed, or a read failed), else None.
        (Phases that are still open grow with time, but only a write moves a job on.)"""
        version = store_version(self.hub_state.store)
        return None if if_changed and version == self._version and not self.error else version

    def refresh(self, *, if_changed: bool = False) -> bool:
        version = self._due(if_changed)
        if version is None:
            return False
        try:
            board = read_board(self.hub_state.store, self._owner())
        except StoreError as exc:
            return self._failed(exc)
        return self._show(version, board)

    async def refresh_async(self, *, if_changed: bool = False) -> bool:
        """:meth:`refresh` with the read in a worker thread (served pages)."""
        version = self._due(if_changed)
        if version is None:
            return False
        try:
            board = await self.hub_state.in_thread(read_board, self.hub_state.store, self._owner())
        except StoreError as exc:
            return self._failed(exc)
        return self._show(version, board)

    def _failed(self, exc: Exception) -> bool:
        log.info("board refresh skipped: %s", exc)
        self.error = f"{BUSY_NOTICE}; showing the last board read" if isinstance(exc, StoreLockedError) else \
            f"could not read the store, showing the last board read ({exc})"
        return False

    def _show(self, version: tuple, board: Board) -> bool:
        self._version = version
        changes: dict[str, Any] = {"error": "", "read_once": True}
        if not board.rows.equals(self.rows):
            changes["rows"] = board.rows
        if not board.phases.equals(self.phases):
            changes["phases"] = board.phases
        changes = {k: v for k, v in changes.items() if k in ("rows", "phases") or getattr(self, k) != v}
        if changes:
            self.param.update(**changes)
        return "rows" in changes or "phases" in changes
