"""One user's channels as the CLI and the Settings page manage them: list, add, remove, test.

Both go through here so that they show the same thing: the public view of each channel (never the
URL) with its last error, and a test that says per channel "ok" or why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fedimpute.credentials import Credentials
from fedimpute.exceptions import UsageError
from fedimpute.models import utcnow
from fedimpute.notify.channels import EVENTS, Channel, ChannelBook
from fedimpute.notify.delivery import Send, send
from fedimpute.notify.messages import probe_message
from fedimpute.store import Store

__all__ = ["Notifications", "TestOutcome"]


@dataclass(frozen=True)
class TestOutcome:
    """What ``notify test`` says of one channel."""

    channel: dict[str, Any]  # the public view
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.channel["id"], "scheme": self.channel["scheme"], "host": self.channel["host"],
                "ok": self.ok, "error": self.error}

    def line(self) -> str:
        where = f"{self.channel['id']} ({self.channel['scheme']} {self.channel['host']})"
        return f"{where}: ok" if self.ok else f"{where}: FAILED: {self.error}"


class Notifications:
    """``user``'s channels in one home (``deliver`` replaces apprise in tests)."""

    def __init__(self, store: Store, credentials: Credentials, user: str, *, deliver: Send | None = None) -> None:
        if not user:
            raise UsageError("notifications need a user: set FEDIMPUTE_USER or sign in")
        self.store, self.book, self.user = store, ChannelBook(credentials), user
        self.deliver: Send = deliver or send

    def channels(self) -> list[dict[str, Any]]:
        """``[{id, scheme, host, events, last_error}]``, oldest channel first."""
        errors = self.store.channel_errors(self.user)
        return [c.public(errors.get(c.id)) for c in self.book.channels(self.user)]

    def add(self, url: str, events: tuple[str, ...] = EVENTS) -> dict[str, Any]:
        return self.book.add(self.user, url, events).public()

    def remove(self, channel_id: str) -> dict[str, Any]:
        gone = self.book.remove(self.user, channel_id)
        self.store.drop_channel(self.user, channel_id)
        return gone.public()

    def test(self, channel_id: str | None = None) -> list[TestOutcome]:
        """Send a test message through one channel (or every one); blocking, one channel after another."""
        book = self.book
        channels: list[Channel] = [book.get(self.user, channel_id)] if channel_id else book.channels(self.user)
        if not channels:
            raise UsageError(f"{self.user} has no notification channels; add one with `fedimpute notify add URL`")
        message = probe_message(self.user, self.store.home)
        outcomes = []
        for channel in channels:
            error = self.deliver(channel, message)
            self.store.record_channel_outcome(self.user, channel.id, utcnow(), error)
            outcomes.append(TestOutcome(channel.public(error), error))
        return outcomes
