"""Sending one message to one channel through apprise, and saying why it failed.

apprise (>= 2.3) answers ``notify()`` with a structured result: per service, every attempt and the
log lines apprise wrote while making it (WARNING and above, e.g. ``Failed to send JSON notification:
Internal Server Error (error=500)``).  Those lines are the failure reason, read per URL, so two channels
sent at once never mix their reasons (apprise's older ``LogCapture`` listens to a process-wide logger).
The reason is scrubbed of the URL's secrets before anyone stores or shows it.  apprise's own retries
are off (``retry=0``, its default): the sender retries with its own back-off, across processes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fedimpute.notify.channels import Channel, scrub
from fedimpute.notify.messages import Message

__all__ = ["SEND_TIMEOUT", "Send", "send"]

log = logging.getLogger(__name__)

#: Seconds one message may take to one channel (connect, authenticate, send).
SEND_TIMEOUT = 30.0
#: What the sender calls: (channel, message) -> None when sent, else why not.
Send = Callable[[Channel, Message], "str | None"]


def _reason(result: Any) -> str:
    lines: list[str] = []
    for service in result:
        for attempt in service:
            lines += [entry.message for entry in attempt if entry.level in ("WARNING", "ERROR", "CRITICAL")]
            if getattr(attempt.status, "name", "") == "TIMEOUT":
                lines.append(f"no answer within {SEND_TIMEOUT:.0f} s")
    lines += [entry.message for entry in getattr(result, "call_logs", lambda: [])()
              if entry.level in ("WARNING", "ERROR", "CRITICAL")]
    return "; ".join(dict.fromkeys(line.strip() for line in lines if line.strip())) or \
        "apprise reported a failure without a reason"


def send(channel: Channel, message: Message, *, timeout: float = SEND_TIMEOUT) -> str | None:
    """Send ``message`` through ``channel`` (blocking: call it in a worker thread); None when it was
    accepted, else the reason, free of the channel's secrets."""
    import apprise

    url = channel.url.get_secret_value()
    sender = apprise.Apprise()
    if not sender.add(url):
        return f"apprise cannot use this channel's URL any more (scheme {channel.scheme}); add it again"
    try:
        result = sender.notify(body=message.body, title=message.title, body_format=apprise.NotifyFormat.TEXT,
                               timeout=timeout)
    except Exception as exc:  # a plugin bug must not stop the sender: it is a failed delivery
        log.debug("apprise raised while sending through %s", channel.label(), exc_info=True)
        return scrub(f"{type(exc).__name__}: {exc}", [url])
    if result:
        return None
    reason = _reason(result)
    if channel.scheme in ("mailto", "mailtos") and "error while submitting email" in reason:
        reason += " (apprise does not say more: check the SMTP host and port, ?mode=starttls or ?mode=ssl, " \
                  "the user and the password)"
    return scrub(reason, [url])[:500]
