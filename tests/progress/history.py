"""Finished jobs of known queue and run times, written as the monitor writes them (events at those times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fedimpute.models import Job, JobStatus
from fedimpute.store._rows import to_db_time
from fedimpute.store.inputs import JobInput

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def add_finished(store, *, start: datetime, queue_min: float, run_min: float, service="sim", panel="hapmap-2",
                 build="hg19", phasing="eagle", samples: int | None = None, variants: int | None = None) -> str:
    """A completed job whose events say it waited ``queue_min`` and ran ``run_min`` minutes."""
    running, done = start + timedelta(minutes=queue_min), start + timedelta(minutes=queue_min + run_min)
    job = store.add_job(Job(service=service, owner="alice", panel=panel, build=build, options={"phasing": phasing},
                            status=JobStatus.QUEUED, created_at=start, submitted_at=start))
    with store.tx() as con:
        con.executemany("INSERT INTO job_events (job_id, time, old_status, status) VALUES (?, ?, ?, ?)",
                        [[job.job_id, to_db_time(running), "queued", "running"],
                         [job.job_id, to_db_time(done), "running", "completed"]])
        con.execute("UPDATE jobs SET status = 'completed', started_at = ?, finished_at = ? WHERE job_id = ?",
                    [to_db_time(running), to_db_time(done), job.job_id])
    if samples is not None:
        add_inputs(store, job.job_id, samples, variants)
    return job.job_id


def add_inputs(store, job_id: str, samples: int, variants: int | None) -> None:
    store.add_job_inputs([JobInput(job_id=job_id, position=0, path="/x.vcf.gz", name="x.vcf.gz", size=1,
                                   sha256="0" * 64, samples=samples, variants=variants, verdict="pass",
                                   fedimpute_version="test")])
