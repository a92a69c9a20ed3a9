"""Serving the dashboard: ``serve_dashboard`` (the ``fedimpute serve`` command) and the setup
that ``panel serve apps/dashboard.py --setup apps/auth_setup.py`` runs.

Sign-in is Panel's basic auth with a users file (``{"alice": "password", ...}``, plaintext,
so it must be readable by its owner only) and a cookie secret; every signed-in user may open
the dashboard, and sees only their own jobs (users named in ``admins`` see all of them).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
from pathlib import Path

import panel as pn

from fedimpute.exceptions import UsageError
from fedimpute.ui.app import create_app
from fedimpute.ui.runtime import auth_enabled, get_runtime, require_sign_in
from fedimpute.ui.settings import DashboardSettings

__all__ = ["EXTENSIONS", "authorize", "check_users_file", "configure_server", "resolve_cookie_secret",
           "serve_dashboard", "websocket_origins"]

log = logging.getLogger(__name__)
EXTENSIONS = ("tabulator", "filedropper")


def authorize(user_info: dict | None, path: str) -> bool:
    """Panel's ``authorize_callback``: with sign-in on, any signed-in user (jobs are scoped per
    user inside the app); without it (one person's server), everyone who reaches the port."""
    return bool((user_info or {}).get("user")) or not auth_enabled()


def check_users_file(path: str | os.PathLike) -> Path:
    """The basic-auth users file, checked: it exists, maps names to passwords, and only its owner reads it.

    (Panel takes a ``--basic-auth`` value that is not a file as one password for every user name,
    so a mistyped path would silently open the dashboard to anyone who knows that "password".)
    """
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"basic-auth users file {file} does not exist; write a JSON object "
                         '{"user": "password", ...} there (mode 600)')
    if file.stat().st_mode & 0o077:
        raise UsageError(f"{file} holds plaintext passwords and is readable by other users; run `chmod 600 {file}`")
    try:
        users = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{file} is not valid JSON ({exc}); it must map user names to passwords") from None
    if not isinstance(users, dict) or not users or not all(isinstance(v, str) and v for v in users.values()):
        raise UsageError(f"{file} must be a JSON object mapping each user name to a non-empty password")
    return file


def resolve_cookie_secret(cookie_secret: str | None) -> str:
    """The given secret, else ``PANEL_COOKIE_SECRET``, else a random one (sign-ins end with the server)."""
    secret = cookie_secret or os.environ.get("PANEL_COOKIE_SECRET")
    if secret:
        return secret
    log.warning("no --cookie-secret given: using a random one, so users sign in again after a restart")
    return secrets.token_urlsafe(32)


def websocket_origins(address: str, port: int) -> list[str]:
    """Hosts a browser may use to reach the server (all of this machine's names when it listens widely)."""
    hosts = {address, "localhost", "127.0.0.1"}
    if address in ("0.0.0.0", "::", ""):
        hosts |= {socket.gethostname(), socket.getfqdn()}
        hosts -= {"0.0.0.0", "::", ""}
    return sorted(f"{h}:{port}" for h in hosts)


def configure_server(settings: DashboardSettings | None = None, home: str | os.PathLike | None = None,
                     *, auth: bool = False) -> None:
    """Process-wide setup: the authorization callback and the background monitor (once per home).

    ``auth`` says sign-in is required; ``panel serve --basic-auth`` is also recognised on its own
    (its setup script runs before the flag is read, so the callback looks at request time).
    """
    settings = settings or DashboardSettings.from_env()
    pn.extension(*EXTENSIONS)
    pn.config.authorize_callback = authorize
    if auth:
        require_sign_in()
    get_runtime(home, monitor_period=settings.monitor_period, start=True)


def serve_dashboard(port: int = 5006, address: str = "127.0.0.1", basic_auth: Path | None = None,
                    cookie_secret: str | None = None, *, show: bool = False, home: str | os.PathLike | None = None,
                    admins: list[str] | tuple[str, ...] = (), monitor_period: float | None = None) -> None:
    """Serve the dashboard at ``http://ADDRESS:PORT/dashboard`` until interrupted (Ctrl-C).

    With ``basic_auth`` (a users file) users sign in and each sees their own jobs; ``admins``
    (added to ``FEDIMPUTE_ADMINS``) see everyone's.  Without it the page is for the person
    running the server, whose jobs are those of ``FEDIMPUTE_USER`` (else the login name).
    """
    env = DashboardSettings.from_env()
    settings = DashboardSettings(admins=env.admins | frozenset(admins), refresh_ms=env.refresh_ms,
                                 monitor_period=env.monitor_period if monitor_period is None else monitor_period)
    if basic_auth is not None:
        auth = {"basic_auth": str(check_users_file(basic_auth)), "cookie_secret": resolve_cookie_secret(cookie_secret)}
    else:
        auth = {"cookie_secret": cookie_secret} if cookie_secret else {}
        if address not in ("127.0.0.1", "localhost", "::1"):
            log.warning("serving on %s without --basic-auth: anyone who reaches port %d sees and acts on the "
                        "jobs of this server's user", address, port)
    configure_server(settings, home, auth=basic_auth is not None)
    runtime = get_runtime(home, start=False)

    def session():
        return create_app(runtime.home, settings=settings).page()

    log.info("serving the dashboard at http://%s:%d/dashboard", address, port)
    pn.serve({"dashboard": session}, port=port, address=address, websocket_origin=websocket_origins(address, port),
             show=show, title="fedimpute", liveness=True, **auth)
