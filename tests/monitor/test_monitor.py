"""The monitor against the local Cloudgene simulator: efficient, polite, resilient, fan-out, quotas."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from fedimpute.catalogue import make_service
from fedimpute.hub import Hub
from fedimpute.models import JobStatus, utcnow
from fedimpute.monitor import Monitor, MonitorBusyError
from fedimpute.services.base import SubmitOptions
from tests.cloudgene_server import Fault
from tests.cloudgene_server.fixtures import ALICE_TOKEN, sim_hub
from tests.vcfgen import write_vcf

OPTS = SubmitOptions(panel="hapmap-2", build="hg19")


@pytest.fixture
def hub(home, cloudgene_url) -> Hub:
    return sim_hub(cloudgene_url)


@pytest.fixture
def vcf(tmp_path):
    return write_vcf(tmp_path / "c.vcf.gz")


async def _until_idle(monitor: Monitor, sim, *, rounds: int = 200) -> None:
    for _ in range(rounds):
        await monitor.sweep(force=True)
        if not monitor.store.jobs_to_visit(include_not_due=True):
            return
        sim.advance()
        await asyncio.sleep(0.02)
    raise AssertionError("jobs did not finish")


async def test_sweep__lists_once_and_details_only_what_changed(hub, cloudgene_sim, vcf):
    cloudgene_sim.max_running_per_user = 100
    cloudgene_sim.step_seconds = 60
    jobs = [await hub.submit([vcf], "sim", OPTS, owner="t") for _ in range(20)]
    monitor = Monitor(hub)
    first = await monitor.sweep(force=True)
    assert first.polled == 20 and first.errors == 0
    # 1 unpaged list + the detail of the one running job + the queued jobs seen for the first time
    before = len(cloudgene_sim.requests)
    second = await monitor.sweep(force=True)
    assert second.requests == len(cloudgene_sim.requests) - before
    assert second.requests == 2  # the list, and the running job's detail (for its step messages)
    assert {monitor.store.get_job(j.job_id).status for j in jobs} == {JobStatus.QUEUED, JobStatus.RUNNING}


async def test_sweep__polls_politely_by_interval(hub, cloudgene_sim, vcf):
    hub.store.add_service(make_service("sim", "cloudgene", hub.store.get_service("sim").url,
                                       settings=["poll_interval=3600"]), replace=True)
    cloudgene_sim.step_seconds = 60
    await hub.submit([vcf], "sim", OPTS, owner="t")
    monitor = Monitor(hub)
    assert (await monitor.sweep()).polled == 1
    again = await monitor.sweep()
    assert again.polled == 0 and again.requests == 0  # not due for an hour


async def test_watch__completes_and_downloads(hub, cloudgene_sim, vcf):
    jobs = [await hub.submit([vcf], "sim", OPTS, owner="t") for _ in range(2)]
    monitor = Monitor(hub)
    await asyncio.wait_for(monitor.watch(tick=0.1), timeout=60)
    for job in jobs:
        got = hub.store.get_job(job.job_id)
        assert got.status is JobStatus.COMPLETED
        assert hub.store.tracking(job.job_id)["results_state"] == "downloaded"
        assert all(r.sha256 for r in hub.store.result_files(job.job_id))
    assert all(n == len(jobs) for n in cloudgene_sim.download_gets.values())  # one GET per file and job


async def test_watch__an_archive_refused_when_unpacked_is_not_fetched_again(hub, cloudgene_sim, vcf):
    """A wrong result password (as for any refusal when unpacking) is final for the monitor: it says
    so, and later sweeps neither download nor hash the files again."""
    job = await hub.submit([vcf], "sim", OPTS, owner="t")
    hub.credentials.set_password(job.job_id, "not-the-password-the-service-used")
    monitor = Monitor(hub)
    await asyncio.wait_for(monitor.watch(tick=0.1), timeout=60)
    tracking = hub.store.tracking(job.job_id)
    assert tracking["results_state"] == "refused" and "password" in tracking["results_error"]
    gets = dict(cloudgene_sim.download_gets)
    assert (await monitor.sweep()).requests == 0 and dict(cloudgene_sim.download_gets) == gets


@pytest.mark.parametrize("fault", [
    Fault(r"^/api/v2/jobs", "status", times=3, status=500),
    Fault(r"^/api/v2/jobs", "html", times=3),
    Fault(r"^/api/v2/jobs", "status", times=3, status=503),
    Fault(r"^/api/v2/jobs", "malformed", times=3),
    Fault(r"^/api/v2/jobs", "reset", times=3),
    Fault(r"^/api/v2/jobs", "delay", times=2, seconds=3.0),
], ids=["500", "502-html", "503", "malformed-json", "connection-reset", "timeout"])
async def test_faults__monitor_survives_and_nothing_fails(hub, cloudgene_sim, vcf, fault):
    jobs = [await hub.submit([vcf], "sim", OPTS, owner="t") for _ in range(2)]
    import httpx

    from fedimpute._http import build_client

    hub._client_factory = lambda s: build_client(s.url, timeout=httpx.Timeout(1.0))  # so a 3 s delay times out
    cloudgene_sim.faults.append(fault)
    monitor = Monitor(hub)
    errors = 0
    for _ in range(300):
        monitor._service_backoff.clear()  # the test does not wait out the back-off
        result = await monitor.sweep(force=True)
        errors += result.errors
        assert all(hub.store.get_job(j.job_id).status is not JobStatus.FAILED for j in jobs)
        if all(hub.store.get_job(j.job_id).status is JobStatus.COMPLETED for j in jobs):
            break
        cloudgene_sim.advance()
        await asyncio.sleep(0.02)
    assert errors >= 1  # the fault really hit the monitor
    assert all(hub.store.get_job(j.job_id).status is JobStatus.COMPLETED for j in jobs)
    if fault.status == 503:
        assert any(r.status.value == "maintenance" for r in [hub.store.health_of("sim")]) or errors


async def test_token_refused__stops_polling_that_service(hub, cloudgene_sim, vcf):
    job = await hub.submit([vcf], "sim", OPTS, owner="t")
    cloudgene_sim.expire_token(ALICE_TOKEN)
    monitor = Monitor(hub)
    result = await monitor.sweep(force=True)
    assert result.errors == 1 and "fedimpute login sim" in result.messages[0]
    assert monitor.is_blocked("sim", "t") and "token refused" in hub.store.health_of("sim").detail  # the shared one
    again = await monitor.sweep(force=True)
    assert again.requests == 0
    assert hub.store.get_job(job.job_id).status is not JobStatus.FAILED


async def test_quota__refused_job_goes_out_in_the_sweep_that_sees_a_slot_free(hub, cloudgene_sim, vcf):
    cloudgene_sim.max_running_per_user = 1  # the service's quota; the catalogue does not know it
    cloudgene_sim.step_seconds = 3600  # nothing moves unless the test advances it
    first = await hub.submit([vcf], "sim", OPTS, owner="t")
    second = await hub.submit([vcf], "sim", OPTS, owner="t")
    assert second.status is JobStatus.PENDING
    assert hub.store.tracking(second.job_id)["submit_state"] == "waiting_for_slot"
    assert cloudgene_sim.quota_refusals == 1
    monitor = Monitor(hub)
    for _ in range(3):  # the first job runs: the refused one is not uploaded again
        await monitor.sweep(force=True)
    assert cloudgene_sim.quota_refusals == 1 and len(cloudgene_sim.jobs) == 1
    while hub.store.get_job(first.job_id).status is not JobStatus.COMPLETED:
        cloudgene_sim.advance(first.remote_id)
        await monitor.sweep(force=True)
    # the sweep that recorded the first job's end sent the second one
    assert hub.store.get_job(second.job_id).remote_id is not None and len(cloudgene_sim.jobs) == 2
    await _until_idle(monitor, cloudgene_sim)
    assert hub.store.get_job(second.job_id).status is JobStatus.COMPLETED
    assert cloudgene_sim.quota_refusals == 1


async def test_quota__max_concurrent_jobs_holds_jobs_back_before_any_upload(hub, cloudgene_sim, vcf):
    hub.store.add_service(make_service("sim", "cloudgene", hub.store.get_service("sim").url,
                                       settings=["poll_interval=0", "max_concurrent_jobs=1"]), replace=True)
    cloudgene_sim.max_running_per_user = 1
    cloudgene_sim.step_seconds = 3600
    jobs = await asyncio.gather(*(hub.submit([vcf], "sim", OPTS, owner="t") for _ in range(3)))
    assert sorted(j.status.value for j in jobs) == ["pending", "pending", "queued"]
    assert len(cloudgene_sim.jobs) == 1 and cloudgene_sim.quota_refusals == 0
    waiting = [j for j in jobs if j.status is JobStatus.PENDING]
    assert all("max_concurrent_jobs" in (j.error or "") for j in waiting)
    assert {hub.store.tracking(j.job_id)["submit_state"] for j in waiting} == {"waiting_for_slot"}
    monitor = Monitor(hub)
    for _ in range(200):
        await monitor.sweep(force=True)
        statuses = [hub.store.get_job(j.job_id).status for j in jobs]
        assert sum(s in (JobStatus.QUEUED, JobStatus.RUNNING) for s in statuses) <= 1
        if not monitor.store.jobs_to_visit(include_not_due=True):
            break
        running = [j for j in cloudgene_sim.jobs.values() if j.due is not None]
        if running:
            cloudgene_sim.advance(running[0].id)
    assert all(hub.store.get_job(j.job_id).status is JobStatus.COMPLETED for j in jobs)
    assert cloudgene_sim.peak_in_engine == {"alice": 1}
    assert cloudgene_sim.quota_refusals <= 1 and len(cloudgene_sim.jobs) == 3


async def test_quota__refused_job_falls_back_to_a_timer(hub, cloudgene_sim, vcf):
    """Slots taken by jobs fedimpute does not know (submitted on the web) free no event here."""
    cloudgene_sim.max_running_per_user = 1
    cloudgene_sim.step_seconds = 3600
    await hub.submit([vcf], "sim", OPTS, owner="t")
    job = await hub.submit([vcf], "sim", OPTS, owner="t")
    after = hub.store.tracking(job.job_id)["submit_after"]
    assert after is not None and after > utcnow() + timedelta(minutes=4)


async def test_fan_out__parent_follows_children(hub, cloudgene_url, cloudgene_sim, vcf):
    hub.store.add_service(make_service("sim2", "cloudgene", cloudgene_url, settings=["poll_interval=0"]))
    hub.credentials.set_token("sim2", ALICE_TOKEN)
    parent, children = await hub.submit_many([vcf], ["sim", "sim2"], OPTS, owner="t")
    assert {c.parent_id for c in children} == {parent.job_id} and len(children) == 2
    assert hub.store.get_job(parent.job_id).status in (JobStatus.QUEUED, JobStatus.RUNNING)
    await _until_idle(Monitor(hub), cloudgene_sim)
    assert hub.store.get_job(parent.job_id).status is JobStatus.COMPLETED


async def test_lease__second_monitor_is_refused_while_the_first_holds_it(hub):
    a, b = Monitor(hub), Monitor(hub)
    assert a.acquire()
    with pytest.raises(MonitorBusyError, match="another monitor"):
        await b.sweep()
    a.release()
    assert b.acquire()


async def test_lease__a_lone_sweep_gives_it_back(hub):
    await Monitor(hub).sweep()
    assert hub.store.lease_holder("monitor") is None


async def test_lease__dead_holder_is_replaced_at_once(hub):
    hub.store.acquire_lease("monitor", "somehost-that-is-this:999999999:abcdef".replace(
        "somehost-that-is-this", __import__("socket").gethostname()), ttl=3600)
    assert Monitor(hub).acquire()
