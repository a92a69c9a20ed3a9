"""Fault injection: an ASGI middleware in front of the Starlette app.

Why raw ASGI: 'malformed' must rewrite a real response body and 'reset' must
abort the TCP connection before any byte of a response is written, neither
of which Starlette's response classes can express. The transport for 'reset'
is put into the scope by the uvicorn protocol subclass in server.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
from dataclasses import dataclass

TRANSPORT_KEY = "cloudgene_sim.transport"
KINDS = ("status", "html", "malformed", "delay", "reset")
_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
    b"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class Fault:
    """Answer the next `times` requests whose path matches `path_regex` (re.search) with a fault.

    kind: "status" (JSON error envelope with `status`, default 500), "html" (an nginx 502 page, or
    `status` if given), "malformed" (status 200 and the real body cut in half), "delay" (wait
    `seconds`, then answer normally) or "reset" (abort the TCP connection without a response).
    times < 0 means forever; `method` optionally restricts the fault to one HTTP method.
    """

    path_regex: str
    kind: str
    times: int = 1
    status: int | None = None
    seconds: float = 0.0
    method: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and re.search(
            self.path_regex, path
        ) is not None


class FaultMiddleware:
    def __init__(self, app, sim):
        self.app, self.sim = app, sim

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        self.sim.log_agent(headers.get(b"user-agent", b"").decode("latin-1"), scope["path"])
        token = headers.get(b"x-auth-token")
        self.sim.log_token(scope["method"], scope["path"], token.decode("latin-1") if token is not None else None)
        fault = self.sim.take_fault(scope["method"], scope["path"])
        if fault is None:
            return await self.app(scope, receive, send)
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            return await self.app(scope, receive, send)
        if fault.kind == "malformed":
            return await self._malformed(scope, receive, send)
        if fault.kind == "reset":
            return await _reset(scope, receive)
        await _drain(receive)
        if fault.kind == "html":
            return await _send(send, fault.status or 502, b"text/html", _HTML_502)
        body = json.dumps({"message": f"Simulated fault: HTTP {fault.status or 500}.", "success": False})
        return await _send(send, fault.status or 500, b"application/json", body.encode())

    async def _malformed(self, scope, receive, send):
        """Run the real handler (side effects happen), then deliver half of its body with status 200."""
        start, chunks = {}, []

        async def capture(message):
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [
            (k, v)
            for k, v in start.get("headers", [])
            if k.lower() not in (b"content-length", b"content-type")
        ]
        cut = body[: max(1, len(body) // 2)]
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": headers
                + [(b"content-type", b"application/json"), (b"content-length", str(len(cut)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": cut})


async def _send(send, status: int, content_type: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drain(receive) -> None:
    message = {"more_body": True}
    while message.get("more_body") and message.get("type", "http.request") == "http.request":
        message = await receive()


async def _reset(scope, receive) -> None:
    """Abort with SO_LINGER 0 so the kernel sends RST; wait until uvicorn has noticed the loss."""
    transport = scope.get(TRANSPORT_KEY)
    if transport is None:  # not served by serve_in_thread (e.g. an in-process ASGI transport)
        raise ConnectionResetError("simulated connection reset")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    for _ in range(100):
        if (await asyncio.wait_for(receive(), 5))["type"] == "http.disconnect":
            return
