"""`fedimpute users ...`: the accounts of the served dashboard (hashes only, in the home).

Passwords are read from stdin, never from an argument: the process list is readable by every
local user, and shells keep history.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fedimpute.accounts import Accounts
from fedimpute.cli._common import emit_json, err, out
from fedimpute.exceptions import UsageError

__all__ = ["users_app"]

users_app = typer.Typer(help="Accounts of the served dashboard (`fedimpute serve`).", no_args_is_help=True)

STDIN = typer.Option("--password-stdin", help="Read the password from stdin (the first line).")


def _password(password_stdin: bool) -> str:
    if not password_stdin:
        raise UsageError("give the password on stdin with --password-stdin "
                         "(e.g. `read -rs PW; printf '%s\\n' \"$PW\" | fedimpute users add alice --password-stdin`)")
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
def add(name: str, admin: Annotated[bool, typer.Option("--admin", help="Sees every job; manages users "
                                                       "and services.")] = False,
        password_stdin: Annotated[bool, STDIN] = False) -> None:
    """Add an account (the served dashboard then requires sign-in)."""
    account = Accounts().add(name, _password(password_stdin), admin=admin)
    err.print(f"added user {account.name}{' (admin)' if account.admin else ''}", markup=False)


@users_app.command("passwd")
def passwd(name: str, password_stdin: Annotated[bool, STDIN] = False) -> None:
    """Change a password; the user's open sessions end."""
    Accounts().set_password(name, _password(password_stdin))
    err.print(f"changed the password of {name}; their sessions have ended", markup=False)


@users_app.command("remove")
def remove(name: str) -> None:
    """Remove an account; the user's open sessions end (their jobs stay in the store)."""
    Accounts().remove(name)
    err.print(f"removed user {name}; their sessions have ended", markup=False)


@users_app.command("list")
def list_users(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The accounts: name, admin, created, last sign-in."""
    accounts = Accounts().list()
    if as_json:
        emit_json([a.model_dump(mode="json") for a in accounts])
        return
    for a in accounts:
        last = a.last_sign_in.isoformat(timespec="seconds") if a.last_sign_in else "never"
        out.print(f"{a.name}\t{'admin' if a.admin else 'user'}\tcreated {a.created_at:%Y-%m-%d}\tlast sign-in {last}",
                  markup=False)
