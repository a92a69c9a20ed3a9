"""Notification channels: one apprise URL each, per user, kept in the secret store.

A channel URL carries credentials (an SMTP password, a webhook token, a bot token), so the list of a
user's channels is one secret (``notify/channels/<user>``) in the same store as the service tokens
(:class:`~fedimpute.credentials.Credentials`: the OS keyring, else a 0600 file), never DuckDB.  What
anyone else sees of a channel is its public view: a random id, the scheme, the host when the URL's
host is a host (``mailtos://…@smtp.example.org`` shows ``smtp.example.org``; in ``slack://TokenA/…``
the "host" is a token, so the service's name is shown instead), the events and the last error.
Every secret part of a URL is registered with :mod:`fedimpute.redaction` as soon as it is read, so a
log line that quotes it (ours or apprise's) is masked; :func:`scrub` strips them from error texts.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import SecretStr

from fedimpute.exceptions import NotFoundError, UsageError
from fedimpute.models import utcnow
from fedimpute.redaction import MASK, redact, register_secret

if TYPE_CHECKING:
    from apprise import NotifyBase

    from fedimpute.credentials import Credentials

__all__ = ["EVENTS", "Channel", "ChannelBook", "check_url", "parse_events", "public_host", "scrub", "url_secrets"]

#: Every event a channel can subscribe to (the CLI contract's names), in the order shown.
EVENTS = ("completed", "failed", "expiring", "service_down", "token_expiring", "downloaded")
EXAMPLES = ("mailtos://USER:PASSWORD@smtp.example.org?to=you@example.org (e-mail, STARTTLS; ?mode=ssl for port 465)",
            "json://hooks.example.org/path (a JSON webhook; jsons:// for HTTPS)",
            "slack://TokenA/TokenB/TokenC/#channel", "msteams://…", "matrixs://USER:PASSWORD@matrix.org/#room",
            "tgram://BOT_TOKEN/CHAT_ID")
#: Query keys whose values are settings, not secrets (anything else in a URL's query may be a token).
_SAFE_KEYS = {"mode", "smtp", "from", "to", "cc", "bcc", "name", "format", "method", "overflow", "cto", "port",
              "retry", "wait", "optional", "priority", "image", "footer", "timestamp", "blocks", "msgtype",
              "version", "avatar", "reply", "auth", "verify", "rto"}
_HOST_POSITION = re.compile(r"^\{schema\}://(?:[^@/]*@)?(\{[a-z_]+\})")


def parse_events(text: str | None) -> tuple[str, ...]:
    """``completed,failed`` -> the events, validated (None or empty: every event)."""
    if not text or not text.strip():
        return EVENTS
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in EVENTS]
    if unknown:
        raise UsageError(f"unknown event(s) {', '.join(unknown)}; choose from {','.join(EVENTS)}")
    return tuple(e for e in EVENTS if e in names)


def url_secrets(url: str, *, _host: bool = True) -> list[str]:
    """The parts of ``url`` that may be credentials: the whole URL, its user:password@host part, the
    password, path segments and query values (outside :data:`_SAFE_KEYS`) long enough to be tokens, and
    the host where the scheme puts a token there (``slack://TokenA/...``).  The user name is not one
    (masking it would hide a login name in every log line); :func:`scrub` removes it from errors."""
    parts = urlsplit(url.strip())
    found = [url.strip(), parts.netloc if "@" in parts.netloc else ""]
    found += [unquote(parts.password), parts.password] if parts.password else []
    found += [unquote(s) for s in parts.path.split("/") if len(s) >= 8]
    found += [v for k, v in parse_qsl(parts.query) if len(v) >= 6 and k.lower().lstrip("+-:") not in _SAFE_KEYS]
    if _host and parts.hostname and not _shows_host(url):
        found.append(parts.netloc.rpartition("@")[2])
    return [s for s in dict.fromkeys(found) if len(s) >= 4]


def scrub(text: str, urls: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` without any secret part of ``urls`` (nor their user names), nor any registered secret."""
    found = {s for u in urls for s in url_secrets(u)}
    found |= {unquote(n) for u in urls if (n := urlsplit(u).username) and len(n) >= 3}
    for secret in sorted(found, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return redact(text)


def _plugin(url: str, *, quiet: bool = False) -> NotifyBase | None:
    """The apprise plugin for ``url`` (None when apprise cannot use it), after registering the URL's
    secrets (apprise's own log lines quote URLs).  ``quiet`` keeps apprise's complaints about a URL
    being added off the console, where they are turned into one error of ours."""
    import logging

    import apprise

    for secret in url_secrets(url, _host=False):
        register_secret(secret)
    logger = logging.getLogger(apprise.LOGGER_NAME)
    before = logger.disabled
    logger.disabled = before or quiet
    try:
        return apprise.Apprise.instantiate(url)
    except Exception:  # apprise raises for some malformed URLs instead of answering None
        return None
    finally:
        logger.disabled = before


def _shows_host(url: str) -> bool:
    """Whether the URL's host is a host in every form the scheme takes (not a token, as in slack://)."""
    plugin = _plugin(url)
    if plugin is None:
        return False
    templates: tuple[str, ...] = tuple(plugin.templates)
    positions = {m[1] for t in templates if (m := _HOST_POSITION.match(t))}
    return positions == {"{host}"}


def check_url(url: str) -> NotifyBase:
    """The apprise plugin ``url`` names, or a :class:`UsageError` (exit 2) with examples of good URLs."""
    url = (url or "").strip()
    scheme = urlsplit(url).scheme if "://" in url else ""
    plugin = _plugin(url, quiet=True) if scheme else None
    if plugin is None:
        said = f"scheme {scheme!r} is not supported, or the URL is incomplete" if scheme else "no scheme://"
        raise UsageError(f"not a notification URL apprise can use ({said}); for example " + "; ".join(EXAMPLES)
                         + " (every service: https://github.com/caronc/apprise/wiki)")
    return plugin


def public_host(url: str) -> str:
    """What may be shown of where ``url`` sends: its host when that is a host, else the service's name."""
    parts = urlsplit(url)
    if _shows_host(url) and parts.hostname:
        return parts.hostname + (f":{parts.port}" if parts.port else "")
    plugin = _plugin(url)
    return str(getattr(plugin, "service_name", "") or parts.scheme) if plugin is not None else parts.scheme


@dataclass(frozen=True)
class Channel:
    """One channel of one user; ``url`` is a SecretStr so that printing a channel never shows it."""

    id: str
    url: SecretStr
    events: tuple[str, ...] = EVENTS
    created_at: str = field(default_factory=lambda: utcnow().isoformat().replace("+00:00", "Z"))

    @property
    def scheme(self) -> str:
        return urlsplit(self.url.get_secret_value()).scheme.lower()

    @property
    def host(self) -> str:
        return public_host(self.url.get_secret_value())

    def wants(self, event: str) -> bool:
        return event in self.events

    def public(self, last_error: str | None = None) -> dict[str, Any]:
        """The contract's view: ``{id, scheme, host, events, last_error}`` (no credentials)."""
        return {"id": self.id, "scheme": self.scheme, "host": self.host, "events": list(self.events),
                "last_error": last_error}

    def label(self) -> str:
        return f"{self.id} ({self.scheme} {self.host})"

    def _stored(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url.get_secret_value(), "events": list(self.events),
                "created_at": self.created_at}


def _key(user: str) -> str:
    return f"notify/channels/{user}"


class ChannelBook:
    """The channels of every user of one home, in its secret store: a user's list is one secret, so
    one user's channels are never read on another's behalf (every method takes the user)."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    @staticmethod
    def _parse(raw: str | None) -> list[Channel]:
        try:
            items = json.loads(raw) if raw else []
        except json.JSONDecodeError:
            return []
        channels = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("url"), str) and isinstance(item.get("id"), str):
                for secret in url_secrets(item["url"]):
                    register_secret(secret)
                events = tuple(e for e in EVENTS if e in (item.get("events") or EVENTS))
                channels.append(Channel(item["id"], SecretStr(item["url"]), events,
                                        str(item.get("created_at") or "")))
        return channels

    def channels(self, user: str) -> list[Channel]:
        """``user``'s channels, oldest first."""
        return self._parse(self.credentials.secret(_key(user)))

    def get(self, user: str, channel_id: str) -> Channel:
        found = next((c for c in self.channels(user) if c.id == channel_id), None)
        if found is None:
            raise NotFoundError(f"{user} has no notification channel {channel_id!r}; see `fedimpute notify list`")
        return found

    def add(self, user: str, url: str, events: tuple[str, ...] = EVENTS) -> Channel:
        """Check ``url`` with apprise, then keep it for ``user`` (a URL already kept is updated in place)."""
        url = url.strip()
        check_url(url)
        channel = Channel(f"ch-{secrets.token_hex(4)}", SecretStr(url), events or EVENTS)

        def change(raw: str | None) -> str:
            nonlocal channel
            kept = self._parse(raw)
            same = next((c for c in kept if c.url.get_secret_value() == url), None)
            if same is not None:
                channel = Channel(same.id, same.url, channel.events, same.created_at)
            kept = [c for c in kept if c.id != channel.id] + [channel]
            return json.dumps([c._stored() for c in kept])

        self.credentials.update_secret(_key(user), change)
        return channel

    def remove(self, user: str, channel_id: str) -> Channel:
        """Forget one of ``user``'s channels (:class:`NotFoundError` when there is no such channel)."""
        gone = self.get(user, channel_id)

        def change(raw: str | None) -> str | None:
            kept = [c for c in self._parse(raw) if c.id != channel_id]
            return json.dumps([c._stored() for c in kept]) if kept else None

        self.credentials.update_secret(_key(user), change)
        return gone

