"""Notifications: per-user channels (apprise URLs in the secret store), an outbox in the store, a sender.

>>> from fedimpute.notify import ChannelBook, Sender
>>> book = ChannelBook(Credentials())                                  # doctest: +SKIP
>>> book.add("alice", "mailtos://alice:PW@smtp.example.org?to=alice@example.org", ("failed",))  # doctest: +SKIP
>>> await Sender(Store(), Credentials()).run_once()                    # doctest: +SKIP

Modules: :mod:`~fedimpute.notify.channels` (channels and what may be shown of them),
:mod:`~fedimpute.notify.messages` (what each event says), :mod:`~fedimpute.notify.delivery` (one
message through apprise), :mod:`~fedimpute.notify.sender` (the outbox, delivered),
:mod:`~fedimpute.notify.events` (what the monitor's upkeep finds).
"""

from __future__ import annotations

from fedimpute.notify.channels import EVENTS, Channel, ChannelBook, check_url, parse_events
from fedimpute.notify.sender import Sender, SendReport

__all__ = ["EVENTS", "Channel", "ChannelBook", "SendReport", "Sender", "check_url", "parse_events"]
