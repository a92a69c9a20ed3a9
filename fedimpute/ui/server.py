"""Serving the dashboard: ``fedimpute serve`` (:func:`serve_dashboard`) and the set-up that
``panel serve apps/dashboard.py --setup apps/auth_setup.py --auth-module apps/auth_module.py`` runs.

Both go through :func:`prepare_server`, which fails closed: a home others may write, a users
file others may read, a missing or short cookie secret, a network address without TLS (unless
``insecure_http``, for a TLS proxy in front) or without accounts, each stop the server with a
message saying what to do.  With accounts, every route but ``/login`` and static assets needs a
signed-in user (:mod:`fedimpute.ui.auth`); without them (one person's loopback server) the page
is its owner's, whose jobs are those of ``FEDIMPUTE_USER``.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import panel as pn

from fedimpute.accounts import Accounts
from fedimpute.exceptions import UsageError
from fedimpute.owners import default_owner
from fedimpute.paths import check_home_private, home_dir
from fedimpute.store import Store
from fedimpute.ui import auth
from fedimpute.ui.app import create_app
from fedimpute.ui.routes import Viewer, result_routes
from fedimpute.ui.runtime import get_runtime
from fedimpute.ui.settings import DashboardSettings
from fedimpute.ui.state.hub import SERVED_LOCK_TIMEOUT

__all__ = ["EXTENSIONS", "ServerAuth", "check_data_root", "configure_server", "panel_serve_auth", "prepare_server",
           "serve_dashboard", "websocket_origins"]

log = logging.getLogger(__name__)
EXTENSIONS = ("tabulator", "filedropper")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class ServerAuth:
    """What :func:`prepare_server` decided: sign-in (None: one person's loopback server) and TLS."""

    context: auth.AuthContext | None
    cookie_secret: str | None
    tls: bool

    def serve_kwargs(self) -> dict:
        if self.context is None:
            return {}
        assert self.cookie_secret is not None
        return {"auth_provider": auth.FedimputeAuth(self.context), "cookie_secret": self.cookie_secret,
                "sign_sessions": True, "secret_key": auth.session_key(self.cookie_secret)}


def prepare_server(home: str | os.PathLike | None, *, address: str, tls: bool, insecure_http: bool = False,
                   create_secret: bool, settings: DashboardSettings | None = None) -> ServerAuth:
    """Check everything a server on a network must have, and install sign-in for this process."""
    settings = settings or DashboardSettings.from_env()
    path = home_dir(home)
    check_home_private(path)
    network = address not in LOOPBACK
    if network and not tls and not insecure_http:
        raise UsageError(f"refusing to serve on {address} over plain HTTP (passwords would cross the network in "
                         "clear): give --ssl-certfile and --ssl-keyfile, or --insecure-http when a TLS proxy "
                         "in front of the server terminates HTTPS")
    accounts = Accounts(path)
    if not accounts.exists():
        if network:
            raise UsageError(f"refusing to serve on {address} without accounts: add users first with "
                             "`fedimpute users add NAME [--admin] --password-stdin`")
        auth.install(None)
        auth.install_security_headers(tls=tls)
        return ServerAuth(None, None, tls)
    accounts.check_private()
    secret = auth.cookie_secret(path, create=create_secret)
    sessions = auth.SessionTable(accounts, idle_seconds=settings.session_idle_hours * 3600)
    context = auth.AuthContext(accounts, sessions, auth.Throttle(window=settings.sign_in_window), secure=tls)
    auth.install(context)
    auth.install_security_headers(tls=tls)
    return ServerAuth(context, secret, tls)


def websocket_origins(address: str, port: int) -> list[str]:
    """Hosts a browser may use to reach the server (all of this machine's names when it listens widely)."""
    hosts = {address, "localhost", "127.0.0.1"}
    if address in ("0.0.0.0", "::", ""):
        hosts |= {socket.gethostname(), socket.getfqdn()}
        hosts -= {"0.0.0.0", "::", ""}
    return sorted(f"{h}:{port}" for h in hosts)


# -- panel serve apps/dashboard.py --setup apps/auth_setup.py --auth-module apps/auth_module.py ------------------

def _panel_serve_args() -> argparse.Namespace:
    """The few ``panel serve`` options the set-up must see (the set-up script gets no arguments)."""
    parser = argparse.ArgumentParser(add_help=False)
    for flag in ("--address", "--ssl-certfile", "--basic-auth", "--oauth-provider", "--cookie-secret",
                 "--auth-module"):
        parser.add_argument(flag)
    parser.add_argument("--liveness", action="store_true")
    return parser.parse_known_args(sys.argv[1:])[0]


def panel_serve_auth() -> auth.FedimputeAuth:
    """For ``apps/auth_module.py``: check the home and install sign-in (Bokeh loads it before the set-up)."""
    args = _panel_serve_args()
    tls = bool(args.ssl_certfile or os.environ.get("BOKEH_SSL_CERTFILE"))
    server = prepare_server(None, address=args.address or "127.0.0.1", tls=tls, create_secret=False,
                            insecure_http=bool(os.environ.get("FEDIMPUTE_INSECURE_HTTP")))
    if server.context is None:
        raise UsageError("apps/auth_module.py needs accounts in the home: `fedimpute users add NAME --admin "
                         "--password-stdin` (or serve without --auth-module on loopback)")
    return auth.FedimputeAuth(server.context)


def configure_server(settings: DashboardSettings | None = None, home: str | os.PathLike | None = None) -> None:
    """The ``--setup`` of ``panel serve``: refuse what would open the dashboard, then start the monitor."""
    settings = settings or DashboardSettings.from_env()
    os.umask(0o077)  # as serve_dashboard: nothing this server writes is for others
    args = _panel_serve_args()
    if args.basic_auth or args.oauth_provider or os.environ.get("PANEL_BASIC_AUTH") \
            or os.environ.get("PANEL_OAUTH_PROVIDER"):
        raise UsageError("--basic-auth and --oauth-provider are not fedimpute's sign-in: add accounts with "
                         "`fedimpute users add` and serve with --auth-module apps/auth_module.py")
    if args.cookie_secret:
        raise UsageError("--cookie-secret is visible to every local user: set FEDIMPUTE_COOKIE_SECRET instead")
    if args.liveness:
        raise UsageError("--liveness builds the dashboard for anyone who asks: leave it off")
    context = auth.current()
    if Accounts(home_dir(home)).exists():
        if context is None:
            raise UsageError("this home has accounts, so sign-in is required: add --auth-module apps/auth_module.py")
        _require_signed_sessions()
        pn.config.cookie_secret = auth.cookie_secret(home_dir(home), create=False)
    else:
        tls = bool(args.ssl_certfile or os.environ.get("BOKEH_SSL_CERTFILE"))
        prepare_server(home, address=args.address or "127.0.0.1", tls=tls, create_secret=False,
                       insecure_http=bool(os.environ.get("FEDIMPUTE_INSECURE_HTTP")), settings=settings)
    if settings.data_root is not None:
        check_data_root(settings.data_root)
    pn.extension(*EXTENSIONS)
    get_runtime(home, monitor_period=settings.monitor_period, start=True, environment=auth.current() is None)


def _require_signed_sessions() -> None:
    from bokeh.settings import settings as bokeh_settings

    if not bokeh_settings.sign_sessions() or len(bokeh_settings.secret_key_bytes() or b"") < 32:
        raise UsageError("sign Bokeh's sessions: set BOKEH_SIGN_SESSIONS=yes and BOKEH_SECRET_KEY (32+ random "
                         "characters) in the environment of `panel serve`, or use `fedimpute serve`, which does it")


# -- fedimpute serve -----------------------------------------------------------------------------------------------

def serve_dashboard(port: int = 5006, address: str = "127.0.0.1", *, ssl_certfile: Path | None = None,
                    ssl_keyfile: Path | None = None, insecure_http: bool = False, show: bool = False,
                    home: str | os.PathLike | None = None, admins: list[str] | tuple[str, ...] = (),
                    monitor_period: float | None = None, data_root: Path | None = None) -> None:
    """Serve the dashboard at ``http(s)://ADDRESS:PORT/dashboard`` until interrupted (Ctrl-C).

    ``data_root``: each user may submit files of ``DATA_ROOT/<user>`` (else ``FEDIMPUTE_DATA_ROOT``)."""
    env = DashboardSettings.from_env()
    root = data_root or env.data_root
    if root is not None:
        root = check_data_root(root)
        os.environ["FEDIMPUTE_DATA_ROOT"] = str(root)  # the sessions' forms read their settings from here
    settings = DashboardSettings(admins=env.admins | frozenset(admins), refresh_ms=env.refresh_ms,
                                 monitor_period=env.monitor_period if monitor_period is None else monitor_period,
                                 session_idle_hours=env.session_idle_hours, sign_in_window=env.sign_in_window,
                                 uploads=env.uploads, data_root=root)
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise UsageError("TLS needs both --ssl-certfile and --ssl-keyfile")
    os.umask(0o077)  # results, the store's write-ahead log, staging: nothing this server writes is for others
    server = prepare_server(home, address=address, tls=ssl_certfile is not None, insecure_http=insecure_http,
                            create_secret=True, settings=settings)
    pn.extension(*EXTENSIONS)
    runtime = get_runtime(home, monitor_period=settings.monitor_period, start=True,
                          environment=server.context is None)

    def session():
        return create_app(runtime.home, settings=settings).page()

    routes = result_routes(Viewer(Store(runtime.home, lock_timeout=SERVED_LOCK_TIMEOUT),
                                  viewer_of(server.context, settings)))

    tls = {"ssl_certfile": str(ssl_certfile), "ssl_keyfile": str(ssl_keyfile)} if ssl_certfile else {}
    scheme = "https" if tls else "http"
    log.info("serving the dashboard at %s://%s:%d/dashboard (sign-in %s)", scheme, address, port,
             "required" if server.context else "off: no accounts in the home")
    pn.serve({"dashboard": session}, port=port, address=address, websocket_origin=websocket_origins(address, port),
             show=show, title="fedimpute", extra_patterns=routes, **tls, **server.serve_kwargs())


def check_data_root(path: str | os.PathLike) -> Path:
    """The data root, resolved; a missing folder stops the server with what to do."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise UsageError(f"data root {path}: no such folder; create it, with one folder per user inside "
                         "(DIR/<user>), or leave out --data-root / FEDIMPUTE_DATA_ROOT")
    return root


def viewer_of(context: auth.AuthContext | None, settings: DashboardSettings):
    """Who a plain HTTP request (a result download) comes from: the signed-in user and whether they
    are an admin; without accounts, the server's own user (``FEDIMPUTE_USER``), no admin."""
    def user_of(handler) -> tuple[str, bool] | None:
        if context is None:
            return default_owner(), False
        session = context.session_of(handler)
        if session is None:
            return None
        account = context.accounts.get(session.user)
        return session.user, bool(account and account.admin) or session.user in settings.admins

    return user_of
