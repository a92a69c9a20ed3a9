"""A hub process for crash and concurrency tests: records and sends jobs, then monitors to the end.

    python -m tests.monitor.worker HOME VCF N_JOBS [--watch-only] [--tick S]

Idempotent: jobs already recorded (by name) are left to the monitor, so a restarted worker
never records a job twice; the monitor reconciles whatever a killed run left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from fedimpute.exceptions import FedImputeError
from fedimpute.hub import Hub
from fedimpute.monitor import Monitor
from fedimpute.services.base import SubmitOptions


async def main(home: Path, vcf: Path, n_jobs: int, watch_only: bool, tick: float) -> None:
    os.environ["FEDIMPUTE_HOME"] = str(home)
    hub = Hub()
    if not watch_only:
        names = {j.name for j in hub.store.list_jobs()}
        for i in range(n_jobs):
            if f"crash-{i}" in names:
                continue
            job = hub.record_job([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19", name=f"crash-{i}"),
                                 owner="worker")
            try:
                await hub.send(job.job_id)
            except FedImputeError as exc:
                print(f"send {job.job_id}: {exc}", file=sys.stderr)
    monitor = Monitor(hub)  # a killed holder is replaced at once: its pid is gone
    await monitor.watch(tick=tick)
    print("DONE", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("home", type=Path)
    parser.add_argument("vcf", type=Path)
    parser.add_argument("n_jobs", type=int)
    parser.add_argument("--watch-only", action="store_true")
    parser.add_argument("--tick", type=float, default=0.1)
    a = parser.parse_args()
    asyncio.run(main(a.home, a.vcf, a.n_jobs, a.watch_only, a.tick))
