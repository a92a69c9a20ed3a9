"""One monitoring sweep over N active jobs (default 2,000) on 3 simulated Cloudgene services with
50 ms of latency per request, against a naive baseline that GETs each job's detail one after
the other; prints wall time and request count of both, and their ratios, in one run.

    python benchmarks/monitor.py [--jobs 2000] [--latency 0.05]

Acceptance: the sweep is at least 50x faster and makes at least 20x fewer requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token-0123456789"


def _start_services(n_jobs: int, latency: float):
    """Three simulators, each in its own process (so their work does not share our interpreter)."""
    procs, urls, remote = [], [], []
    for s in range(3):
        count = len(range(s, n_jobs, 3))
        proc = subprocess.Popen([sys.executable, "-m", "tests.cloudgene_server", "--token", TOKEN, "--user", "bench",
                                 "--step-seconds", "3600", "--engine-slots", "5", "--preload-jobs", str(count),
                                 "--latency", str(latency)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                start_new_session=True)
        procs.append(proc)
        urls.append(proc.stdout.readline().split()[1])
        for line in proc.stdout:
            if line.strip() == "END":
                break
            remote.append((f"sim{s}", line.strip()))
    return procs, urls, remote


def _record(store, urls, remote) -> None:
    from fedimpute.catalogue import make_service
    from fedimpute.models import Job, JobStatus

    for s, url in enumerate(urls):
        store.add_service(make_service(f"sim{s}", "cloudgene", url, settings=["poll_interval=0"]))
    with store.tx() as con:  # bulk insert: 2,000 jobs recorded as queued on their services
        for service, rid in remote:
            job = Job(service=service, owner="bench", remote_id=rid, status=JobStatus.QUEUED, remote_state="1")
            con.execute("INSERT INTO jobs (job_id, service, owner, remote_id, status, remote_state, options, inputs, "
                        "created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', '1', '{}', '[]', now(), now())",
                        [job.job_id, service, "bench", rid])
            con.execute("INSERT INTO job_tracking (job_id, submit_state) VALUES (?, 'submitted')", [job.job_id])


async def _naive(hub, remote) -> tuple[float, int]:
    """What a simple script does: every job's detail, one request after the other."""
    count = 0
    t = time.perf_counter()
    for service in sorted({s for s, _ in remote}):
        async with hub.adapter(service) as adapter:
            for s, rid in remote:
                if s == service:
                    await adapter.get_job(rid)
                    count += 1
    return time.perf_counter() - t, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FEDIMPUTE_HOME"] = str(Path(tmp) / "home")
        os.environ["FEDIMPUTE_SECRETS"] = "file"
        os.environ["FEDIMPUTE_HEALTH_PERIOD"] = "0"  # the 15-minute health checks are no part of polling jobs
        from fedimpute.hub import Hub
        from fedimpute.monitor import Monitor
        from fedimpute.store import Store

        procs, urls, remote = _start_services(args.jobs, args.latency)
        try:
            store = Store()
            _record(store, urls, remote)
            hub = Hub(store)
            for s in range(3):
                hub.credentials.set_token(f"sim{s}", TOKEN)
            monitor = Monitor(hub, auto_download=False)
            t = time.perf_counter()
            result = asyncio.run(monitor.sweep())
            sweep_time = time.perf_counter() - t
            naive_time, naive_requests = asyncio.run(_naive(hub, remote))
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(10)
    print(f"{args.jobs} jobs on 3 services, {args.latency * 1000:.0f} ms latency per request")
    print(f"fedimpute sweep: {sweep_time:7.2f} s, {result.requests:5d} requests "
          f"(polled {result.polled}, changed {result.changed}, errors {result.errors})")
    print(f"naive baseline:  {naive_time:7.2f} s, {naive_requests:5d} requests")
    speed, fewer = naive_time / sweep_time, naive_requests / max(result.requests, 1)
    print(f"ratios: {speed:.1f}x faster, {fewer:.1f}x fewer requests (acceptance: >= 50x and >= 20x)")
    return 0 if speed >= 50 and fewer >= 20 else 1


if __name__ == "__main__":
    sys.exit(main())
