"""``/login`` and ``/logout``: Tornado handlers of the lab server's own sign-in.

A POST checks the throttle first (429 with ``Retry-After``, the password unread), then the
password (argon2, in a worker thread so the server's event loop keeps serving), logs every
failure with the address and never the password, and on success opens a server-side session
whose id goes into a signed, ``HttpOnly``, ``SameSite=Lax`` cookie (``Secure`` under TLS).
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

from tornado.web import RequestHandler

from fedimpute.ui.auth.pages import MESSAGES, login_page

if TYPE_CHECKING:
    from fedimpute.ui.auth.provider import AuthContext

__all__ = ["LoginHandler", "LogoutHandler", "safe_next"]

log = logging.getLogger("fedimpute.ui.auth")


def safe_next(value: str | None) -> str:
    """A same-site path to return to after sign-in; anything else (``//host``, ``https:``, ``/\\``) is ``/``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n"):
        return "/"
    return value


class _Base(RequestHandler):
    auth: ClassVar[AuthContext]

    def check_xsrf_cookie(self) -> None:  # the contract's POST /login carries only username and password
        return None

    def render_page(self, status: int = 200, **kwargs) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(login_page(**kwargs))


class LoginHandler(_Base):
    def get(self) -> None:
        if self.auth.user_of(self) is not None:
            self.redirect(safe_next(self.get_argument("next", "/")))
            return
        message, kind = MESSAGES.get(self.get_argument("error", ""), ("", ""))
        self.render_page(next_url=safe_next(self.get_argument("next", "/")), message=message, kind=kind)

    async def post(self) -> None:
        name = self.get_body_argument("username", "").strip()[:64]
        password = self.get_body_argument("password", "")
        next_url = safe_next(self.get_body_argument("next", "/"))
        address = self.request.remote_ip or "?"
        throttle = self.auth.throttle
        wait = throttle.retry_after(name, address)
        if wait > 0:
            log.warning("sign-in refused for user %r from %s: too many failures, retry in %.0f s", name, address, wait)
            self.set_header("Retry-After", str(math.ceil(wait)))
            self.render_page(429, next_url=next_url, username=name,
                             message=f"Too many failed sign-ins; try again in {math.ceil(wait)} seconds.")
            return
        account = await asyncio.get_running_loop().run_in_executor(None, self.auth.accounts.verify, name, password)
        if account is None:
            failures = throttle.failed(name, address)
            log.warning("failed sign-in for user %r from %s (%d within %.0f min)", name, address, failures,
                        throttle.window / 60)
            self.redirect("/login?error=invalid&next=" + quote(next_url, safe=""))
            return
        throttle.succeeded(name, address)
        self.auth.sign_in(self, account.name)
        # the stamp writes the users file under its lock, which `fedimpute users` may hold: not on the loop
        await asyncio.get_running_loop().run_in_executor(None, self.auth.accounts.record_sign_in, account.name)
        log.info("user %r signed in from %s", account.name, address)
        self.redirect(next_url)


class LogoutHandler(_Base):
    def get(self) -> None:
        self.auth.sign_out(self)
        self.redirect("/login?error=signedout")

    post = get
