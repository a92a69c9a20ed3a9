"""How good are fedimpute's ETAs?  A replay of a synthetic lab history with known durations, against
a naive baseline (the service's median), in one run.

    python benchmarks/eta.py [--jobs 1000] [--seed 7]

A temporary store gets ``--jobs`` completed jobs on two services (three panels, two phasing tools,
cohorts of 100 to 20,000 samples and 20,000 to 800,000 variants), written as the monitor writes them
(events at the queue and run times, the inputs' counts as submission records them).  A job's run time
is its panel's and phasing's rate times samples x variants, times log-normal noise (sigma 0.25); its
queue wait is exponential with the service's mean.  Jobs are then replayed in the order they were
sent: each is estimated from the jobs finished before that moment only, (a) when it starts running
(finish = start + run time) and (b) when it is queued (finish = queued + wait + run time).

Printed for each: the share of jobs that finished inside their interval (a 25th-75th percentile
prediction interval: nominal share 50%), the median absolute error of ``finish_at``, the same for the
baseline (every job takes the service's median run time, or median turnaround, of the jobs finished
so far; its "interval" the 25th-75th percentiles of those), and the ratio of the errors.
Acceptance: coverage at least 50% (less than the one-sided 95% sampling margin below it counts: the
interval is calibrated, so its share lands on either side of 50% by chance, about 1.6 points at 1,000
jobs) and an error below the baseline's at both moments; exit 1 otherwise.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SERVICES = {"michigan": 45.0, "topmed": 180.0}  # mean queue wait, minutes
PANELS = {("michigan", "hrc-r1.1"): 1.0, ("michigan", "1000g-phase-3-v5"): 0.6, ("topmed", "topmed-r3"): 2.2}
PHASING = {"eagle": 1.0, "beagle": 1.4}
MIN_HISTORY = 3


@dataclass
class Sim:
    """One synthetic job and its true times."""

    service: str
    panel: str
    phasing: str
    samples: int
    variants: int
    sent: datetime
    queue: float  # seconds
    run: float

    @property
    def started(self) -> datetime:
        return self.sent + timedelta(seconds=self.queue)

    @property
    def finished(self) -> datetime:
        return self.started + timedelta(seconds=self.run)


def synthetic(n: int, rng: random.Random) -> list[Sim]:
    jobs, sent = [], START
    for _ in range(n):
        service, panel = rng.choice(list(PANELS))
        phasing = rng.choice(list(PHASING))
        samples = int(math.exp(rng.uniform(math.log(100), math.log(20_000))))
        variants = int(math.exp(rng.uniform(math.log(20_000), math.log(800_000))))
        minutes = 30 * PANELS[(service, panel)] * PHASING[phasing] * samples * variants / (1000 * 200_000)
        run = 60 * minutes * math.exp(rng.gauss(0, 0.25))
        queue = 60 * rng.expovariate(1 / SERVICES[service])
        jobs.append(Sim(service, panel, phasing, samples, variants, sent, queue, run))
        sent += timedelta(minutes=rng.expovariate(1 / 90))
    return jobs


def write_store(store, jobs: list[Sim]) -> list[str]:
    """The jobs as the monitor and submission leave them: rows, events, input counts (one transaction)."""
    from fedimpute.catalogue import make_service
    from fedimpute.store._rows import to_db_time

    for name in SERVICES:
        store.add_service(make_service(name, "cloudgene", f"https://{name}.example.org"), replace=True)
    ids = [f"fi-20260105-080000-{i:06x}" for i in range(len(jobs))]
    with store.tx() as con:
        for job_id, j in zip(ids, jobs, strict=True):
            times = [to_db_time(t) for t in (j.sent, j.started, j.finished)]
            con.execute("INSERT INTO jobs (job_id, service, panel, build, owner, status, options, inputs, created_at, "
                        "updated_at, submitted_at, started_at, finished_at) VALUES (?, ?, ?, 'hg38', 'lab', "
                        "'completed', ?, '[]', ?, ?, ?, ?, ?)",
                        [job_id, j.service, j.panel, f'{{"phasing": "{j.phasing}"}}', times[0], times[2], *times])
            con.executemany("INSERT INTO job_events (job_id, time, old_status, status) VALUES (?, ?, ?, ?)",
                            [[job_id, times[0], None, "queued"], [job_id, times[1], "queued", "running"],
                             [job_id, times[2], "running", "completed"]])
            con.execute("INSERT INTO job_inputs (job_id, position, path, name, size, sha256, samples, variants, "
                        "verdict, fedimpute_version, recorded_at) VALUES (?, 0, '/in.vcf.gz', 'in.vcf.gz', 1, '', "
                        "?, ?, 'pass', 'bench', ?)", [job_id, j.samples, j.variants, times[0]])
    return ids


def replay(store, jobs: list[Sim], ids: list[str], at_start: bool) -> tuple[list[tuple[bool, float]], list[tuple]]:
    """``(inside interval, |error| minutes)`` per estimated job, for fedimpute and for the baseline."""
    from fedimpute.jobs.eta import EtaModel, Run
    from fedimpute.models import Job, JobStatus

    runs = [Run.from_row(r) for r in store.finished_runs()]
    sizes = store.input_sizes(ids)
    ours, naive = [], []
    for job_id, j in zip(ids, jobs, strict=True):
        now = j.started if at_start else j.sent
        past = [r for r in runs if r.finished_at is not None and r.finished_at <= now]
        job = Job(job_id=job_id, service=j.service, panel=j.panel, build="hg38", owner="lab",
                  options={"phasing": j.phasing}, status=JobStatus.RUNNING if at_start else JobStatus.QUEUED)
        samples, variants = sizes[job_id]
        eta = EtaModel(past).estimate(job, size=float(samples or 0) * float(variants or 0) or None,
                                      since={"running": j.started, "queued": j.sent}, now=now)
        base = _baseline(past, j, at_start)
        if eta is None or base is None:
            continue
        ours.append((eta.low <= j.finished <= eta.high, abs((eta.finish_at - j.finished).total_seconds()) / 60))
        naive.append((base[0] <= j.finished <= base[2], abs((base[1] - j.finished).total_seconds()) / 60))
    return ours, naive


def _baseline(past, j: Sim, at_start: bool) -> tuple[datetime, datetime, datetime] | None:
    """The service's median run time (at start) or turnaround (at submission) for every job."""
    from fedimpute.jobs.eta import interval

    same = [r for r in past if r.service == j.service]
    if len(same) < MIN_HISTORY:
        return None
    start = j.started if at_start else j.sent
    values = [r.run_seconds + (0 if at_start else r.queue_seconds) for r in same]
    low, mid, high = interval(values)
    return tuple(start + timedelta(seconds=v) for v in (low, mid, high))  # type: ignore[return-value]


def report(label: str, ours: list[tuple[bool, float]], naive: list[tuple[bool, float]]) -> bool:
    """Print one moment's numbers; True when coverage is not below 50% beyond sampling error (one-sided
    95%: a calibrated 50% interval lands on either side of 50% by chance) and the error beats the baseline's."""
    n = len(ours)
    cover, error = sum(c for c, _ in ours) / n, statistics.median(e for _, e in ours)
    base_cover, base_error = sum(c for c, _ in naive) / len(naive), statistics.median(e for _, e in naive)
    margin = 1.645 * math.sqrt(0.25 / n)
    print(f"{label} ({n} jobs estimated)")
    print(f"  fedimpute ETA:     inside interval {cover:6.1%}   median |error| {error:7.1f} min")
    print(f"  baseline (median): inside interval {base_cover:6.1%}   median |error| {base_error:7.1f} min")
    print(f"  ratio: error {base_error / error:.2f}x smaller than the baseline's; coverage {cover:.1%} vs nominal "
          f"50% (sampling margin {margin:.1%})")
    return cover >= 0.5 - margin and error < base_error


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    jobs = sorted(synthetic(args.jobs, random.Random(args.seed)), key=lambda j: j.sent)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FEDIMPUTE_HOME"] = str(Path(tmp) / "home")
        from fedimpute.store import Store

        store = Store()
        ids = write_store(store, jobs)
        print(f"{args.jobs} synthetic jobs on {len(SERVICES)} services, {len(PANELS)} panels (seed {args.seed})")
        ok = report("(a) at the start of the run", *replay(store, jobs, ids, at_start=True))
        ok &= report("(b) when queued", *replay(store, jobs, ids, at_start=False))
    print("acceptance (coverage >= 50% within sampling error, error below the baseline's, both moments):",
          "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
