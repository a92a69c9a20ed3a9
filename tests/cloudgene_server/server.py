"""Run the simulator under uvicorn in a background thread (see tests/asgi_thread.py).

Why a protocol subclass: the 'reset' fault needs the connection's transport
to abort it; uvicorn does not expose it to the app, so each connection wraps
the app once and adds the transport to every request scope.
"""

from __future__ import annotations

from uvicorn.protocols.http.h11_impl import H11Protocol

from tests.asgi_thread import ServerHandle, serve_asgi_in_thread

from .app import create_app
from .faults import TRANSPORT_KEY
from .state import CloudgeneSim

__all__ = ["ServerHandle", "TransportExposingH11Protocol", "serve_in_thread"]


class TransportExposingH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        inner = self.app

        async def app(scope, receive, send):
            scope[TRANSPORT_KEY] = transport
            await inner(scope, receive, send)

        self.app = app


def serve_in_thread(sim: CloudgeneSim, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning",
                    startup_timeout: float = 10.0) -> ServerHandle:
    """Serve ``sim`` on a daemon thread (port 0 = a free port); return once it accepts connections."""
    return serve_asgi_in_thread(create_app(sim), name="cloudgene-sim", host=host, port=port, log_level=log_level,
                                startup_timeout=startup_timeout, http=TransportExposingH11Protocol)
