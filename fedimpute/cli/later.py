"""Contract commands whose capability is not built yet.

They accept the contract's arguments (so scripts get the right usage errors) and
exit 1 with ``not available yet: <what>``; they never print invented output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedimpute.exceptions import NotAvailableError

__all__ = ["register"]


Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def serve(
    port: Annotated[int, typer.Option("--port")] = 5006,
    address: Annotated[str, typer.Option("--address")] = "127.0.0.1",
    basic_auth: Annotated[Path | None, typer.Option("--basic-auth")] = None,
    cookie_secret: Annotated[str | None, typer.Option("--cookie-secret")] = None,
) -> None:
    """Serve the dashboard for a lab group."""
    raise NotAvailableError("the dashboard (serve)")


def register(app: typer.Typer) -> None:
    for fn in (serve,):
        app.command(fn.__name__)(fn)
