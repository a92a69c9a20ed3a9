"""The events the monitor's upkeep finds (rather than a job's change of status writing them).

Each is written to the outbox once, by its dedupe key: results downloaded (``downloaded:<job>``),
a service down or in maintenance for more than :data:`OUTAGE` while the user has unfinished jobs
there (``service_down:<service>:<user>:<start of the outage>``), and a token that expires within
:data:`TOKEN_WARNING` (``token_expiring:<service>:<user>:<expiry>``).  Results about to be deleted
are written with their expiry warning (:meth:`~fedimpute.store.Store.warn_expiry`).

A token's expiry is read from the token itself (the ``exp`` claim of a JWT, as Cloudgene and most
WES servers issue), without asking the service; a token that is not a JWT has no known expiry.  A
user's own token warns that user; the lab's shared token warns the users whose unfinished jobs on
the service use it (those without a token of their own).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from fedimpute.credentials import Credentials
from fedimpute.services.tokens import jwt_expiry
from fedimpute.store import Store

__all__ = ["DOWNLOAD_WINDOW", "OUTAGE", "TOKEN_WARNING", "queue_downloads_and_outages", "queue_token_expiry"]

log = logging.getLogger(__name__)

#: A service must have been down (or in maintenance) this long before its users hear of it.
OUTAGE = timedelta(minutes=30)
#: Warn this long before a token expires.
TOKEN_WARNING = timedelta(days=7)
#: Only downloads this recent are told (a home upgraded to notifications does not announce its past).
DOWNLOAD_WINDOW = timedelta(days=1)


def queue_downloads_and_outages(store: Store, now: datetime) -> int:
    """Queue ``downloaded`` and ``service_down`` events that are due; returns how many were new."""
    return store.queue_downloaded(now, now - DOWNLOAD_WINDOW) + store.queue_outages(now, OUTAGE)


def _expiry_words(expires: datetime, now: datetime) -> str:
    left = expires - now
    if left.total_seconds() <= 0:
        return f"expired on {expires:%Y-%m-%d %H:%M} UTC"
    days = left.total_seconds() / 86400
    span = f"{days:.0f} day(s)" if days >= 1 else f"{left.total_seconds() / 3600:.0f} hour(s)"
    return f"expires on {expires:%Y-%m-%d %H:%M} UTC (in {span})"


def queue_token_expiry(store: Store, credentials: Credentials, now: datetime) -> int:
    """Queue a ``token_expiring`` event for each token that expires within :data:`TOKEN_WARNING` (or
    expired within the last day) for the users it concerns; returns how many were new."""
    added = 0
    for service in (s for s in store.list_services() if s.enabled):
        name = service.name
        warned: list[tuple[str, datetime]] = []
        for user in credentials.token_users(name):
            choice = credentials.choose_token(name, user)
            if choice is not None and choice.origin == "own" and (exp := jwt_expiry(choice.value)):
                warned.append((user, exp))
        shared = credentials.choose_token(name, None)
        if shared is not None and shared.origin == "shared" and (exp := jwt_expiry(shared.value)):
            users = set(credentials.token_users(name))
            warned += [(owner, exp) for owner in store.active_owners(name) if owner not in users]
        for user, exp in warned:
            if not now - timedelta(days=1) <= exp <= now + TOKEN_WARNING:
                continue
            added += store.add_notification(
                user, "token_expiring", service=name, detail=_expiry_words(exp, now),
                dedupe_key=f"token_expiring:{name}:{user}:{exp:%Y-%m-%dT%H:%M:%S}", at=now)
    if added:
        log.info("queued %d token expiry notification(s)", added)
    return added
