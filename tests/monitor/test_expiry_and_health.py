"""The monitor's expiry warnings and service health checks, with a simulated clock (never a sleep),
against the local Cloudgene simulator."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from fedimpute.catalogue import make_service
from fedimpute.hub import Hub
from fedimpute.models import HealthStatus, JobStatus, utcnow
from fedimpute.monitor import Monitor
from fedimpute.services.base import SubmitOptions
from tests.cloudgene_server.fixtures import ALICE_TOKEN, sim_hub
from tests.conftest import run_cli
from tests.vcfgen import write_vcf

OPTS = SubmitOptions(panel="hapmap-2", build="hg19")


@pytest.fixture
def hub(home, cloudgene_url) -> Hub:
    return sim_hub(cloudgene_url, only_sim=True)  # the public services are never contacted by tests


@pytest.fixture
def vcf(tmp_path):
    return write_vcf(tmp_path / "c.vcf.gz")


async def _completed(hub: Hub, sim, vcf, monitor: Monitor):
    """A job the simulator ran to the end, seen completed by one sweep."""
    job = await hub.submit([vcf], "sim", OPTS, owner="t")
    sim.run_to_end(job.remote_id)
    await monitor.sweep(force=True)
    job = hub.store.get_job(job.job_id)
    assert job.status is JobStatus.COMPLETED and job.expires_at is not None
    return job


def _warnings(hub: Hub, job_id: str) -> list[str]:
    return [e.detail for e in hub.store.job_events(job_id) if "deletes the results" in e.detail]


async def test_expiry_warning__once_within_a_day_of_deletion(hub, cloudgene_sim, vcf, caplog):
    """We get one warning (log and job event) when undownloaded results are a day from deletion."""
    monitor = Monitor(hub, auto_download=False)
    job = await _completed(hub, cloudgene_sim, vcf, monitor)
    expires = job.expires_at
    monitor.clock = lambda: expires - timedelta(hours=25)
    result = await monitor.sweep()
    assert _warnings(hub, job.job_id) == [] and result.messages == []

    monitor.clock = lambda: expires - timedelta(hours=23)
    with caplog.at_level(logging.WARNING, logger="fedimpute.monitor"):
        result = await monitor.sweep()
    (warning,) = _warnings(hub, job.job_id)
    assert f"sim deletes the results at {expires:%Y-%m-%d %H:%M} UTC (in 23 h)" in warning
    assert f"`fedimpute results download {job.job_id}`" in warning
    assert any(job.job_id in r.getMessage() and "in 23 h" in r.getMessage() for r in caplog.records)
    assert result.messages == [f"{job.job_id}: {warning}"]
    assert hub.store.job_events(job.job_id)[-1].status is JobStatus.COMPLETED  # a note, not a status change

    monitor.clock = lambda: expires - timedelta(hours=2)  # later sweeps, and another monitor, stay quiet
    await monitor.sweep()
    other = Monitor(hub, auto_download=False)
    other.clock = monitor.clock
    await other.sweep()
    assert len(_warnings(hub, job.job_id)) == 1


async def test_expiry_warning__not_for_downloaded_results(hub, cloudgene_sim, vcf):
    monitor = Monitor(hub)  # downloads what completes, well before the deletion date
    job = await _completed(hub, cloudgene_sim, vcf, monitor)
    await monitor.sweep()  # the sweep after the one that saw it completed fetches the results
    assert hub.store.tracking(job.job_id)["results_state"] == "downloaded"
    monitor.clock = lambda: job.expires_at - timedelta(hours=1)
    await monitor.sweep()
    assert _warnings(hub, job.job_id) == []


async def test_health__checked_at_most_once_per_period_across_monitors(hub, cloudgene_sim, monkeypatch):
    """The period between checks comes from the store: a new monitor (another process) keeps it."""
    monkeypatch.setenv("FEDIMPUTE_HEALTH_PERIOD", "900")
    server_gets = lambda: sum(1 for m, p in cloudgene_sim.requests if (m, p) == ("GET", "/api/v2/server"))  # noqa: E731
    start = utcnow()
    first = Monitor(hub)
    first.clock = lambda: start
    result = await first.sweep()
    assert server_gets() == 1 and result.requests == 1  # the health check is counted with the sweep
    (check,) = hub.store.health_history("sim", start - timedelta(hours=1)).checks
    assert check.status is HealthStatus.UP and check.checked_at == start

    await first.sweep()
    proc = run_cli("jobs", "refresh", "--json")  # another process, on the real clock, within the period
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["requests"] == 0 and server_gets() == 1

    later = Monitor(hub)
    later.clock = lambda: start + timedelta(minutes=14)
    await later.sweep()
    assert server_gets() == 1
    later.clock = lambda: start + timedelta(minutes=16)
    cloudgene_sim.maintenance = True
    await later.sweep()
    assert server_gets() == 2
    history = hub.store.health_history("sim", start - timedelta(hours=1))
    assert [c.status for c in history.checks] == [HealthStatus.UP, HealthStatus.MAINTENANCE]
    assert history.uptime == 0.5


async def test_health__a_service_that_does_not_answer_is_down(hub, monkeypatch):
    monkeypatch.setenv("FEDIMPUTE_HEALTH_PERIOD", "900")
    hub.store.add_service(make_service("gone", "cloudgene", "http://127.0.0.1:9"))  # nothing listens there
    monitor = Monitor(hub)
    await monitor.sweep()
    latest = hub.store.latest_health()
    assert latest["gone"].status is HealthStatus.DOWN and "could not reach the service" in latest["gone"].detail
    assert latest["sim"].status is HealthStatus.UP


async def test_health__off_when_the_period_is_0(hub, cloudgene_sim):
    """The test suite's setting (conftest): monitors leave the services' health alone."""
    await Monitor(hub).sweep()
    assert hub.store.latest_health() == {} and cloudgene_sim.requests == []
