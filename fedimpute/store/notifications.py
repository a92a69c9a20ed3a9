"""Store methods for notifications: the outbox, its deliveries and each channel's last outcome.

The outbox is written where the cause is written: a job's completion or failure in the same
transaction as its status change (:mod:`fedimpute.store.jobs` runs :data:`OUTBOX_FROM_JOB` and
:data:`OUTBOX_FROM_UPDATES` there), the upkeep's events once per ``dedupe_key``.  The sender
(:mod:`fedimpute.notify.sender`) routes each event to the owner's channels (a delivery each), claims
due deliveries (``sending``, with its ``host:pid``) in one transaction before sending, and marks each
one sent or failed after.  A sender killed between sending and marking leaves its claim behind; the
next sender takes it over once that process is gone, so a crash repeats at most one message.
Nothing here holds a channel URL: channels are named by their random id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from fedimpute.store._rows import count, dicts, to_db_time
from fedimpute.store.base import StoreBase

__all__ = ["OUTBOX_EXPIRING", "OUTBOX_FROM_JOB", "OUTBOX_FROM_UPDATES", "NotificationStore"]

#: A job's status became completed or failed (params: status, error given now, detail, time, job_id).
OUTBOX_FROM_JOB = (
    "INSERT INTO notification_outbox (owner, event, job_id, service, detail, created_at) SELECT owner, ?, job_id, "
    "service, CASE WHEN ? = 'failed' THEN coalesce(?, nullif(error, ''), ?) ELSE '' END, ? FROM jobs "
    "WHERE job_id = ? AND service <> '*'")
#: The same for a bulk update (temp table ``job_updates``), before the jobs are updated (param: time).
OUTBOX_FROM_UPDATES = (
    "INSERT INTO notification_outbox (owner, event, job_id, service, detail, created_at) SELECT j.owner, u.status, "
    "u.job_id, j.service, CASE WHEN u.status = 'failed' THEN coalesce(u.error, nullif(j.error, ''), u.detail, '') "
    "ELSE '' END, ? FROM job_updates u JOIN jobs j USING (job_id) WHERE j.status <> u.status "
    "AND u.status IN ('completed', 'failed') AND j.service <> '*'")
#: A job's results are about to be deleted undownloaded (params: detail, time, job_id); once per deletion date.
OUTBOX_EXPIRING = (
    "INSERT INTO notification_outbox (owner, event, job_id, service, detail, dedupe_key, created_at) "
    "SELECT owner, 'expiring', job_id, service, ?, 'expiring:' || job_id || ':' || "
    "coalesce(strftime(expires_at, '%Y-%m-%dT%H:%M:%S'), ''), ? FROM jobs WHERE job_id = ? ON CONFLICT DO NOTHING")

_OUTAGES = """
WITH last_up AS (SELECT service, max(checked_at) AS up_at FROM health_checks WHERE status = 'up' GROUP BY service),
outage AS (
    SELECT h.service, min(h.checked_at) AS since, arg_max(h.status, h.checked_at) AS status,
           arg_max(h.detail, h.checked_at) AS detail
    FROM health_checks h LEFT JOIN last_up u USING (service)
    WHERE h.status IN ('down', 'maintenance') AND (u.up_at IS NULL OR h.checked_at > u.up_at)
    GROUP BY h.service)
INSERT INTO notification_outbox (owner, event, service, detail, dedupe_key, created_at)
SELECT DISTINCT j.owner, 'service_down', o.service,
       CASE WHEN o.status = 'maintenance' THEN 'in maintenance' ELSE 'down' END || ' since '
       || strftime(o.since, '%Y-%m-%d %H:%M') || ' UTC' || CASE WHEN o.detail <> '' THEN ': ' || o.detail ELSE '' END,
       'service_down:' || o.service || ':' || j.owner || ':' || strftime(o.since, '%Y-%m-%dT%H:%M:%S'), ?
FROM outage o JOIN jobs j ON j.service = o.service AND j.status IN ('pending', 'queued', 'running')
JOIN services s ON s.name = o.service AND s.enabled
WHERE o.since <= ?
ON CONFLICT DO NOTHING
"""

_DOWNLOADED = """
INSERT INTO notification_outbox (owner, event, job_id, service, dedupe_key, created_at)
SELECT j.owner, 'downloaded', j.job_id, j.service, 'downloaded:' || j.job_id, ?
FROM jobs j JOIN (SELECT job_id, max(downloaded_at) AS at FROM result_files GROUP BY job_id
                  HAVING count(*) > 0 AND count(downloaded_at) = count(*)) r USING (job_id)
WHERE j.status = 'completed' AND j.service <> '*' AND r.at >= ?
ON CONFLICT DO NOTHING
"""

_EVENT_COLS = "o.event_id, o.owner, o.event, o.job_id, o.service, o.detail, o.created_at"
_FINAL = ("sent", "failed", "dropped")


class NotificationStore(StoreBase):
    # -- writing events ------------------------------------------------------------------------

    def add_notification(self, owner: str, event: str, *, job_id: str | None = None, service: str | None = None,
                         detail: str = "", dedupe_key: str | None = None, at: datetime) -> bool:
        """Queue one event for ``owner``; False when ``dedupe_key`` was queued before."""
        with self.tx() as con:
            return count(con.execute(
                "INSERT INTO notification_outbox (owner, event, job_id, service, detail, dedupe_key, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [owner, event, job_id, service, detail, dedupe_key, to_db_time(at)])) > 0

    def queue_downloaded(self, now: datetime, since: datetime) -> int:
        """One ``downloaded`` event per completed job whose every listed file was downloaded after ``since``."""
        with self.tx() as con:
            return count(con.execute(_DOWNLOADED, [to_db_time(now), to_db_time(since)]))

    def queue_outages(self, now: datetime, longer_than: timedelta) -> int:
        """One ``service_down`` event per outage and user with active jobs on the service, once the service
        has been down or in maintenance (every check since its last good one) for ``longer_than``."""
        with self.tx() as con:
            return count(con.execute(_OUTAGES, [to_db_time(now), to_db_time(now - longer_than)]))

    def active_owners(self, service: str) -> list[str]:
        """Users with jobs that are not finished on ``service``."""
        with self.read() as con:
            rows = con.execute("SELECT DISTINCT owner FROM jobs WHERE service = ? AND status IN "
                               "('pending', 'queued', 'running') ORDER BY owner", [service]).fetchall()
        return [r[0] for r in rows]

    # -- routing and claiming ------------------------------------------------------------------

    def events_to_route(self, hold_until: datetime | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Events not yet routed to channels.  A completion younger than ``hold_until`` whose results the
        monitor has not fetched yet waits for them (its message then carries the quality line)."""
        hold = ("" if hold_until is None else
                "AND NOT (o.event = 'completed' AND o.created_at > ? AND t.results_state IS NULL "
                "AND coalesce(j.status, '') = 'completed')")
        with self.read() as con:
            return dicts(con.execute(
                f"SELECT {_EVENT_COLS} FROM notification_outbox o LEFT JOIN job_tracking t USING (job_id) "
                f"LEFT JOIN jobs j USING (job_id) WHERE o.routed_at IS NULL {hold} ORDER BY o.event_id LIMIT ?",
                ([to_db_time(hold_until)] if hold_until is not None else []) + [limit]))

    def route_events(self, routes: dict[int, tuple[str, list[str]]], now: datetime) -> None:
        """Make the deliveries of events (event_id -> (owner, channel ids)) and mark them routed."""
        if not routes:
            return
        rows = [[e, c, owner, to_db_time(now)] for e, (owner, channels) in routes.items() for c in channels]
        with self.tx() as con:
            if rows:
                con.executemany("INSERT INTO notification_deliveries (event_id, channel_id, owner, state, "
                                "next_attempt_at) VALUES (?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING", rows)
            con.execute(f"UPDATE notification_outbox SET routed_at = ? WHERE event_id IN "
                        f"({', '.join('?' * len(routes))})", [to_db_time(now), *routes])

    def claim_deliveries(self, claimer: str, now: datetime, *, alive: Callable[[str], bool],
                         stale_after: timedelta, limit: int = 200) -> list[dict[str, Any]]:
        """Take due deliveries for ``claimer`` (``sending``, attempts + 1), with their events.  A claim left
        by a sender that is gone (``alive`` says no) or older than ``stale_after`` is taken over."""
        with self.tx() as con:
            rows = con.execute(
                "SELECT event_id, channel_id, claimed_by, claimed_at FROM notification_deliveries WHERE "
                "(state = 'pending' AND next_attempt_at <= ?) OR state = 'sending' ORDER BY event_id LIMIT ?",
                [to_db_time(now), limit]).fetchall()
            stale = to_db_time(now - stale_after)
            keys = [(e, c) for e, c, by, at in rows if by is None or not alive(by) or (at is not None and at < stale)]
            if not keys:
                return []
            values = ", ".join(["(?, ?)"] * len(keys))
            con.execute(f"UPDATE notification_deliveries d SET state = 'sending', claimed_by = ?, claimed_at = ?, "
                        f"attempts = d.attempts + 1 FROM (VALUES {values}) v(e, c) WHERE d.event_id = v.e "
                        f"AND d.channel_id = v.c", [claimer, to_db_time(now), *[x for k in keys for x in k]])
            return dicts(con.execute(
                f"SELECT d.channel_id, d.attempts, {_EVENT_COLS} FROM notification_deliveries d JOIN "
                f"notification_outbox o USING (event_id) WHERE d.state = 'sending' AND d.claimed_by = ? "
                f"ORDER BY o.event_id", [claimer]))

    def sent_since(self, since: datetime) -> dict[tuple[str, str], int]:
        """(owner, channel id) -> deliveries sent after ``since`` (what a burst is measured against)."""
        with self.read() as con:
            rows = con.execute("SELECT owner, channel_id, count(*) FROM notification_deliveries WHERE state = 'sent' "
                               "AND sent_at > ? GROUP BY owner, channel_id", [to_db_time(since)]).fetchall()
        return {(o, c): int(n) for o, c, n in rows}

    def finish_deliveries(self, owner: str, channel_id: str, event_ids: Iterable[int], now: datetime, *,
                          error: str | None = None, retry_at: datetime | None = None) -> None:
        """Mark one channel's claimed deliveries: sent (no ``error``), pending again until ``retry_at``, or
        failed for good (an error and no retry); the channel's last outcome goes with them."""
        ids = list(event_ids)
        if not ids:
            return
        state = "sent" if error is None else "pending" if retry_at is not None else "failed"
        marks = ", ".join("?" * len(ids))
        with self.tx() as con:
            con.execute(f"UPDATE notification_deliveries SET state = ?, claimed_by = NULL, last_error = ?, "
                        f"sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, next_attempt_at = ? "
                        f"WHERE channel_id = ? AND event_id IN ({marks}) AND state NOT IN {_FINAL}",
                        [state, error, state, to_db_time(now), to_db_time(retry_at), channel_id, *ids])
            self._channel_outcome(con, owner, channel_id, now, error)

    def record_channel_outcome(self, owner: str, channel_id: str, now: datetime, error: str | None) -> None:
        """Keep the outcome of a message sent outside the outbox (``notify test``)."""
        with self.tx() as con:
            self._channel_outcome(con, owner, channel_id, now, error)

    @staticmethod
    def _channel_outcome(con: Any, owner: str, channel_id: str, now: datetime, error: str | None) -> None:
        con.execute("INSERT INTO notification_channels VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                    "last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error, last_sent_at = "
                    "coalesce(excluded.last_sent_at, notification_channels.last_sent_at)",
                    [owner, channel_id, to_db_time(now), None if error else to_db_time(now), error])

    def channel_errors(self, owner: str) -> dict[str, str | None]:
        """Channel id -> the error of its latest attempt (None when it succeeded), for ``owner`` only."""
        with self.read() as con:
            rows = con.execute("SELECT channel_id, last_error FROM notification_channels WHERE owner = ?",
                               [owner]).fetchall()
        return dict(rows)

    def drop_channel(self, owner: str, channel_id: str) -> None:
        """A removed channel: its undelivered messages are dropped, its outcome forgotten."""
        with self.tx() as con:
            con.execute(f"UPDATE notification_deliveries SET state = 'dropped', claimed_by = NULL WHERE owner = ? "
                        f"AND channel_id = ? AND state NOT IN {_FINAL}", [owner, channel_id])
            con.execute("DELETE FROM notification_channels WHERE owner = ? AND channel_id = ?", [owner, channel_id])

    def notifications(self, owner: str | None = None) -> list[dict[str, Any]]:
        """Every event (newest last) with its deliveries' states, for tests and inspection."""
        where = "WHERE o.owner = ?" if owner else ""
        with self.read() as con:
            return dicts(con.execute(
                f"SELECT {_EVENT_COLS}, o.dedupe_key, o.routed_at, list(d.channel_id ORDER BY d.channel_id) "
                f"FILTER (WHERE d.channel_id IS NOT NULL) AS channels, list(d.state ORDER BY d.channel_id) FILTER "
                f"(WHERE d.channel_id IS NOT NULL) AS states FROM notification_outbox o LEFT JOIN "
                f"notification_deliveries d USING (event_id) {where} GROUP BY ALL ORDER BY o.event_id",
                [owner] if owner else []))

    def prune_notifications(self, before: datetime) -> int:
        """Forget events older than ``before`` whose every delivery is final."""
        with self.tx() as con:
            old = ("SELECT event_id FROM notification_outbox o WHERE created_at < ? AND routed_at IS NOT NULL AND "
                   f"NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.event_id = o.event_id AND d.state "
                   f"NOT IN {_FINAL})")
            con.execute(f"DELETE FROM notification_deliveries WHERE event_id IN ({old})", [to_db_time(before)])
            return count(con.execute(f"DELETE FROM notification_outbox WHERE event_id IN ({old})",
                                     [to_db_time(before)]))
