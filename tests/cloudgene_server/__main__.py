"""Run the simulator in the foreground: `python -m tests.cloudgene_server --port P`.

Why a separate process mode: memory benchmarks must measure the client
alone, so the server runs in its own process and announces readiness with one
"READY <url>" line on stdout.
"""

from __future__ import annotations

import argparse
import signal
import threading

from .server import serve_in_thread
from .state import CloudgeneSim


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.cloudgene_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--discard-uploads", action="store_true", help="count uploaded bytes, store nothing")
    parser.add_argument("--token", default="alice-token-0123456789")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--step-seconds", type=float, default=0.15)
    args = parser.parse_args(argv)
    sim = CloudgeneSim(keep_uploads=not args.discard_uploads, step_seconds=args.step_seconds)
    sim.add_user(args.user, args.token)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with serve_in_thread(sim, args.host, args.port) as handle:
        print(f"READY {handle.url}", flush=True)
        while not stop.wait(0.5):
            pass


if __name__ == "__main__":
    main()
