"""Serve the fake Workbench with uvicorn on a daemon thread, on a free loopback port.

Why a real server rather than an httpx mock transport: the adapter is exercised through
real HTTP (URL joining, query strings, streaming downloads), as it is against Workbench.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Self

import uvicorn

from .app import create_app
from .state import FakeWorkbench


class ServerHandle:
    """A running fake: ``.url`` has no trailing slash; stop() or use as a context manager."""

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


def serve_in_thread(fake: FakeWorkbench, host: str = "127.0.0.1", port: int = 0, *,
                    startup_timeout: float = 10.0) -> ServerHandle:
    """Start uvicorn on a daemon thread (port 0 = a free port); return once it accepts connections."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(create_app(fake), lifespan="off", log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"dnastack-fake-{sock.getsockname()[1]}")
    thread.start()
    handle = ServerHandle(server, thread, sock, f"http://{host}:{sock.getsockname()[1]}")
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            handle.stop(1)
            raise RuntimeError("the fake Workbench did not start")
        time.sleep(0.01)
    return handle
