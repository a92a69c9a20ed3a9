"""Jobs in a store with result files on disk and event times chosen by the test."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from fedimpute.models import Job, JobStatus, ResultFile
from fedimpute.store import Store
from fedimpute.store._rows import to_db_time

T0 = datetime(2026, 3, 2, 9, 0, 0)


def add_job(store: Store, files: list[Path], *, service: str = "local", name: str | None = None) -> str:
    """A completed job whose downloaded results are ``files``."""
    job = store.add_job(Job(service=service, owner="tester", panel="sim", name=name))
    store.update_job(job.job_id, status=JobStatus.COMPLETED, detail="test")
    for f in files:
        store.upsert_result_file(
            ResultFile(job_id=job.job_id, name=f.name, size=f.stat().st_size, sha256="0" * 64, path=str(f))
        )
    return job.job_id


def add_timed_job(
    store: Store, service: str, events: list[tuple[str, float]], *, created_min: float = 0
) -> str:
    """A job whose events happen ``minutes`` after T0: ``[("queued", 1), ("running", 4), ...]``."""
    created = T0 + timedelta(minutes=created_min)
    job = store.add_job(Job(service=service, owner="tester", created_at=created, updated_at=created))
    with store.tx() as con:
        con.execute("DELETE FROM job_events WHERE job_id = ?", [job.job_id])
        old = None
        for status, minutes in [("pending", created_min), *events]:
            con.execute(
                "INSERT INTO job_events (job_id, time, old_status, status, detail) VALUES (?, ?, ?, ?, '')",
                [job.job_id, to_db_time(T0 + timedelta(minutes=minutes)), old, status],
            )
            old = status
        con.execute("UPDATE jobs SET status = ? WHERE job_id = ?", [old, job.job_id])
    return job.job_id
