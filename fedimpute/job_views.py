"""The JSON shapes of the CLI contract for jobs, built from the store, and the one user-scoped lookup.

Kept outside the CLI so notebooks, reports and the dashboard show exactly what
``fedimpute jobs show --json`` shows.  :func:`visible_job` is how every user-scoped view finds a
job: another user's job is refused with exactly the error of a job that does not exist, so no
page, message or status code tells whether a job id is taken.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any

from fedimpute.exceptions import JobNotFoundError
from fedimpute.jobs.eta import eta_json, etas
from fedimpute.jobs.progress import progress_json
from fedimpute.models import Job
from fedimpute.store import Store

__all__ = ["job_detail", "job_summaries", "job_summary", "unknown_job", "visible_job"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def unknown_job(job_id: str) -> JobNotFoundError:
    """The one error for a job a user may not see, whether it exists or not."""
    return JobNotFoundError(f"unknown job {job_id!r}; see `fedimpute jobs list` for job ids")


def visible_job(store: Store, job_id: str, *, user: str, admin: bool = False) -> Job:
    """``job_id`` when ``user`` may see it (their own; any job for an admin), else :func:`unknown_job`."""
    try:
        job = store.get_job(job_id)
    except JobNotFoundError:
        raise unknown_job(job_id) from None
    if not admin and job.owner != user:
        raise unknown_job(job_id)
    return job


def job_summary(job: Job) -> dict[str, Any]:
    """One line of ``jobs list --json``."""
    return {
        "job_id": job.job_id, "name": job.name, "service": job.service, "panel": job.panel,
        "remote_id": job.remote_id, "status": job.status.value, "remote_state": job.remote_state,
        "owner": job.owner, "parent_id": job.parent_id, "created_at": _iso(job.created_at),
        "submitted_at": _iso(job.submitted_at), "finished_at": _iso(job.finished_at),
        "expires_at": _iso(job.expires_at),
    }


def job_summaries(store: Store, jobs: list[Job]) -> list[dict[str, Any]]:
    """``jobs list --json``: :func:`job_summary` of each job with its ``progress`` and ``eta`` (null where
    unknown), read for all of them at once."""
    ids = [j.job_id for j in jobs]
    progress = store.latest_progress(ids)
    times = etas(store, jobs)
    return [{**job_summary(j), "progress": progress_json(progress.get(j.job_id)),
             "eta": eta_json(times.get(j.job_id))} for j in jobs]


def job_detail(store: Store, job_id: str) -> dict[str, Any]:
    """``jobs show --json``: the job with its steps, events, results, progress and ETA."""
    job = store.get_job(job_id)
    messages = store.step_messages(job_id)
    steps = [
        {"name": step, "messages": [{"time": _iso(m.time), "level": m.level.value, "text": m.text} for m in group]}
        for (_, step), group in groupby(messages, key=lambda m: (m.step_index, m.step))
    ]
    return {
        "job_id": job.job_id, "name": job.name, "service": job.service, "panel": job.panel,
        "build": job.build, "population": job.population, "owner": job.owner, "parent_id": job.parent_id,
        "remote_id": job.remote_id, "status": job.status.value, "remote_state": job.remote_state,
        "created_at": _iso(job.created_at), "submitted_at": _iso(job.submitted_at),
        "started_at": _iso(job.started_at), "finished_at": _iso(job.finished_at),
        "expires_at": _iso(job.expires_at), "queue_position": job.queue_position,
        "steps": steps,
        "events": [{"time": _iso(e.time), "status": e.status.value, "old_status": e.old_status and e.old_status.value,
                    "detail": e.detail} for e in store.job_events(job_id)],
        "results": [{"name": r.name, "size": r.size, "sha256": r.sha256, "path": r.path,
                     "downloaded_at": _iso(r.downloaded_at)} for r in store.result_files(job_id)],
        "children": [c.job_id for c in store.list_jobs(parent_id=job_id)],
        "error": job.error,
        "progress": progress_json(store.latest_progress([job_id]).get(job_id)),
        "eta": eta_json(etas(store, [job])[job_id]),
    }
