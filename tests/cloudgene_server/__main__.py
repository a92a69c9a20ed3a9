"""Run the simulator in the foreground: `python -m tests.cloudgene_server --port P`.

Why a separate process mode: memory benchmarks must measure the client
alone, so the server runs in its own process and announces readiness with one
"READY <url>" line on stdout.
"""

from __future__ import annotations

import argparse
import signal
import threading

from .faults import Fault
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
    parser.add_argument("--engine-slots", type=int, default=1)
    parser.add_argument("--preload-jobs", type=int, default=0, help="create this many jobs (no input files) "
                        "before serving; their ids are printed after READY, one per line, then END")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--synthetic-chunks", type=int, default=1, help="20 Mb chunks of the stand-in chromosome "
                        "a job runs on when uploads are discarded (imputation reports them one by one)")
    args = parser.parse_args(argv)
    sim = CloudgeneSim(keep_uploads=not args.discard_uploads, step_seconds=args.step_seconds,
                       synthetic_chunks=args.synthetic_chunks,
                       engine_slots=args.engine_slots, max_running_per_user=10**6 if args.preload_jobs else 2)
    sim.add_user(args.user, args.token)
    user = sim.users[args.user]
    ids = [sim.submit(user, sim.app_id, [("refpanel", "apps@hapmap-2@2.0.0"), ("job-name", f"preloaded-{i}")],
                      [], None, "preload") for i in range(args.preload_jobs)]
    if args.latency:
        sim.faults.append(Fault(".*", "delay", times=-1, seconds=args.latency))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with serve_in_thread(sim, args.host, args.port) as handle:
        print(f"READY {handle.url}", flush=True)
        if args.preload_jobs:
            print("\n".join([*ids, "END"]), flush=True)
        while not stop.wait(0.5):
            pass


if __name__ == "__main__":
    main()
