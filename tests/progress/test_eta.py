"""ETAs from the lab's history: a replay of finished jobs of known durations in a real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from fedimpute.catalogue import make_service
from fedimpute.jobs.eta import EtaModel, Run, etas
from fedimpute.models import Job, JobStatus
from fedimpute.store._rows import to_db_time
from tests.progress.history import T0, add_finished, add_inputs

RUN_MINUTES = [100, 120, 125, 130, 140, 150, 155, 160, 175, 200]


@pytest.fixture
def history(store):
    store.add_service(make_service("sim", "cloudgene", "http://127.0.0.1:9"))
    for i, minutes in enumerate(RUN_MINUTES):
        add_finished(store, start=T0 + timedelta(hours=6 * i), queue_min=10 + i, run_min=minutes)
    return store


def _running(store, started: datetime) -> Job:
    """A job seen running since ``started`` (its event at that time, as the monitor writes it)."""
    job = store.add_job(Job(service="sim", owner="alice", panel="hapmap-2", build="hg19",
                            options={"phasing": "eagle"}, status=JobStatus.QUEUED, created_at=started))
    with store.tx() as con:
        con.execute("INSERT INTO job_events (job_id, time, old_status, status) VALUES (?, ?, 'queued', 'running')",
                    [job.job_id, to_db_time(started)])
        con.execute("UPDATE jobs SET status = 'running', started_at = ? WHERE job_id = ?",
                    [to_db_time(started), job.job_id])
    return store.get_job(job.job_id)


def test_replay__ten_past_jobs_give_an_interval_holding_the_real_duration(history):
    """A new job that ran 145 minutes: at its start the interval (2nd to 9th of 10) covers it."""
    start = T0 + timedelta(days=5)
    job = _running(history, start)
    eta = etas(history, [job], now=start)[job.job_id]
    assert eta is not None and eta.based_on == 10 and eta.match == ("service", "panel", "build", "phasing")
    assert (eta.low, eta.finish_at, eta.high) == (start + timedelta(minutes=120), start + timedelta(minutes=145),
                                                  start + timedelta(minutes=175))
    real_finish = start + timedelta(minutes=145)
    assert eta.low <= real_finish <= eta.high


def test_replay__two_past_jobs_give_no_eta(store, cli):
    store.add_service(make_service("sim", "cloudgene", "http://127.0.0.1:9"))
    for i in range(2):
        add_finished(store, start=T0 + timedelta(hours=i), queue_min=5, run_min=100)
    job = _running(store, T0 + timedelta(days=1))
    assert etas(store, [job])[job.job_id] is None
    assert json.loads(cli("jobs", "show", job.job_id, "--json", "--offline").stdout)["eta"] is None


def test_running_job__compared_with_jobs_that_ran_longer_only(history):
    start = T0 + timedelta(days=5)
    job = _running(history, start)
    later = etas(history, [job], now=start + timedelta(minutes=157))[job.job_id]  # 3 runs were longer
    assert later is not None and later.based_on == 3 and later.low == start + timedelta(minutes=160)
    assert etas(history, [job], now=start + timedelta(minutes=170))[job.job_id] is None  # longer than 8 of 10


def test_queued_job__queue_wait_and_run_time_together(history):
    queued = history.add_job(Job(service="sim", owner="alice", panel="hapmap-2", build="hg19",
                                 options={"phasing": "eagle"}, status=JobStatus.QUEUED, created_at=T0,
                                 submitted_at=T0))
    since = history.status_times([queued.job_id])[queued.job_id]["queued"]
    eta = etas(history, [queued], now=since)[queued.job_id]
    assert eta is not None and eta.finish_at == since + timedelta(minutes=(140 + 14 + 150 + 15) / 2)


def test_cli__jobs_list_json_carries_the_eta(history, cli):
    start = datetime.now(UTC) - timedelta(minutes=1)
    job = _running(history, start)
    listed = {j["job_id"]: j for j in json.loads(cli("jobs", "list", "--json").stdout)}
    eta = listed[job.job_id]["eta"]
    assert set(eta) >= {"finish_at", "low", "high", "based_on"} and eta["based_on"] == 10
    assert listed[job.job_id]["progress"] is None  # no report from the service yet: unknown
    done = [j for j in listed.values() if j["status"] == "completed"]
    assert done and all(j["eta"] is None for j in done)


def test_size__run_time_scales_with_samples_times_variants(store):
    store.add_service(make_service("sim", "cloudgene", "http://127.0.0.1:9"))
    for i, samples in enumerate([100, 200, 400, 800]):  # 1 minute per 100 samples x 1000 variants
        add_finished(store, start=T0 + timedelta(hours=i), queue_min=0, run_min=samples / 100, samples=samples,
                     variants=1000)
    start = T0 + timedelta(days=1)
    job = _running(store, start)
    add_inputs(store, job.job_id, 1000, 2000)
    eta = etas(store, [job], now=start)[job.job_id]
    assert eta is not None and eta.scaled and eta.low == eta.high == start + timedelta(minutes=20)


def test_match__loosens_to_the_service_when_the_panel_has_too_few_jobs(history):
    model = EtaModel.from_store(history)
    runs, keys = model.comparable({"service": "sim", "panel": "other", "build": "hg19", "phasing": "eagle"})
    assert keys == ("service",) and len(runs) == 10
    assert EtaModel([Run("a", None, None, None, 1.0, 60.0)] * 2).comparable({"service": "a"}) == ([], ())
