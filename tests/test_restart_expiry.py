"""Restarting dead jobs and the date a service deletes results, through the CLI and the Hub,
against the local Cloudgene simulator over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from fedimpute.catalogue import make_service
from fedimpute.cli import main
from fedimpute.hub import Hub
from fedimpute.models import Job, JobStatus
from fedimpute.services.base import RemoteJob
from fedimpute.services.cloudgene import RETENTION, expiry_of, read_job
from fedimpute.services.cloudgene_schema import STATES
from fedimpute.store import Store
from tests.cloudgene_server.fixtures import ALICE_TOKEN
from tests.cloudgene_server.model import RUNNING, WAITING
from tests.vcfgen import write_vcf

DAY_MS = 86_400_000


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def sim(home, cloudgene_url) -> str:
    store = Store()
    store.add_service(make_service("sim", "cloudgene", cloudgene_url, settings=["poll_interval=0.05"]))
    Hub(store).credentials.set_token("sim", ALICE_TOKEN)
    return "sim"


@pytest.fixture
def vcf(tmp_path):
    return write_vcf(tmp_path / "c.vcf.gz")


def _submit(capsys, vcf, *extra: str) -> dict:
    code, out, err = run(capsys, "submit", str(vcf), "--service", "sim", "--panel", "hapmap-2", "--build", "hg19",
                         "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_jobs_restart__dead_job_is_queued_again_on_the_simulator(capsys, sim, cloudgene_sim, vcf):
    """We can restart a job the service lost to a restart of its own, from the command line."""
    cloudgene_sim.step_seconds = 60  # the job stays in the engine until the test kills it
    job = _submit(capsys, vcf)
    cloudgene_sim.kill(job["remote_id"])
    code, out, err = run(capsys, "jobs", "restart", job["job_id"])
    assert code == 0, err
    assert f"{job['job_id']} restarted on sim" in err and out == ""
    assert cloudgene_sim.jobs[job["remote_id"]].state in (WAITING, RUNNING)  # the service re-queued it
    assert ("GET", f"/api/v2/jobs/{job['remote_id']}/restart") in cloudgene_sim.requests
    shown = json.loads(run(capsys, "jobs", "show", job["job_id"], "--json", "--offline")[1])
    assert shown["status"] == "queued" and shown["error"] is None and shown["finished_at"] is None
    assert [e["status"] for e in shown["events"]][-2:] == ["failed", "queued"]
    assert shown["events"][-1]["detail"].startswith("restarted on sim: Your job was successfully added")


def test_jobs_restart__a_job_that_is_not_dead_exits_2_with_its_state(capsys, sim, cloudgene_sim, vcf):
    cloudgene_sim.step_seconds = 60
    job = _submit(capsys, vcf)
    code, out, err = run(capsys, "jobs", "restart", job["job_id"])
    assert code == 2 and out == ""
    assert "(remote state 2) on sim; only a job the service lost to a restart of its own (dead)" in err
    assert not any(path.endswith("/restart") for _, path in cloudgene_sim.requests)  # refused before asking


def test_jobs_restart__wes_service_exits_2_naming_the_protocol(capsys, store):
    """A protocol without restart is refused before any request (the URL does not even answer)."""
    store.add_service(make_service("lab-wes", "wes", "http://127.0.0.1:9/ga4gh/wes/v1",
                                   settings=["workflow=impute"]))
    job = store.add_job(Job(service="lab-wes", owner="tester", remote_id="run-1", status=JobStatus.FAILED))
    code, out, err = run(capsys, "jobs", "restart", job.job_id)
    assert code == 2 and out == ""
    assert "restarting jobs is not supported by the wes protocol of service lab-wes" in err
    assert len(err.strip().splitlines()) == 1


def test_jobs_restart__unknown_job_exits_3(capsys, store):
    code, _, err = run(capsys, "jobs", "restart", "fi-nosuch")
    assert code == 3 and "unknown job 'fi-nosuch'" in err


def test_jobs_show_and_list__carry_expires_at(capsys, sim, cloudgene_sim, vcf, store):
    """A completed Cloudgene job shows when its results go (7 days after completion); others show null."""
    done = _submit(capsys, vcf, "--wait")
    assert done["status"] == "completed"
    pending = store.add_job(Job(service="sim", owner="tester", name="never sent"))
    shown = json.loads(run(capsys, "jobs", "show", done["job_id"], "--json")[1])
    finished = datetime.fromisoformat(shown["finished_at"].replace("Z", "+00:00"))
    assert shown["expires_at"] is not None
    assert datetime.fromisoformat(shown["expires_at"].replace("Z", "+00:00")) == finished + RETENTION
    rows = {r["job_id"]: r for r in json.loads(run(capsys, "jobs", "list", "--json")[1])}
    assert rows[done["job_id"]]["expires_at"] == shown["expires_at"]
    assert rows[pending.job_id]["expires_at"] is None
    assert json.loads(run(capsys, "jobs", "show", pending.job_id, "--json")[1])["expires_at"] is None
    code, out, _ = run(capsys, "jobs", "show", done["job_id"], "--offline")
    assert code == 0 and f"expires_at      {shown['expires_at']}" in out


async def test_expiry__the_services_deletion_date_wins(sim, cloudgene_sim, vcf):
    """Once the service has set its own deletion date (deletedOn, with its reminder), that is the date."""
    hub = Hub()
    from fedimpute.services.base import SubmitOptions

    job = await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t")
    job = await hub.wait(job.job_id, timeout=60)
    assert job.expires_at == job.finished_at + RETENTION
    cloudgene_sim.retire(job.remote_id, notify_only=True)  # state 8, deletedOn in 3 days
    job, remote = await hub.refresh(job.job_id)
    deleted_on = datetime.fromtimestamp(cloudgene_sim.jobs[job.remote_id].deleted_on / 1000, tz=UTC)
    assert remote.expires_at == deleted_on and job.expires_at == deleted_on
    assert job.status is JobStatus.COMPLETED and job.remote_state == "8"


@pytest.mark.parametrize(("data", "expected_days"), [
    ({"state": 4, "endTime": 10 * DAY_MS, "deletedOn": -1}, 17),  # 7 days after completion
    ({"state": 8, "endTime": 10 * DAY_MS, "deletedOn": 14 * DAY_MS}, 14),  # the service's own date
    ({"state": 5, "endTime": 10 * DAY_MS, "deletedOn": -1}, None),  # failed: no results to lose
    ({"state": 2, "endTime": 0, "deletedOn": -1}, None),  # still running
    ({"state": 7, "endTime": 10 * DAY_MS, "deletedOn": -1}, None),  # retired: already gone, date unknown
    ({"state": 4, "endTime": 0, "deletedOn": -1}, None),  # completed without an end time: unknown
], ids=["completed", "deleted-on", "failed", "running", "retired", "no-end-time"])
def test_expiry_of__cloudgene_rules(data, expected_days):
    remote = read_job("https://x", {"id": "job-1", **data})
    expected = None if expected_days is None else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=expected_days)
    assert remote.expires_at == expected == expiry_of({"id": "job-1", **data}, remote)


def test_restartable__only_dead_cloudgene_jobs():
    from fedimpute.services import adapter_class

    cloudgene, wes = adapter_class("cloudgene"), adapter_class("wes")
    assert cloudgene.restartable("-1") and not any(cloudgene.restartable(str(c)) for c in STATES if c != -1)
    assert not wes.can_restart and not wes.restartable("-1")
    assert RemoteJob(remote_id="x", status=JobStatus.FAILED, remote_state="-1").expires_at is None


def test_store__new_deletion_date_rearms_the_warning(store):
    """A restarted or extended job gets its own warning: the old one was about another date."""
    when = datetime(2030, 1, 8, tzinfo=UTC)
    job = store.add_job(Job(service="michigan", owner="t", status=JobStatus.COMPLETED, expires_at=when))
    assert [j.job_id for j in store.expiring_jobs(when)] == [job.job_id]
    assert store.warn_expiry(job.job_id, "soon", when - timedelta(hours=2)) is True
    assert store.warn_expiry(job.job_id, "soon", when - timedelta(hours=1)) is False and not store.expiring_jobs(when)
    store.update_job(job.job_id, expires_at=when)  # the same date: still warned
    assert not store.expiring_jobs(when)
    store.update_job(job.job_id, expires_at=when + timedelta(days=1))
    assert [j.job_id for j in store.expiring_jobs(when + timedelta(days=1))] == [job.job_id]
    assert [e.detail for e in store.job_events(job.job_id)].count("soon") == 1


def test_migration_0005__upgrades_a_store_with_jobs(tmp_path):
    """A store made before expiry existed keeps its jobs; they get no deletion date (unknown)."""
    import shutil

    import duckdb

    from fedimpute.paths import DB_FILENAME
    from fedimpute.store.migrations import MIGRATIONS_DIR, apply_migrations

    old = tmp_path / "sql"
    old.mkdir()
    for f in sorted(MIGRATIONS_DIR.glob("000[1-4]_*.sql")):
        shutil.copy(f, old / f.name)
    home = tmp_path / "home"
    home.mkdir()
    db = home / DB_FILENAME
    assert apply_migrations(db, old) == [1, 2, 3, 4]
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO jobs (job_id, service, owner, status, created_at, updated_at) "
                    "VALUES ('fi-old', 'michigan', 't', 'completed', now(), now())")
    assert 5 in apply_migrations(db)
    job = Store(home).get_job("fi-old")
    assert job.status is JobStatus.COMPLETED and job.expires_at is None
