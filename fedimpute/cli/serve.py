"""`fedimpute serve`: the dashboard for a lab group, with the background monitor.

The UI stack is imported only when the command runs, so the CLI works without the ``ui`` extra
(then this command says how to install it).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from fedimpute.exceptions import FedImputeError

__all__ = ["load_ui", "serve"]


def serve(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 5006,
    address: Annotated[str, typer.Option("--address", help="Address to listen on (0.0.0.0: every interface).")]
    = "127.0.0.1",
    basic_auth: Annotated[Path | None, typer.Option("--basic-auth", help="JSON users file {user: password} "
                                                    "(mode 600); each user then sees their own jobs.")] = None,
    cookie_secret: Annotated[str | None, typer.Option("--cookie-secret", envvar="PANEL_COOKIE_SECRET",
                                                      help="Signs the login cookie (`panel secret` makes one).")]
    = None,
    admin: Annotated[list[str] | None, typer.Option("--admin", help="A user who sees every user's jobs "
                                                    "(repeat; also FEDIMPUTE_ADMINS).")] = None,
    show: Annotated[bool, typer.Option("--show", help="Open the dashboard in a browser.")] = False,
) -> None:
    """Serve the dashboard (http://ADDRESS:PORT/dashboard) until Ctrl-C."""
    ui = load_ui()
    if basic_auth is not None:
        ui.check_users_file(basic_auth)
    typer.echo(f"dashboard at http://{address}:{port}/dashboard (Ctrl-C stops it)", err=True)
    ui.serve_dashboard(port, address, basic_auth, cookie_secret, show=show, admins=tuple(admin or ()))


def load_ui() -> ModuleType:
    """``fedimpute.ui.server``, or an error naming the extra to install."""
    try:
        from fedimpute.ui import server
    except ImportError as exc:
        raise FedImputeError(f"the dashboard needs the ui extra ({exc.name} is missing): "
                             "pip install 'fedimpute[ui]'") from None
    return server
