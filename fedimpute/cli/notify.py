"""`fedimpute notify ...`: a user's notification channels (apprise URLs, kept in the secret store).

The URL is given once, to ``add``, and never printed again: ``list`` shows the channel's id,
scheme and host (or the service's name where the URL's host is a token), its events and its last
error.  Channels belong to ``FEDIMPUTE_USER`` (else the OS login); ``--user`` manages another
user's, for whoever runs the lab's home.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fedimpute.cli._common import credentials, default_owner, emit_json, err, store
from fedimpute.exceptions import FedImputeError, UsageError
from fedimpute.notify.channels import EVENTS, parse_events
from fedimpute.notify.manage import Notifications

__all__ = ["notify_app"]

notify_app = typer.Typer(help="Notification channels (e-mail, Slack, Teams, Matrix, webhooks, ...) for your "
                              "jobs, through apprise URLs.", no_args_is_help=True)

USER = typer.Option("--user", help="Manage this user's channels (default: FEDIMPUTE_USER, else the OS login).")
JSON = typer.Option("--json", help="Print JSON.")


def _notifications(user: str | None) -> Notifications:
    return Notifications(store(), credentials(), default_owner(user))


@notify_app.command("add")
def add(url: Annotated[str | None, typer.Argument(help="An apprise URL, e.g. mailtos://USER:PASSWORD@smtp.example.org"
                                                       "?to=you@example.org or json://hooks.example.org/path.")]
        = None,
        url_stdin: Annotated[bool, typer.Option("--url-stdin", help="Read the URL from stdin (the first line): "
                                                "a command line is visible to every local user.")] = False,
        events: Annotated[str | None, typer.Option("--events", help=f"Comma-separated, from {','.join(EVENTS)} "
                                                   "(default: all).")] = None,
        user: Annotated[str | None, USER] = None, as_json: Annotated[bool, JSON] = False) -> None:
    """Add a channel (checked with apprise; kept in the secret store, never shown again)."""
    if url_stdin:
        url = sys.stdin.readline().strip()
    if not url:
        raise UsageError("give the channel's apprise URL, or --url-stdin to read it from stdin")
    notes = _notifications(user)
    channel = notes.add(url, parse_events(events))
    if as_json:
        emit_json(channel)
    err.print(f"added channel {channel['id']} ({channel['scheme']} {channel['host']}) for {notes.user}: "
              f"{', '.join(channel['events'])}; try it with `fedimpute notify test {channel['id']}`", markup=False)


@notify_app.command("list")
def list_channels(user: Annotated[str | None, USER] = None, as_json: Annotated[bool, JSON] = False) -> None:
    """The channels: id, scheme, host, events and the last error (never the URL)."""
    notes = _notifications(user)
    channels = notes.channels()
    if as_json:
        emit_json(channels)
        return
    if not channels:
        err.print(f"{notes.user} has no notification channels; add one with `fedimpute notify add URL`",
                  markup=False)
    for c in channels:
        status = f"last error: {c['last_error']}" if c["last_error"] else "ok"
        typer.echo(f"{c['id']}\t{c['scheme']}\t{c['host']}\t{','.join(c['events'])}\t{status}")


@notify_app.command("remove")
def remove(channel_id: Annotated[str, typer.Argument(metavar="ID")], user: Annotated[str | None, USER] = None) -> None:
    """Remove a channel (its undelivered messages are dropped)."""
    notes = _notifications(user)
    gone = notes.remove(channel_id)
    err.print(f"removed channel {gone['id']} ({gone['scheme']} {gone['host']}) of {notes.user}", markup=False)


@notify_app.command("test")
def test(channel_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="One channel (default: all).")]
         = None, user: Annotated[str | None, USER] = None, as_json: Annotated[bool, JSON] = False) -> None:
    """Send a test message through each channel and say per channel ok or why not (exit 1 if any failed)."""
    notes = _notifications(user)
    outcomes = notes.test(channel_id)
    if as_json:
        emit_json([o.as_json() for o in outcomes])
    else:
        for outcome in outcomes:
            typer.echo(outcome.line())
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise _TestFailed(f"{len(failed)} of {len(outcomes)} channel(s) failed the test; fix the URL "
                          "(`fedimpute notify remove ID`, then `notify add` again) or the service it points to")


class _TestFailed(FedImputeError):
    """At least one channel failed ``notify test`` (exit 1)."""
