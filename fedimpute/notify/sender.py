"""The sender: delivers the outbox to each owner's channels, at least once and rarely twice.

One pass (:meth:`Sender.run_once`, which the monitor's upkeep runs every sweep):

1. **route** new events: the owner's channels (read from the secret store) that subscribe to the
   event each get a delivery row; an owner without channels gets none, and the event is done.
2. **claim** the due deliveries in one transaction (state ``sending``, this process's ``host:pid``,
   attempts + 1).  A claim left by a sender that died is taken over once its process is gone (or
   after :data:`STALE_CLAIM`), so a crash between sending and marking repeats at most that message.
3. **send**, one message per channel (channels concurrently, each in a worker thread): more than
   :data:`BURST` events for one channel within a minute (due now, plus sent in the last minute)
   become one digest.
4. **mark** each channel's deliveries as soon as its send returns: sent; or pending again after an
   exponential back-off with jitter (:func:`retry_delay`); or failed after :data:`MAX_ATTEMPTS`.

Each channel's latest outcome is kept by id (``notify list`` shows its last error); the error text is
scrubbed of the URL's secrets first.  Channel URLs never reach the store.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from fedimpute.credentials import Credentials
from fedimpute.models import utcnow
from fedimpute.notify.channels import Channel, ChannelBook
from fedimpute.notify.delivery import Send, send
from fedimpute.notify.messages import digest, render
from fedimpute.processes import holder_alive
from fedimpute.store import Store

__all__ = ["BURST", "MAX_ATTEMPTS", "STALE_CLAIM", "SendReport", "Sender", "retry_delay"]

log = logging.getLogger(__name__)

#: More events than this for one channel within :data:`BURST_WINDOW` go out as one digest.
BURST = 5
BURST_WINDOW = timedelta(minutes=1)
#: Attempts per delivery before it is given up (the last ones hours apart).
MAX_ATTEMPTS = 8
#: A claim this old is taken over even when its process seems alive (a hung sender).
STALE_CLAIM = timedelta(minutes=15)
#: Events older than this whose deliveries are all final are forgotten.
KEEP = timedelta(days=30)


def retry_delay(attempts: int, base: float = 30.0, cap: float = 3600.0) -> timedelta:
    """Back-off after the ``attempts``-th failure: 30 s, 1 min, 2 min, ... up to an hour, with jitter."""
    return timedelta(seconds=random.uniform(0.5, 1.0) * min(cap, base * 2.0 ** max(attempts - 1, 0)))


def _alive(claimer: str) -> bool:
    """Whether the process that made a claim (``host:pid:nonce``) still runs; other hosts count as alive."""
    host, _, rest = claimer.partition(":")
    return holder_alive(host, rest.partition(":")[0])


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    messages: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed)


class Sender:
    """Delivers one home's outbox.  ``clock`` is the time (tests simulate it); ``hold_completed`` lets a
    completion wait that long for the monitor to download its results (then it carries the quality)."""

    def __init__(self, store: Store, credentials: Credentials, *, clock: Callable[[], datetime] = utcnow,
                 hold_completed: timedelta | None = None, deliver: Send | None = None,
                 concurrency: int = 4) -> None:
        self.store, self.book = store, ChannelBook(credentials)
        self.clock, self.hold_completed = clock, hold_completed
        self.deliver: Send = deliver or send
        self.claimer = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.concurrency = concurrency
        self._pruned: datetime | None = None

    async def run_once(self) -> SendReport:
        """Route, claim, send and mark what is due now."""
        report = SendReport()
        now = self.clock()
        limit = asyncio.Semaphore(self.concurrency)
        with self.store.session():  # one open of the database for the bookkeeping, none while sending
            self._route(now)
            claimed = self.store.claim_deliveries(self.claimer, now, alive=_alive, stale_after=STALE_CLAIM)
            recent = self.store.sent_since(now - BURST_WINDOW) if claimed else {}
        if claimed:
            groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for row in claimed:
                groups.setdefault((row["owner"], row["channel_id"]), []).append(row)
            channels = await asyncio.to_thread(self._channels, {owner for owner, _ in groups})
            await asyncio.gather(*(self._send_group(owner, channels.get((owner, cid)), rows,
                                                    recent.get((owner, cid), 0), report, limit)
                                   for (owner, cid), rows in groups.items()))
        self._prune(now)
        return report

    # -- the steps ---------------------------------------------------------------------------------

    def _channels(self, owners: set[str]) -> dict[tuple[str, str], Channel]:
        return {(owner, c.id): c for owner in owners for c in self.book.channels(owner)}

    def _route(self, now: datetime) -> None:
        hold = now - self.hold_completed if self.hold_completed else None
        events = self.store.events_to_route(hold)
        if not events:
            return
        channels = self._channels({e["owner"] for e in events})
        routes = {e["event_id"]: (e["owner"], [c.id for (owner, _), c in channels.items()
                                               if owner == e["owner"] and c.wants(e["event"])]) for e in events}
        self.store.route_events(routes, now)

    async def _send_group(self, owner: str, channel: Channel | None, rows: list[dict[str, Any]], recent: int,
                          report: SendReport, limit: asyncio.Semaphore) -> None:
        """Everything due for one channel: one message per event, or one digest for a burst."""
        if channel is None:  # removed since the event was routed
            self.store.drop_channel(owner, rows[0]["channel_id"])
            return
        burst = len(rows) > 1 and len(rows) + recent > BURST
        for batch in [rows] if burst else [[r] for r in rows]:
            try:
                message = await asyncio.to_thread(digest, self.store, batch) if burst else \
                    await asyncio.to_thread(render, self.store, batch[0])
            except Exception as exc:  # a store hiccup or a bug: a failed attempt, retried later
                log.warning("could not write the notification of event(s) %s", [r["event_id"] for r in batch],
                            exc_info=True)
                self._mark(owner, channel, batch, f"could not write the message: {type(exc).__name__}", report)
                continue
            async with limit:
                error = await asyncio.to_thread(partial(self.deliver, channel, message))
            report.messages += 1
            self._mark(owner, channel, batch, error, report)

    def _mark(self, owner: str, channel: Channel, rows: list[dict[str, Any]], error: str | None,
              report: SendReport) -> None:
        now = self.clock()
        ids = [r["event_id"] for r in rows]
        if error is None:
            report.sent += len(rows)
            self.store.finish_deliveries(owner, channel.id, ids, now)
            return
        attempts = max(r["attempts"] for r in rows)
        retry_at = now + retry_delay(attempts) if attempts < MAX_ATTEMPTS else None
        report.failed += len(rows)
        self.store.finish_deliveries(owner, channel.id, ids, now, error=error, retry_at=retry_at)
        when = f"retrying after {retry_at:%H:%M:%S} UTC" if retry_at else f"given up after {attempts} attempts"
        log.warning("notification to %s's channel %s failed (%s): %s", owner, channel.label(), when, error)

    def _prune(self, now: datetime) -> None:
        if self._pruned is not None and now - self._pruned < timedelta(hours=1):
            return
        self._pruned = now
        if gone := self.store.prune_notifications(now - KEEP):
            log.info("forgot %d delivered notification(s) older than %d days", gone, KEEP.days)
