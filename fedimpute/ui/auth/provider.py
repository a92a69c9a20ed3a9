"""The lab server's sign-in as a Bokeh auth provider (used by ``pn.serve`` and ``panel serve``).

Identity comes only from the server-side session named by the signed cookie
(:mod:`fedimpute.ui.auth.sessions`); Panel's ``user``/``is_guest`` cookies mean nothing here.
When a page is built, the request's cookies are taken out of it before Bokeh copies them into
the session token in the page's HTML (so page scripts never see the session cookie), and the
page's session gets a one-time ticket instead, which ``create_app`` redeems for the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bokeh.server.auth_provider import AuthProvider
from bokeh.server.views.session_handler import SessionHandler
from tornado.web import RequestHandler

from fedimpute.accounts import Accounts
from fedimpute.ui.auth.handlers import LoginHandler, LogoutHandler
from fedimpute.ui.auth.sessions import Session, SessionTable
from fedimpute.ui.auth.throttle import Throttle

__all__ = ["COOKIE", "TICKET_HEADER", "AuthContext", "FedimputeAuth"]

COOKIE = "fedimpute_session"
TICKET_HEADER = "X-Fedimpute-Ticket"
MAX_AGE_DAYS = 7  # a signed cookie older than this is refused whatever the session table says


@dataclass
class AuthContext:
    """Everything sign-in needs in one server process."""

    accounts: Accounts
    sessions: SessionTable
    throttle: Throttle = field(default_factory=Throttle)
    secure: bool = False  # served over TLS: cookies get the Secure flag

    def session_of(self, handler: RequestHandler) -> Session | None:
        raw = handler.get_signed_cookie(COOKIE, max_age_days=MAX_AGE_DAYS)
        return self.sessions.resolve(raw.decode("ascii", "replace") if raw else None)

    def user_of(self, handler: RequestHandler) -> str | None:
        session = self.session_of(handler)
        return None if session is None else session.user

    def sign_in(self, handler: RequestHandler, user: str) -> None:
        session = self.sessions.open(user)
        handler.set_signed_cookie(COOKIE, session.sid, expires_days=None, httponly=True, secure=self.secure,
                                  samesite="Lax", path="/")

    def sign_out(self, handler: RequestHandler) -> None:
        session = self.session_of(handler)
        if session is not None:
            self.sessions.close(session.sid)
        handler.clear_cookie(COOKIE, path="/", secure=self.secure, samesite="Lax")


class FedimputeAuth(AuthProvider):
    """``get_user`` plus our ``/login`` and ``/logout`` handlers, bound to one :class:`AuthContext`."""

    def __init__(self, context: AuthContext) -> None:
        self.context = context
        self._login = type("LoginHandler", (LoginHandler,), {"auth": context})
        self._logout = type("LogoutHandler", (LogoutHandler,), {"auth": context})
        super().__init__()

    @property
    def get_user(self):
        return self._get_user

    @property
    def login_url(self) -> str:
        return "/login"

    @property
    def login_handler(self):
        return self._login

    @property
    def logout_url(self) -> str:
        return "/logout"

    @property
    def logout_handler(self):
        return self._logout

    def _get_user(self, handler: RequestHandler) -> str | None:
        session = self.context.session_of(handler)
        if session is None:
            return None
        if isinstance(handler, SessionHandler):  # a page (or autoload script) is about to build a session
            handler.request.headers[TICKET_HEADER] = self.context.sessions.ticket(session)
            handler.request.cookies.clear()
            handler.request.headers.pop("Cookie", None)
        return session.user
