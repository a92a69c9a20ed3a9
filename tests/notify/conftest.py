"""Real receivers for notifications on loopback: an SMTP server (aiosmtpd, with AUTH) and an HTTP
endpoint for apprise's ``json://`` webhooks, each recording what it got; and the channel URLs that
point at them, with credentials planted in them so tests can prove those never leak."""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedimpute import cli
from fedimpute.cli.notify import notify_app
from tests.asgi_thread import serve_asgi_in_thread

# `fedimpute notify` is registered in fedimpute/cli/__init__.py by the lead; until then, here.
if not any(group.name == "notify" for group in cli.app.registered_groups):
    cli.app.add_typer(notify_app, name="notify")

SMTP_USER = "alice-mail"
SMTP_PASSWORD = "PlantedSmtpPw-8f3k2Z"
HOOK_USER = "hookuser"
HOOK_PASSWORD = "PlantedHookPw-q7W5x"
HOOK_TOKEN = "PlantedHookToken-x9q7W5abc"
PLANTED = (SMTP_PASSWORD, HOOK_PASSWORD, HOOK_TOKEN)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    port: int
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def url(self, to: str = "alice@example.org", *, password: str = SMTP_PASSWORD) -> str:
        return (f"mailto://{SMTP_USER}:{password}@127.0.0.1:{self.port}?from=hub@example.org&to={to}")

    def bodies(self) -> list[str]:
        """The text of each message received: subject, then the plain-text part."""
        out = []
        for message in self.messages:
            parts = [p for p in message.walk() if p.get_content_type() == "text/plain"]
            text = parts[0].get_payload(decode=True).decode() if parts else ""
            out.append(f"{message['Subject']}\n{text}".replace("\r\n", "\n").strip())
        return out


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """An SMTP server on a free loopback port that accepts AUTH for SMTP_USER / SMTP_PASSWORD only."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox(free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            box.messages.append(email.message_from_bytes(envelope.original_content or envelope.content))
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and data.login.decode() == SMTP_USER and \
            data.password.decode() == SMTP_PASSWORD
        box.logins.append("ok" if ok else "refused")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Webhook:
    url_base: str
    received: list[dict] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    #: Status codes to answer the next requests with (then 200).
    failures: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, *, token: str = HOOK_TOKEN) -> str:
        host = self.url_base.removeprefix("http://")
        return f"json://{HOOK_USER}:{HOOK_PASSWORD}@{host}/hooks/{token}"

    def delivered(self) -> list[dict]:
        """The payloads that were answered with 200."""
        return [r for r in self.received if r.get("_status") == 200]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """An HTTP endpoint taking apprise's JSON payloads (``{title, message, type, ...}``)."""
    hook = Webhook("")

    async def receive(request: Request) -> JSONResponse:
        payload = await request.json()
        with hook.lock:
            status = hook.failures.pop(0) if hook.failures else 200
            hook.received.append({**payload, "_status": status})
            hook.auth.append(request.headers.get("authorization"))
            hook.paths.append(request.url.path)
        return JSONResponse({"ok": status == 200}, status_code=status)

    app = Starlette(routes=[Route("/hooks/{token}", receive, methods=["POST"])])
    with serve_asgi_in_thread(app, name="webhook") as handle:
        hook.url_base = handle.url
        yield hook


def files_text(home: Path) -> bytes:
    """Every byte of the home's database files (the file and its write-ahead log)."""
    return b"".join(p.read_bytes() for p in home.glob("fedimpute.duckdb*") if p.is_file())
