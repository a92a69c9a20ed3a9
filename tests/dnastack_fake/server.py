"""Serve the fake Workbench with uvicorn on a daemon thread, on a free loopback port
(see tests/asgi_thread.py)."""

from __future__ import annotations

from tests.asgi_thread import ServerHandle, serve_asgi_in_thread

from .app import create_app
from .state import FakeWorkbench

__all__ = ["ServerHandle", "serve_in_thread"]


def serve_in_thread(fake: FakeWorkbench, host: str = "127.0.0.1", port: int = 0, *,
                    startup_timeout: float = 10.0) -> ServerHandle:
    """Serve ``fake`` on a daemon thread (port 0 = a free port); return once it accepts connections."""
    return serve_asgi_in_thread(create_app(fake), name="dnastack-fake", host=host, port=port,
                                startup_timeout=startup_timeout)
