"""The DuckDB store: migrations, transactions, jobs and events."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import duckdb
import pytest

from fedimpute.exceptions import (
    JobNotFoundError,
    MigrationChecksumError,
    MigrationError,
    MigrationSequenceError,
)
from fedimpute.models import Job, JobStatus, MessageLevel, ResultFile, StepMessage
from fedimpute.store import Store, apply_migrations, load_migrations
from fedimpute.store.migrations import MIGRATIONS_DIR


def _tables(path) -> set[str]:
    with duckdb.connect(str(path)) as con:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_migrations__create_every_table(store):
    assert {"services", "panels", "jobs", "job_events", "step_messages", "result_files",
            "health_checks", "schema_migrations"} <= _tables(store.path)


def test_migrations__idempotent(tmp_path):
    db = tmp_path / "x.duckdb"
    first = apply_migrations(db)
    assert first == [m.version for m in load_migrations()]
    assert apply_migrations(db) == []
    assert apply_migrations(db) == []
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM services").fetchone()[0] == 3  # seeded once, not thrice


def test_migrations__edited_migration_refused(tmp_path):
    sql = tmp_path / "sql"
    shutil.copytree(MIGRATIONS_DIR, sql)
    db = tmp_path / "x.duckdb"
    apply_migrations(db, sql)
    first = sorted(sql.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
    with pytest.raises(MigrationChecksumError, match="edited after it was applied.*new numbered migration"):
        apply_migrations(db, sql)


def test_migrations__database_newer_than_code_refused(tmp_path):
    sql = tmp_path / "sql"
    shutil.copytree(MIGRATIONS_DIR, sql)
    (sql / f"{len(list(sql.glob('*.sql'))) + 1:04d}_extra.sql").write_text("CREATE TABLE extra (x INTEGER);")
    db = tmp_path / "x.duckdb"
    apply_migrations(db, sql)
    with pytest.raises(MigrationSequenceError, match="does not ship"):
        apply_migrations(db)


def test_migrations__new_migration_applies_in_one_transaction(tmp_path):
    sql = tmp_path / "sql"
    shutil.copytree(MIGRATIONS_DIR, sql)
    db = tmp_path / "x.duckdb"
    apply_migrations(db, sql)
    n = len(list(sql.glob("*.sql")))
    (sql / f"{n + 1:04d}_good.sql").write_text("CREATE TABLE good (x INTEGER);")
    (sql / f"{n + 2:04d}_bad.sql").write_text("CREATE TABLE bad (x INTEGER); SELEC oops;")
    with pytest.raises(MigrationError, match="0" + str(n + 2)):
        apply_migrations(db, sql)
    assert "good" not in _tables(db)  # the good one was rolled back with the bad one


def test_migrations__gap_refused(tmp_path):
    sql = tmp_path / "sql"
    sql.mkdir()
    (sql / "0001_a.sql").write_text("SELECT 1;")
    (sql / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="without gaps"):
        load_migrations(sql)


def test_tx__exception_rolls_back(store):
    job = store.add_job(Job(service="michigan", owner="a"))
    with pytest.raises(RuntimeError, match="boom"), store.tx() as con:
        con.execute("UPDATE jobs SET name = 'changed' WHERE job_id = ?", [job.job_id])
        con.execute("INSERT INTO job_events (job_id, time, status) VALUES (?, now(), 'failed')",
                    [job.job_id])
        raise RuntimeError("boom")
    assert store.get_job(job.job_id).name is None
    assert len(store.job_events(job.job_id)) == 1


def test_jobs__status_change_writes_event(store):
    job = store.add_job(Job(service="michigan", owner="alice", name="study1", options={"build": "hg19"}))
    assert job.status is JobStatus.PENDING
    store.update_job(job.job_id, status=JobStatus.QUEUED, remote_id="job-1", detail="accepted")
    store.update_job(job.job_id, queue_position=3)  # no status change: no event
    store.update_job(job.job_id, status=JobStatus.RUNNING, remote_state="2")
    events = store.job_events(job.job_id)
    assert [(e.old_status, e.status) for e in events] == [
        (None, JobStatus.PENDING), (JobStatus.PENDING, JobStatus.QUEUED), (JobStatus.QUEUED, JobStatus.RUNNING)]
    assert events[1].detail == "accepted"
    got = store.get_job(job.job_id)
    assert (got.remote_id, got.remote_state, got.queue_position) == ("job-1", "2", 3)
    assert got.options == {"build": "hg19"}


def test_jobs__timestamps_are_utc(store):
    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    job = store.add_job(Job(service="michigan", owner="a", created_at=when))
    got = store.get_job(job.job_id)
    assert got.created_at == when and got.created_at.tzinfo is not None


def test_jobs__list_filters_newest_first(store):
    a = store.add_job(Job(service="michigan", owner="alice", created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    b = store.add_job(Job(service="topmed", owner="bob", created_at=datetime(2026, 1, 2, tzinfo=UTC)))
    store.update_job(b.job_id, status=JobStatus.RUNNING)
    assert [j.job_id for j in store.list_jobs()] == [b.job_id, a.job_id]
    assert [j.job_id for j in store.list_jobs(owner="alice")] == [a.job_id]
    assert [j.job_id for j in store.list_jobs(status=JobStatus.RUNNING)] == [b.job_id]
    assert [j.job_id for j in store.list_jobs(service="michigan", status="running")] == []


def test_jobs__unknown_job(store):
    with pytest.raises(JobNotFoundError, match="jobs list"):
        store.get_job("nope")
    with pytest.raises(JobNotFoundError):
        store.update_job("nope", status=JobStatus.FAILED)


def test_step_messages__stored_once(store):
    job = store.add_job(Job(service="michigan", owner="a"))
    msgs = [StepMessage(job_id=job.job_id, step_index=0, step="Input Validation", message_index=i,
                        level=MessageLevel.INFO, text=f"m{i}") for i in range(3)]
    assert store.add_step_messages(msgs[:2]) == 2
    assert store.add_step_messages(msgs) == 1  # a later poll sees the first two again
    assert [m.text for m in store.step_messages(job.job_id)] == ["m0", "m1", "m2"]
    progress = msgs[2].model_copy(update={"text": "m2, 50%"})  # a running line rewritten in place
    assert store.add_step_messages([progress]) == 1
    assert [m.text for m in store.step_messages(job.job_id)] == ["m0", "m1", "m2, 50%"]


def test_result_files__upsert(store):
    job = store.add_job(Job(service="michigan", owner="a"))
    store.upsert_result_file(ResultFile(job_id=job.job_id, name="chr_20.zip", size=10))
    store.upsert_result_file(ResultFile(job_id=job.job_id, name="chr_20.zip", size=10, sha256="ab" * 32))
    (only,) = store.result_files(job.job_id)
    assert only.sha256 == "ab" * 32


def test_store__reopen_keeps_data(home):
    job = Store(home).add_job(Job(service="michigan", owner="a"))
    assert Store(home).get_job(job.job_id).job_id == job.job_id
