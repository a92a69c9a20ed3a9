"""When an active job will finish, from how long the lab's own finished jobs took.

The comparable jobs are the lab's completed jobs on the same service with the same panel, build and
phasing; when fewer than :data:`MIN_JOBS` such jobs exist, the match is loosened (phasing, then
build, then panel dropped: ``match`` says which fields it rests on).  With fewer than three jobs on
the same service there is no ETA at all.

Each comparable job is one scenario for the new job: its queue wait and its run time, the run time
scaled by the ratio of the inputs' sizes (samples x variants) when both are known for the new job and
for at least three comparable ones.  A job already running is compared only with jobs that ran longer
than it has so far, a queued one with jobs that waited longer (too few such jobs: no ETA, rather than
a made-up one).  ``finish_at`` is the median scenario; ``low`` and ``high`` are the order statistics
at ranks ``floor((n + 1) / 4)`` and ``ceil(3 (n + 1) / 4)`` of the n scenarios: the 25th and 75th
percentiles, chosen so that a new job like the n old ones falls inside with probability at least
one half (a distribution-free prediction interval; interpolated percentiles cover less with few jobs).
``based_on`` is n.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fedimpute.models import Job, JobStatus, utcnow
from fedimpute.store import Store

__all__ = ["MIN_JOBS", "Eta", "EtaModel", "Run", "eta_json", "etas", "interval"]

MIN_JOBS = 3
#: Fields a comparable job must share, tightest first.
MATCHES = (("service", "panel", "build", "phasing"), ("service", "panel", "build"), ("service", "panel"),
           ("service",))


@dataclass(frozen=True)
class Run:
    """One finished job as the ETA sees it."""

    service: str
    panel: str | None
    build: str | None
    phasing: str | None
    queue_seconds: float | None
    run_seconds: float | None
    size: float | None = None  # samples x variants of the input
    finished_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Run:
        samples, variants = row.get("samples"), row.get("variants")
        return cls(row["service"], row.get("panel"), row.get("build"), row.get("phasing"),
                   _seconds(row.get("queue_seconds")), _seconds(row.get("run_seconds")),
                   float(samples) * float(variants) if samples and variants else None, row.get("finished_at"))


@dataclass(frozen=True)
class Eta:
    finish_at: datetime
    low: datetime
    high: datetime
    based_on: int
    match: tuple[str, ...]
    scaled: bool

    def as_json(self) -> dict[str, Any]:
        """The contract's ``eta`` object (``match`` and ``scaled_by_size`` say what it rests on)."""
        return {"finish_at": _iso(self.finish_at), "low": _iso(self.low), "high": _iso(self.high),
                "based_on": self.based_on, "match": list(self.match), "scaled_by_size": self.scaled}


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or value < 0 else value


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def eta_json(eta: Eta | None) -> dict[str, Any] | None:
    return None if eta is None else eta.as_json()


def interval(values: Sequence[float]) -> tuple[float, float, float]:
    """``(low, median, high)`` of ``values``: the order statistics at ranks floor((n+1)/4) and
    ceil(3(n+1)/4) (1-based, kept inside 1..n) and the median.

    >>> interval([5, 1, 4, 2, 3])
    (1, 3, 5)
    >>> interval(range(1, 11))
    (2, 5.5, 9)
    """
    ordered = sorted(values)
    n = len(ordered)
    lo = min(max(math.floor((n + 1) / 4), 1), n)
    hi = min(max(math.ceil(3 * (n + 1) / 4), 1), n)
    return ordered[lo - 1], statistics.median(ordered), ordered[hi - 1]


class EtaModel:
    """The lab's finished runs; :meth:`estimate` gives one job's ETA."""

    def __init__(self, runs: Iterable[Run]) -> None:
        self.runs = [r for r in runs if r.run_seconds is not None]

    @classmethod
    def from_store(cls, store: Store, services: Sequence[str] | None = None) -> EtaModel:
        return cls(Run.from_row(row) for row in store.finished_runs(services))

    def comparable(self, job: Mapping[str, Any]) -> tuple[list[Run], tuple[str, ...]]:
        """The tightest match with at least :data:`MIN_JOBS` runs (none: ``([], ())``)."""
        for keys in MATCHES:
            runs = [r for r in self.runs if all(getattr(r, k) == job.get(k) for k in keys)]
            if len(runs) >= MIN_JOBS:
                return runs, keys
        return [], ()

    def estimate(self, job: Job, *, size: float | None = None, since: Mapping[str, datetime] | None = None,
                 now: datetime | None = None) -> Eta | None:
        """``job``'s ETA, or None (finished, too few comparable jobs, or longer than nearly all of them).
        ``size`` is its input's samples x variants; ``since`` the first time it was seen ``queued`` and
        ``running`` (default: its submitted_at and started_at)."""
        if job.status.is_terminal:
            return None
        now = now or utcnow()
        runs, keys = self.comparable({"service": job.service, "panel": job.panel, "build": job.build,
                                      "phasing": job.options.get("phasing")})
        sized = [r for r in runs if r.size] if size else []
        scaled = len(sized) >= MIN_JOBS
        runs = sized if scaled else runs
        start, durations = self._scenarios(job, runs, size if scaled else None, since or {}, now)
        if len(durations) < MIN_JOBS:
            return None
        low, mid, high = interval(durations)
        return Eta(start + timedelta(seconds=mid), start + timedelta(seconds=low), start + timedelta(seconds=high),
                   len(durations), keys, scaled)

    @staticmethod
    def _scenarios(job: Job, runs: list[Run], size: float | None, since: Mapping[str, datetime],
                   now: datetime) -> tuple[datetime, list[float]]:
        """The time scenarios count from, and each comparable run's duration from then for this job."""

        def run_time(r: Run) -> float:
            return float(r.run_seconds or 0.0) * (size / r.size if size and r.size else 1.0)

        if job.status is JobStatus.RUNNING:
            start = since.get("running") or job.started_at or now
            elapsed = (now - start).total_seconds()
            return start, [d for d in (run_time(r) for r in runs) if d > elapsed]
        with_queue = [r for r in runs if r.queue_seconds is not None]
        if job.status is JobStatus.QUEUED:
            start = since.get("queued") or job.submitted_at or now
            waited = (now - start).total_seconds()
            return start, [float(r.queue_seconds or 0.0) + run_time(r) for r in with_queue
                           if float(r.queue_seconds or 0.0) > waited]
        return now, [float(r.queue_seconds or 0.0) + run_time(r) for r in with_queue]  # not sent yet


def _size(sizes: Mapping[str, tuple[int | None, int | None]], job_id: str) -> float | None:
    samples, variants = sizes.get(job_id, (None, None))
    return float(samples) * float(variants) if samples and variants else None


def etas(store: Store, jobs: Sequence[Job], now: datetime | None = None) -> dict[str, Eta | None]:
    """The ETA of each of ``jobs`` (None for finished ones and where none can be given), reading the
    history, the inputs' sizes and the jobs' status times once for all of them."""
    active = [j for j in jobs if not j.status.is_terminal and j.service != "*"]
    out: dict[str, Eta | None] = {j.job_id: None for j in jobs}
    if not active:
        return out
    model = EtaModel.from_store(store, sorted({j.service for j in active}))
    if len(model.runs) < MIN_JOBS:
        return out
    ids = [j.job_id for j in active]
    sizes, since = store.input_sizes(ids), store.status_times(ids)
    for job in active:
        out[job.job_id] = model.estimate(job, size=_size(sizes, job.job_id), since=since.get(job.job_id), now=now)
    return out
