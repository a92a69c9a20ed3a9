"""`fedimpute serve`: the dashboard for a lab group, with the background monitor.

The UI stack is imported only when the command runs, so the CLI works without the ``ui`` extra
(then this command says how to install it).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from fedimpute.exceptions import FedImputeError, UsageError

__all__ = ["load_ui", "serve"]


def serve(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 5006,
    address: Annotated[str, typer.Option("--address", help="Address to listen on (0.0.0.0: every interface; "
                                         "needs accounts and TLS).")] = "127.0.0.1",
    ssl_certfile: Annotated[Path | None, typer.Option("--ssl-certfile", help="TLS certificate (PEM): serve HTTPS.")]
    = None,
    ssl_keyfile: Annotated[Path | None, typer.Option("--ssl-keyfile", help="The certificate's private key (PEM).")]
    = None,
    insecure_http: Annotated[bool, typer.Option("--insecure-http", help="Plain HTTP on a network address, for a "
                                                "TLS proxy in front of the server.")] = False,
    admin: Annotated[list[str] | None, typer.Option("--admin", help="A user who sees every user's jobs "
                                                    "(repeat; also FEDIMPUTE_ADMINS).")] = None,
    show: Annotated[bool, typer.Option("--show", help="Open the dashboard in a browser.")] = False,
    data_root: Annotated[Path | None, typer.Option("--data-root", help="A folder with one folder per user "
                                                   "(DIR/<user>): the Submit form offers the signed-in user's "
                                                   "files there (also FEDIMPUTE_DATA_ROOT).")] = None,
    public_url: Annotated[str | None, typer.Option("--public-url", help="The address people open the dashboard "
                                                   "at (e.g. https://imputation.example.org): notifications link "
                                                   "to jobs there. Kept in the home for every monitor; '' forgets "
                                                   "it (FEDIMPUTE_PUBLIC_URL overrides).")] = None,
    cookie_secret: Annotated[str | None, typer.Option("--cookie-secret", hidden=True)] = None,
    basic_auth: Annotated[str | None, typer.Option("--basic-auth", hidden=True)] = None,
) -> None:
    """Serve the dashboard (http[s]://ADDRESS:PORT/dashboard) until Ctrl-C.

    Sign-in is required whenever the home has accounts (`fedimpute users add`)."""
    if cookie_secret is not None:
        raise UsageError("--cookie-secret is refused: every local user can read a command line. Set "
                         "FEDIMPUTE_COOKIE_SECRET, or let `fedimpute serve` create the home's 0600 cookie_secret file")
    if basic_auth is not None:
        raise UsageError("--basic-auth is gone: add each user with `fedimpute users add NAME --password-stdin` "
                         "(passwords are kept as argon2 hashes in the home)")
    if public_url is not None:  # checked and kept before anything starts: a typo stops here
        from fedimpute.notify.messages import save_public_url
        from fedimpute.paths import home_dir

        save_public_url(home_dir(), public_url.strip())
    ui = load_ui()
    scheme = "https" if ssl_certfile else "http"
    typer.echo(f"dashboard at {scheme}://{address}:{port}/dashboard (Ctrl-C stops it)", err=True)
    ui.serve_dashboard(port, address, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                       insecure_http=insecure_http, show=show, admins=tuple(admin or ()), data_root=data_root)


def load_ui() -> ModuleType:
    """``fedimpute.ui.server``, or an error naming the extra to install."""
    try:
        from fedimpute.ui import server
    except ImportError as exc:
        raise FedImputeError(f"the dashboard needs the ui extra ({exc.name} is missing): "
                             "pip install 'fedimpute[ui]'") from None
    return server
