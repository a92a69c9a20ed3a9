"""Two real processes writing jobs at the same time lose nothing (DuckDB's file lock + retry)."""

from __future__ import annotations

import multiprocessing as mp

from fedimpute.models import Job, JobStatus
from fedimpute.store import Store

PER_PROCESS = 40


def _writer(home: str, tag: str, start) -> None:
    start.wait()
    store = Store(home)
    for i in range(PER_PROCESS):
        job = store.add_job(Job(service="michigan", owner=tag, name=f"{tag}-{i}"))
        store.update_job(job.job_id, status=JobStatus.QUEUED, detail=f"{tag} {i}")


def test_two_processes__concurrent_writes_all_land(home):
    ctx = mp.get_context("spawn")  # fresh interpreters: no shared DuckDB instance
    Store(home)  # migrate once up front so both writers race on data, not schema
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(home), tag, start)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = Store(home)
    jobs = store.list_jobs()
    assert len(jobs) == 2 * PER_PROCESS
    assert {j.name for j in jobs} == {f"{t}-{i}" for t in "ab" for i in range(PER_PROCESS)}
    assert all(j.status is JobStatus.QUEUED for j in jobs)
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM job_events").fetchone()[0] == 4 * PER_PROCESS


def _migrator(home: str, start) -> None:
    start.wait()
    Store(home).add_job(Job(service="michigan", owner="m"))


def test_two_processes__first_start_migrates_once(home):
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_migrator, args=(str(home), start)) for _ in range(2)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = Store(home)
    assert len(store.list_jobs()) == 2
    assert len(store.list_services()) == 3
