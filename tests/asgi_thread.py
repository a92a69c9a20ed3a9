"""An ASGI app served by uvicorn on a daemon thread and a free loopback port, for the test fakes.

Why a real server rather than an httpx mock transport: adapters are exercised through real HTTP
(URL joining, query strings, streamed uploads and downloads), as they are against the services.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Self

import uvicorn

__all__ = ["ServerHandle", "serve_asgi_in_thread"]


class ServerHandle:
    """A running server: ``.url`` has no trailing slash; stop() or use as a context manager."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, sock: socket.socket, url: str):
        self.server, self.thread, self.sock, self.url = server, thread, sock, url

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_asgi_in_thread(app: Any, *, name: str, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                         startup_timeout: float = 10.0, **config: Any) -> ServerHandle:
    """Start uvicorn on a daemon thread (port 0 = a free port); return once it accepts TCP connections.

    The readiness probe is a bare TCP connect, so no HTTP request reaches the fake's request log.
    ``config`` goes to ``uvicorn.Config`` (e.g. ``http=`` a protocol class).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level=log_level, access_log=False,
                                           timeout_graceful_shutdown=5, **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"{name}-{sock.getsockname()[1]}")
    thread.start()
    handle = ServerHandle(server, thread, sock, f"http://{host}:{sock.getsockname()[1]}")
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            handle.stop(1)
            raise RuntimeError(f"the {name} server did not start")
        time.sleep(0.01)
    with socket.create_connection(sock.getsockname()[:2], timeout=startup_timeout):
        pass
    return handle
