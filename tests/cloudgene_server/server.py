"""Run the simulator under uvicorn in a background thread.

Why a protocol subclass: the 'reset' fault needs the connection's transport
to abort it; uvicorn does not expose it to the app, so each connection wraps
the app once and adds the transport to every request scope.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import create_app
from .faults import TRANSPORT_KEY
from .state import CloudgeneSim


class TransportExposingH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        inner = self.app

        async def app(scope, receive, send):
            scope[TRANSPORT_KEY] = transport
            await inner(scope, receive, send)

        self.app = app


class ServerHandle:
    """A running server: `.url` has no trailing slash; stop() or use as a context manager."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, sock: socket.socket, url: str):
        self.server, self.thread, self.sock, self.url = server, thread, sock, url

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_in_thread(
    sim: CloudgeneSim,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "warning",
    startup_timeout: float = 10.0,
) -> ServerHandle:
    """Start uvicorn on a daemon thread (port 0 = a free port) and return once it accepts connections."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(
        create_app(sim),
        http=TransportExposingH11Protocol,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        daemon=True,
        name=f"cloudgene-sim-{sock.getsockname()[1]}",
    )
    thread.start()
    handle = ServerHandle(server, thread, sock, f"http://{host}:{sock.getsockname()[1]}")
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            handle.stop(1)
            raise RuntimeError("the simulated Cloudgene server did not start")
        time.sleep(0.01)
    with socket.create_connection(sock.getsockname()[:2], timeout=startup_timeout):
        pass  # a TCP connect proves it answers without adding an HTTP request to sim.requests
    return handle
