"""Running the gateway: ``python -m fedimpute.engine.gateway_serve`` (``engine start`` does it).

One process, one or two uvicorn listeners on the same app: the address partners use (TLS when a
certificate is given) and, when that is not plain loopback HTTP, a loopback HTTP listener for
the home's own fedimpute (which then needs no copy of the certificate and no name in it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from fedimpute.engine.gateway import Gateway, make_app
from fedimpute.engine.options import is_loopback

__all__ = ["main"]


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to :func:`_serve` (two servers share one process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(configs: list[uvicorn.Config]) -> None:
    servers = [_Server(c) for c in configs]

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(s.serve() for s in servers))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--engine")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--local-port", type=int, help="a second, loopback HTTP listener for the home")
    parser.add_argument("--ssl-certfile")
    parser.add_argument("--ssl-keyfile")
    parser.add_argument("--max-upload-gb", type=float, default=float(os.environ.get("FEDIMPUTE_NODE_MAX_UPLOAD_GB",
                                                                                      "50")))
    args = parser.parse_args(argv)
    gw = Gateway(args.upstream, args.home, engine=args.engine, max_upload=int(args.max_upload_gb * 1024**3),
                 exposed=not is_loopback(args.host))
    app = make_app(gw)
    def config(host: str, port: int, **tls: str | None) -> uvicorn.Config:
        return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False,
                              server_header=False, lifespan="on" if tls else "off", **tls)  # type: ignore[arg-type]

    configs = [config(args.host, args.port, ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)]
    if args.local_port:
        configs.append(config("127.0.0.1", args.local_port))
    asyncio.run(_serve(configs))


if __name__ == "__main__":
    main()
