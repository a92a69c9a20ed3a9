"""Recording what a service reports about jobs: the one write path for a remote status change.

A single report (a CLI refresh, a cancel, a download's fresh read) and a monitor sweep over
thousands of jobs go through the same rule, :func:`changes_of`: what differs from the stored
row is written, a status change writes its event in the same transaction, step messages and
a result password are kept as they arrive, a changed progress (:mod:`fedimpute.jobs.progress`) adds
its row, and a fan-out parent follows its children.
"""

from __future__ import annotations

from typing import Any

from fedimpute.credentials import Credentials
from fedimpute.jobs.progress import record_progress
from fedimpute.models import Job, JobStatus, StepMessage
from fedimpute.services.base import RemoteJob
from fedimpute.store import Store

__all__ = ["apply_remote", "apply_reports", "changes_of", "mark_lost", "needs_full_record", "update_parent"]

_TIMES = ("started_at", "finished_at", "expires_at")


def changes_of(current: dict[str, Any], remote: RemoteJob) -> dict[str, Any]:
    """The fields ``remote`` changes in the stored ``current`` job (a row or ``Job.model_dump()``).

    Empty when the report says nothing new: same status, remote state and queue position, no
    times that differ, and (for a failure) the same error.  Times the service leaves out are kept.
    """
    changes: dict[str, Any] = {}
    if remote.status.value != _status(current["status"]):
        changes["status"] = remote.status
    for key in ("remote_state", "queue_position"):
        if getattr(remote, key) != current.get(key):
            changes[key] = getattr(remote, key)
    for key in _TIMES:
        value = getattr(remote, key)
        if value is not None and key in current and value != current[key]:
            changes[key] = value
    if remote.status is JobStatus.FAILED and remote.error != current.get("error"):
        changes["error"] = remote.error
    return changes


def _status(value: JobStatus | str) -> str:
    return value.value if isinstance(value, JobStatus) else value


def needs_full_record(remote: RemoteJob, parent_id: str | None) -> bool:
    """Whether a report carries more than the bulk path writes: messages, outputs, a password, or a
    parent to update."""
    return bool(remote.steps or remote.outputs or remote.password is not None or parent_id)


def _detail(remote: RemoteJob) -> str:
    detail = f"remote state {remote.remote_state}"
    if remote.error and remote.status is JobStatus.FAILED:
        detail += f": {remote.error.splitlines()[0][:200]}"
    if remote.results_expired:
        detail += " (results deleted by the service)"
    return detail


def apply_remote(store: Store, credentials: Credentials, job: Job, remote: RemoteJob) -> Job:
    """Record one report: status (with an event), times, queue, messages, outputs, password."""
    if remote.password is not None and credentials.password(job.job_id) is None:
        credentials.set_password(job.job_id, remote.password)
    messages = [StepMessage(job_id=job.job_id, step_index=i, step=step.name, message_index=j, time=m.time,
                            level=m.level, text=m.text)
                for i, step in enumerate(remote.steps) for j, m in enumerate(step.messages)]
    if messages:
        store.add_step_messages(messages)
    if remote.outputs:
        store.add_result_names(job.job_id, [f.name for f in remote.outputs])
    record_progress(store, [(job.model_dump(), remote)])  # a new step message changes no job field
    changes = changes_of(job.model_dump(), remote)
    if not changes:
        return job  # nothing new: no write
    status = changes.pop("status", None)
    updated = store.update_job(job.job_id, status=status, detail=_detail(remote), **changes)
    if job.parent_id and updated.status is not job.status:
        update_parent(store, job.parent_id)
    return updated


def apply_reports(store: Store, credentials: Credentials, reports: list[tuple[dict[str, Any], RemoteJob]]) -> int:
    """Record many reports (a monitor sweep): plain state changes in three bulk statements, reports
    with more to keep through :func:`apply_remote`.  Returns how many jobs changed status."""
    changed, bulk, plain = 0, [], []
    for row, remote in reports:
        carries_more = bool(remote.steps or remote.outputs or remote.password is not None)
        if not carries_more and not changes_of(row, remote):
            continue
        if needs_full_record(remote, row.get("parent_id")):
            job = store.get_job(row["job_id"])
            changed += apply_remote(store, credentials, job, remote).status is not job.status
        else:
            bulk.append({"job_id": row["job_id"], "status": remote.status.value,
                         "remote_state": remote.remote_state, "queue_position": remote.queue_position,
                         "started_at": remote.started_at, "finished_at": remote.finished_at,
                         "expires_at": remote.expires_at, "error": remote.error, "detail": _detail(remote)})
            plain.append((row, remote))
    changed += store.apply_job_updates(bulk)
    record_progress(store, plain)
    return changed


def mark_lost(store: Store, rows: list[dict[str, Any]], reason: str) -> int:
    """Jobs the service no longer knows: failed, with ``reason``.  Returns how many changed."""
    return store.apply_job_updates([
        {"job_id": r["job_id"], "status": JobStatus.FAILED.value, "remote_state": r["remote_state"],
         "queue_position": r.get("queue_position"), "started_at": None, "finished_at": None,
         "error": reason, "detail": "the service no longer knows this job"} for r in rows])


def update_parent(store: Store, parent_id: str | None) -> None:
    """Derive a fan-out parent's status from its children."""
    if not parent_id:
        return
    children = store.list_jobs(parent_id=parent_id)
    statuses = {c.status for c in children}
    if not statuses:
        return
    store.update_job(parent_id, status=_parent_status(statuses),
                     detail="children: " + ", ".join(f"{sum(c.status is s for c in children)} {s.value}"
                                                     for s in JobStatus if s in statuses))


def _parent_status(statuses: set[JobStatus]) -> JobStatus:
    if statuses <= {JobStatus.COMPLETED}:
        return JobStatus.COMPLETED
    if statuses <= {JobStatus.CANCELLED}:
        return JobStatus.CANCELLED
    if all(s.is_terminal for s in statuses):
        return JobStatus.FAILED if JobStatus.FAILED in statuses else JobStatus.COMPLETED
    if statuses & {JobStatus.RUNNING, JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}:
        return JobStatus.RUNNING
    return JobStatus.QUEUED if JobStatus.QUEUED in statuses else JobStatus.PENDING
