"""Store methods for the monitor: per-job tracking rows and the polling lease."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fedimpute.models import JobStatus, utcnow
from fedimpute.store._rows import bulk_table, count, dicts, to_db_time
from fedimpute.store.base import StoreBase

__all__ = ["TrackingStore"]

_TRACKING = {"submit_state", "submit_owner", "submit_after", "next_poll_at", "poll_failures", "results_state",
             "results_error"}
ACTIVE = (JobStatus.PENDING.value, JobStatus.QUEUED.value, JobStatus.RUNNING.value)
#: Jobs that take one of a service's slots (what Cloudgene counts against "Only N jobs per user"): those
#: the service holds, and those that may be reaching it (an upload under way or of unknown outcome).
_HOLDS_SLOT = ("(j.status IN ('queued', 'running') OR (j.status = 'pending' "
               "AND t.submit_state IN ('uploading', 'unknown', 'searching')))")


class TrackingStore(StoreBase):
    def set_tracking(self, job_id: str, **fields: Any) -> None:
        """Upsert tracking fields of one job (monitor bookkeeping, never shown as job data)."""
        unknown = set(fields) - _TRACKING
        if unknown:
            raise ValueError(f"unknown tracking field(s) {sorted(unknown)}")
        values = {k: to_db_time(v) if isinstance(v, datetime) else v for k, v in fields.items()}
        cols = ", ".join(values)
        updates = ", ".join(f"{k} = excluded.{k}" for k in values)
        with self.tx() as con:
            con.execute(f"INSERT INTO job_tracking (job_id, {cols}) VALUES (?, {', '.join('?' * len(values))}) "
                        f"ON CONFLICT (job_id) DO UPDATE SET {updates}", [job_id, *values.values()])

    def claim_slot(self, job_id: str, service: str, limit: int | None, owner: str) -> int | None:
        """Mark ``job_id`` as uploading if ``service`` has a free slot, in one transaction.

        ``limit`` is the service's ``max_concurrent_jobs`` (None: no limit known, always free).  With
        no free slot the job is marked ``waiting_for_slot`` instead, with no time set: it goes out
        when a slot frees.  Returns None when the slot was taken, else how many jobs hold the slots.
        Counting and marking in one transaction keeps two senders from taking the last slot twice.
        """
        with self.tx() as con:
            held = 0
            if limit is not None:
                held = count(con.execute(f"SELECT count(*) FROM jobs j LEFT JOIN job_tracking t USING (job_id) "
                                         f"WHERE j.service = ? AND j.job_id <> ? AND {_HOLDS_SLOT}",
                                         [service, job_id]))
            free = limit is None or held < limit
            fields = {"submit_state": "uploading", "submit_owner": owner} if free else \
                {"submit_state": "waiting_for_slot", "submit_owner": None, "submit_after": None}
            cols = ", ".join(fields)
            con.execute(f"INSERT INTO job_tracking (job_id, {cols}) VALUES (?, {', '.join('?' * len(fields))}) "
                        f"ON CONFLICT (job_id) DO UPDATE SET {', '.join(f'{k} = excluded.{k}' for k in fields)}",
                        [job_id, *fields.values()])
        return None if free else int(held)

    def release_refused(self, service: str, slots: int) -> list[str]:
        """A slot-free event: the ``slots`` oldest jobs the service refused for its quota may be sent again.

        Jobs held back before any upload have no retry time and wait only for the count; a refused job
        has a retry time (its fallback timer), cleared here, so each freed slot costs at most one upload.
        """
        if slots <= 0:
            return []
        with self.tx() as con:
            rows = con.execute(
                "SELECT t.job_id FROM job_tracking t JOIN jobs j USING (job_id) WHERE j.service = ? "
                "AND j.status = 'pending' AND t.submit_state = 'waiting_for_slot' AND t.submit_after IS NOT NULL "
                "ORDER BY j.created_at LIMIT ?", [service, slots]).fetchall()
            ids = [r[0] for r in rows]
            if ids:
                con.execute(f"UPDATE job_tracking SET submit_after = NULL WHERE job_id IN "
                            f"({', '.join('?' * len(ids))})", ids)
        return ids

    def schedule_polls(self, rows: list[tuple[str, int, datetime]]) -> None:
        """Set ``(job_id, poll_failures, next_poll_at)`` of many jobs in one transaction."""
        if not rows:
            return
        cols = {"job_id": "VARCHAR", "poll_failures": "INTEGER", "next_poll_at": "TIMESTAMP"}
        data = [{"job_id": j, "poll_failures": f, "next_poll_at": to_db_time(t)} for j, f, t in rows]
        with self.tx() as con:
            bulk_table(con, "poll_schedule", data, cols, self.home)
            con.execute("INSERT INTO job_tracking (job_id, poll_failures, next_poll_at) SELECT * FROM poll_schedule "
                        "ON CONFLICT (job_id) DO UPDATE SET poll_failures = excluded.poll_failures, "
                        "next_poll_at = excluded.next_poll_at")
            con.execute("DROP TABLE poll_schedule")

    def tracking(self, job_id: str) -> dict[str, Any]:
        with self.read() as con:
            rows = dicts(con.execute("SELECT * FROM job_tracking WHERE job_id = ?", [job_id]))
        return rows[0] if rows else {"job_id": job_id, "poll_failures": 0}

    def jobs_to_visit(self, now: datetime | None = None, *, include_not_due: bool = False) -> list[dict[str, Any]]:
        """Active jobs whose next poll is due, and completed jobs whose results are not yet fetched."""
        now = to_db_time(now or utcnow())
        due = "TRUE" if include_not_due else "(t.next_poll_at IS NULL OR t.next_poll_at <= ?)"
        sql = (f"SELECT j.job_id, j.service, j.owner, j.status, j.remote_id, j.remote_state, j.queue_position, "
               f"j.parent_id, t.submit_state, t.submit_owner, t.submit_after, t.poll_failures, t.results_state "
               f"FROM jobs j "
               f"LEFT JOIN job_tracking t USING (job_id) WHERE j.service <> '*' AND {due} AND ("
               f"j.status IN {ACTIVE} OR (j.status = 'completed' AND t.results_state IS NULL)) "
               f"ORDER BY j.created_at")
        with self.read() as con:
            return dicts(con.execute(sql, [] if include_not_due else [now]))

    # -- the lease ---------------------------------------------------------------------------

    def acquire_lease(self, name: str, owner: str, ttl: float) -> bool:
        """Take (or renew) the lease ``name`` for ``owner`` unless another holder's heartbeat is fresh."""
        now = utcnow()
        stale = to_db_time(now - timedelta(seconds=ttl))
        with self.tx() as con:
            row = con.execute("SELECT owner, heartbeat FROM monitor_lease WHERE name = ?", [name]).fetchone()
            if row and row[0] != owner and row[1] > stale:
                return False
            con.execute("INSERT INTO monitor_lease VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                        "owner = excluded.owner, heartbeat = excluded.heartbeat, acquired_at = CASE WHEN "
                        "monitor_lease.owner = excluded.owner THEN monitor_lease.acquired_at ELSE "
                        "excluded.acquired_at END", [name, owner, to_db_time(now), to_db_time(now)])
        return True

    def take_over_lease(self, name: str, old_owner: str, owner: str) -> bool:
        """Replace ``old_owner`` (known dead) by ``owner``; only one contender can win (compare and swap)."""
        now = to_db_time(utcnow())
        with self.tx() as con:
            swapped = con.execute("UPDATE monitor_lease SET owner = ?, acquired_at = ?, heartbeat = ? "
                                  "WHERE name = ? AND owner = ?", [owner, now, now, name, old_owner]).fetchone()
        return bool(swapped and swapped[0])

    def release_lease(self, name: str, owner: str) -> None:
        with self.tx() as con:
            con.execute("DELETE FROM monitor_lease WHERE name = ? AND owner = ?", [name, owner])

    def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        with self.read() as con:
            rows = dicts(con.execute("SELECT owner, heartbeat FROM monitor_lease WHERE name = ?", [name]))
        return (rows[0]["owner"], rows[0]["heartbeat"]) if rows else None
