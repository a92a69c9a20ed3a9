"""Sign-in sessions kept by the server: what the signed cookie names, and when it stops counting.

The cookie only carries a random session id (signed by Tornado with the cookie secret); who it
belongs to, since when, and whether it still counts live here.  So a server can end a session for
real: at logout, when its account is removed or its password changed (the account's ``stamp``
moves), or after ``idle`` seconds without a request.  Sessions live in the server's memory:
restarting the server signs everyone out, which fails closed.

A page's Bokeh session learns its user through a one-time *ticket* rather than from cookies
(those are left out of the page; see :mod:`fedimpute.ui.auth.provider`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fedimpute.accounts import Accounts

__all__ = ["DEFAULT_IDLE_HOURS", "Session", "SessionTable"]

DEFAULT_IDLE_HOURS = 12.0
TICKET_SECONDS = 120.0


@dataclass
class Session:
    sid: str
    user: str
    stamp: str
    created: float
    last_seen: float


class SessionTable:
    """Open sessions of one server; thread-safe (tickets are redeemed on Bokeh's worker threads)."""

    def __init__(self, accounts: Accounts, *, idle_seconds: float = DEFAULT_IDLE_HOURS * 3600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.accounts = accounts
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._tickets: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def open(self, user: str) -> Session:
        stamp = self.accounts.stamp(user)
        if stamp is None:
            raise KeyError(user)
        now = self.clock()
        session = Session(secrets.token_urlsafe(32), user, stamp, now, now)
        with self._lock:
            self._sessions[session.sid] = session
        return session

    def resolve(self, sid: str | None, *, touch: bool = True) -> Session | None:
        """The live session of ``sid``, else None (and the dead one is forgotten)."""
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
        if session is None:
            return None
        now = self.clock()
        if now - session.last_seen > self.idle_seconds or self.accounts.stamp(session.user) != session.stamp:
            self.close(sid)
            return None
        if touch:
            session.last_seen = now
        return session

    def alive(self, sid: str | None) -> bool:
        """Whether ``sid`` still counts (an open page asks this; it does not count as activity)."""
        return self.resolve(sid, touch=False) is not None

    def close(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)

    def close_user(self, user: str) -> int:
        with self._lock:
            dead = [sid for sid, s in self._sessions.items() if s.user == user]
            for sid in dead:
                del self._sessions[sid]
        return len(dead)

    def users(self) -> dict[str, int]:
        """Open sessions per user (the admin page)."""
        with self._lock:
            sessions = list(self._sessions.values())
        counts: dict[str, int] = {}
        for s in sessions:
            counts[s.user] = counts.get(s.user, 0) + 1
        return counts

    # -- tickets: how a page's Bokeh session learns whose it is ----------------------------------

    def ticket(self, session: Session) -> str:
        now = self.clock()
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            self._tickets = {t: v for t, v in self._tickets.items() if now - v[1] < TICKET_SECONDS}
            self._tickets[ticket] = (session.sid, now)
        return ticket

    def redeem(self, ticket: str | None) -> Session | None:
        """The session a ticket was issued for; a ticket works once, within two minutes."""
        if not ticket:
            return None
        with self._lock:
            entry = self._tickets.pop(ticket, None)
        if entry is None or self.clock() - entry[1] >= TICKET_SECONDS:
            return None
        return self.resolve(entry[0], touch=False)
