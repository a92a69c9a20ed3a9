"""Sign-in for the lab server: accounts from :mod:`fedimpute.accounts`, server-side sessions,
throttling, the cookie secret and the security headers.  :func:`install` makes one
:class:`AuthContext` the process's; :func:`page_session` tells a page's app whose it is.
"""

from __future__ import annotations

from fedimpute.ui.auth.headers import install_security_headers
from fedimpute.ui.auth.provider import COOKIE, TICKET_HEADER, AuthContext, FedimputeAuth
from fedimpute.ui.auth.secret import cookie_secret, session_key
from fedimpute.ui.auth.sessions import Session, SessionTable
from fedimpute.ui.auth.throttle import Throttle

__all__ = ["COOKIE", "TICKET_HEADER", "AuthContext", "FedimputeAuth", "Session", "SessionTable", "Throttle",
           "cookie_secret", "current", "install", "install_security_headers", "page_session", "session_key"]

_context: AuthContext | None = None


def install(context: AuthContext | None) -> None:
    global _context
    _context = context


def current() -> AuthContext | None:
    """The process's sign-in, or None where the server has no accounts (one person's loopback server)."""
    return _context


def page_session(headers) -> Session | None:
    """Redeem the ticket the provider put in this page's request (see :mod:`.provider`)."""
    if _context is None:
        return None
    return _context.sessions.redeem(headers.get(TICKET_HEADER))
