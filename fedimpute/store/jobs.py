"""Store methods for jobs, their events, step messages and result files.

Rules that the rest of fedimpute relies on:

* a job row is committed (status ``pending``) before anything is sent to a service;
* every status change writes a ``job_events`` row in the same transaction as the
  change itself, so the event log and the job can never disagree;
* step messages are keyed by (job, step, message index) and inserted once, so a
  poll that sees the same messages again adds nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fedimpute.exceptions import JobNotFoundError
from fedimpute.models import Job, JobEvent, JobStatus, ResultFile, StepMessage, utcnow
from fedimpute.store._rows import bulk_table, count, dicts, to_db_time, to_json
from fedimpute.store.base import StoreBase
from fedimpute.store.notifications import OUTBOX_EXPIRING, OUTBOX_FROM_JOB, OUTBOX_FROM_UPDATES

__all__ = ["JobStore"]

_JOB_COLS = (
    "job_id, parent_id, name, service, panel, build, population, owner, remote_id, status, remote_state, "
    "queue_position, submission_key, options, inputs, created_at, updated_at, submitted_at, started_at, "
    "finished_at, expires_at, error"
)
_UPDATABLE = {
    "name", "remote_id", "remote_state", "queue_position", "submitted_at", "started_at", "finished_at",
    "error", "panel", "build", "population", "options", "expires_at",
}


def _job_params(job: Job) -> list[Any]:
    return [
        job.job_id, job.parent_id, job.name, job.service, job.panel, job.build, job.population, job.owner,
        job.remote_id, job.status.value, job.remote_state, job.queue_position, job.submission_key,
        to_json(job.options), to_json(job.inputs), to_db_time(job.created_at), to_db_time(job.updated_at),
        to_db_time(job.submitted_at), to_db_time(job.started_at), to_db_time(job.finished_at),
        to_db_time(job.expires_at), job.error,
    ]


class JobStore(StoreBase):
    def add_job(self, job: Job, *, detail: str = "job recorded") -> Job:
        """Insert ``job`` and its first event in one transaction."""
        with self.tx() as con:
            con.execute(f"INSERT INTO jobs ({_JOB_COLS}) VALUES ({', '.join(['?'] * 22)})", _job_params(job))
            con.execute(
                "INSERT INTO job_events (job_id, time, old_status, status, detail) VALUES (?, ?, NULL, ?, ?)",
                [job.job_id, to_db_time(job.created_at), job.status.value, detail],
            )
        return job

    def get_job(self, job_id: str) -> Job:
        with self.read() as con:
            rows = dicts(con.execute(f"SELECT {_JOB_COLS} FROM jobs WHERE job_id = ?", [job_id]),
                         json_cols=("options", "inputs"))
        if not rows:
            raise JobNotFoundError(f"unknown job {job_id!r}; see `fedimpute jobs list` for job ids")
        return Job(**rows[0])

    def list_jobs(
        self,
        *,
        status: JobStatus | str | None = None,
        service: str | None = None,
        owner: str | None = None,
        parent_id: str | None = None,
        limit: int | None = None,
    ) -> list[Job]:
        """Jobs matching every filter given, newest first."""
        where, params = [], []
        for column, value in (("status", status), ("service", service), ("owner", owner),
                              ("parent_id", parent_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value.value if isinstance(value, JobStatus) else value)
        sql = f"SELECT {_JOB_COLS} FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, job_id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.read() as con:
            rows = dicts(con.execute(sql, params), json_cols=("options", "inputs"))
        return [Job(**row) for row in rows]

    def update_job(
        self, job_id: str, *, status: JobStatus | None = None, detail: str = "", **fields: Any
    ) -> Job:
        """Change fields of a job; a changed ``status`` also writes an event (same transaction)."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"cannot update job field(s) {sorted(unknown)}; updatable: {sorted(_UPDATABLE)}")
        now = utcnow()
        with self.tx() as con:
            row = con.execute("SELECT status FROM jobs WHERE job_id = ?", [job_id]).fetchone()
            if row is None:
                raise JobNotFoundError(f"unknown job {job_id!r}; see `fedimpute jobs list` for job ids")
            old = JobStatus(row[0])
            sets = {k: (to_db_time(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
            if "options" in sets:
                sets["options"] = to_json(sets["options"])
            if status is not None and status != old:
                sets["status"] = status.value
                con.execute(
                    "INSERT INTO job_events (job_id, time, old_status, status, detail) VALUES (?, ?, ?, ?, ?)",
                    [job_id, to_db_time(now), old.value, status.value, detail],
                )
                if status in (JobStatus.COMPLETED, JobStatus.FAILED):  # the owner's notification, same transaction
                    con.execute(OUTBOX_FROM_JOB, [status.value, status.value, fields.get("error"), detail,
                                                  to_db_time(now), job_id])
            if "expires_at" in sets:  # a new deletion date deserves its own warning
                con.execute("UPDATE jobs SET expiry_warned_at = NULL WHERE job_id = ? AND "
                            "expires_at IS DISTINCT FROM ?", [job_id, sets["expires_at"]])
            sets["updated_at"] = to_db_time(now)
            assignments = ", ".join(f"{k} = ?" for k in sets)
            con.execute(f"UPDATE jobs SET {assignments} WHERE job_id = ?", [*sets.values(), job_id])
        return self.get_job(job_id)

    def apply_job_updates(self, updates: list[dict[str, Any]]) -> int:
        """Many status/state updates in three statements (a monitor sweep over thousands of jobs).

        Each update holds job_id, status, remote_state, queue_position, started_at, finished_at,
        error and detail, and optionally expires_at (kept when missing); a changed status writes its
        event in the same transaction, as :meth:`update_job` does.  Returns the number of status changes.
        """
        if not updates:
            return 0
        cols = {"job_id": "VARCHAR", "status": "VARCHAR", "remote_state": "VARCHAR", "queue_position": "INTEGER",
                "started_at": "TIMESTAMP", "finished_at": "TIMESTAMP", "expires_at": "TIMESTAMP", "error": "VARCHAR",
                "detail": "VARCHAR"}
        times = ("started_at", "finished_at", "expires_at")
        rows = [{**u, **{t: to_db_time(u.get(t)) for t in times}} for u in updates]
        now = to_db_time(utcnow())
        with self.tx() as con:
            bulk_table(con, "job_updates", rows, cols, self.home)
            changed = count(con.execute(
                "INSERT INTO job_events (job_id, time, old_status, status, detail) SELECT u.job_id, ?, j.status, "
                "u.status, u.detail FROM job_updates u JOIN jobs j USING (job_id) WHERE j.status <> u.status",
                [now]))
            con.execute(OUTBOX_FROM_UPDATES, [now])  # completions and failures, for their owners' channels
            con.execute(
                "UPDATE jobs SET status = u.status, remote_state = u.remote_state, queue_position = u.queue_position, "
                "started_at = coalesce(u.started_at, jobs.started_at), "
                "finished_at = coalesce(u.finished_at, jobs.finished_at), "
                "expires_at = coalesce(u.expires_at, jobs.expires_at), "
                "error = CASE WHEN u.status = 'failed' THEN u.error ELSE jobs.error END, updated_at = ? "
                "FROM job_updates u WHERE jobs.job_id = u.job_id", [now])
            con.execute("DROP TABLE job_updates")
        return int(changed or 0)

    def job_events(self, job_id: str) -> list[JobEvent]:
        with self.read() as con:
            rows = dicts(con.execute(
                "SELECT job_id, time, old_status, status, detail FROM job_events WHERE job_id = ? "
                "ORDER BY time, event_id", [job_id]))
        return [JobEvent(**row) for row in rows]

    # -- results about to be deleted by the service -------------------------------------------

    def expiring_jobs(self, before: datetime) -> list[Job]:
        """Completed jobs whose service deletes the results before ``before``, not downloaded yet (some
        listed file has no download, or none is listed), not known to be gone, and not warned about."""
        sql = (f"SELECT {', '.join(f'j.{c.strip()}' for c in _JOB_COLS.split(','))} FROM jobs j "
               "LEFT JOIN job_tracking t USING (job_id) WHERE j.status = 'completed' AND j.expires_at <= ? "
               "AND j.expiry_warned_at IS NULL AND coalesce(t.results_state, '') NOT IN ('downloaded', 'expired') "
               "AND NOT EXISTS (SELECT 1 FROM result_files r WHERE r.job_id = j.job_id HAVING count(*) > 0 "
               "AND count(r.downloaded_at) = count(*)) ORDER BY j.expires_at, j.job_id")
        with self.read() as con:
            rows = dicts(con.execute(sql, [to_db_time(before)]), json_cols=("options", "inputs"))
        return [Job(**row) for row in rows]

    def warn_expiry(self, job_id: str, detail: str, at: datetime) -> bool:
        """Record the expiry warning of one job as an event (status unchanged), once per deletion date;
        returns False when it was already recorded (another monitor, an earlier sweep)."""
        with self.tx() as con:
            row = con.execute("UPDATE jobs SET expiry_warned_at = ? WHERE job_id = ? AND expiry_warned_at IS NULL "
                              "RETURNING status", [to_db_time(at), job_id]).fetchone()
            if row is None:
                return False
            con.execute("INSERT INTO job_events (job_id, time, old_status, status, detail) VALUES (?, ?, ?, ?, ?)",
                        [job_id, to_db_time(at), row[0], row[0], detail])
            con.execute(OUTBOX_EXPIRING, [detail, to_db_time(at), job_id])
        return True

    # -- step messages ------------------------------------------------------------------

    def add_step_messages(self, messages: list[StepMessage]) -> int:
        """Store messages; return how many were new or changed.

        A service may rewrite a message in place (a running step's progress line), so a
        message at a known (step, index) position is updated, never duplicated.
        """
        if not messages:
            return 0
        job_ids = sorted({m.job_id for m in messages})
        with self.tx() as con:
            old = {(r[0], r[1], r[2]): (r[3], r[4]) for r in con.execute(
                "SELECT job_id, step_index, message_index, level, text FROM step_messages "
                f"WHERE job_id IN ({', '.join(['?'] * len(job_ids))})", job_ids).fetchall()}
            fresh = [m for m in messages
                     if old.get((m.job_id, m.step_index, m.message_index)) != (m.level.value, m.text)]
            if fresh:
                con.executemany(
                    "INSERT INTO step_messages VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                    "step = excluded.step, time = excluded.time, level = excluded.level, text = excluded.text",
                    [[m.job_id, m.step_index, m.step, m.message_index, to_db_time(m.time), m.level.value, m.text]
                     for m in fresh],
                )
        return len(fresh)

    def step_messages(self, job_id: str) -> list[StepMessage]:
        with self.read() as con:
            rows = dicts(con.execute(
                "SELECT * FROM step_messages WHERE job_id = ? ORDER BY step_index, message_index", [job_id]))
        return [StepMessage(**row) for row in rows]

    # -- result files -------------------------------------------------------------------

    def upsert_result_file(self, result: ResultFile) -> None:
        with self.tx() as con:
            con.execute(
                "INSERT OR REPLACE INTO result_files VALUES (?, ?, ?, ?, ?, ?, ?)",
                [result.job_id, result.name, result.size, result.sha256, result.path, result.url,
                 to_db_time(result.downloaded_at)],
            )

    def add_result_names(self, job_id: str, names: list[str]) -> None:
        """Record files a service lists for a job (not yet downloaded); known names are kept as they are."""
        if not names:
            return
        with self.tx() as con:
            con.executemany("INSERT INTO result_files (job_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING",
                            [[job_id, n] for n in names])

    def result_files(self, job_id: str) -> list[ResultFile]:
        with self.read() as con:
            rows = dicts(con.execute("SELECT * FROM result_files WHERE job_id = ? ORDER BY name", [job_id]))
        return [ResultFile(**row) for row in rows]
