"""The dashboard's Restart button, results expiry and uptime strips, at the param-state level."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bokeh.document import Document

from fedimpute.catalogue import make_service
from fedimpute.models import HealthRecord, HealthStatus, Job, JobStatus, ResultFile, utcnow
from fedimpute.services.base import SubmitOptions
from fedimpute.ui import JobDetail, ServiceCatalogue
from fedimpute.ui.components.job_detail import summary_rows
from fedimpute.ui.state import HubState, JobDetailState, JobListState
from fedimpute.ui.uptime import SLOTS, uptime_strip
from tests.cloudgene_server.fixtures import ALICE_TOKEN
from tests.vcfgen import write_vcf

UP, DOWN, MAINTENANCE, UNKNOWN = HealthStatus.UP, HealthStatus.DOWN, HealthStatus.MAINTENANCE, HealthStatus.UNKNOWN


def render(viewable) -> None:
    import panel as pn

    pn.panel(viewable).get_root(Document())


@pytest.fixture
def cloudgene_entry(store):
    """A Cloudgene service in the catalogue (nothing listens: these tests never ask it)."""
    store.add_service(make_service("cg", "cloudgene", "http://127.0.0.1:9"))
    return "cg"


def _job(store, **fields) -> str:
    return store.add_job(Job(**{"owner": "alice", "service": "cg", "remote_id": "job-1", **fields})).job_id


def test_job_detail__restart_only_for_dead_jobs_of_a_protocol_that_restarts(alice_state, store, cloudgene_entry):
    dead = _job(store, status=JobStatus.FAILED, remote_state="-1")
    failed = _job(store, status=JobStatus.FAILED, remote_state="5")
    local_dead = _job(store, service="local", status=JobStatus.FAILED, remote_state="-1")
    bobs_dead = _job(store, owner="bob", status=JobStatus.FAILED, remote_state="-1")
    detail = JobDetailState(hub_state=alice_state)
    view = JobDetail(detail=detail)
    alice_state.selected_job_id = dead
    assert detail.can_restart and view._buttons["restart"].visible and not view._buttons["restart"].disabled
    for job_id in (failed, local_dead):
        alice_state.selected_job_id = job_id
        assert not detail.can_restart and not view._buttons["restart"].visible
    admin = HubState.from_home(store.home, user="carol", admin=True)
    admin.selected_job_id = bobs_dead
    assert JobDetailState(hub_state=admin).job is not None and not JobDetailState(hub_state=admin).can_restart
    render(view)


async def test_job_detail__restart_requeues_a_dead_job_on_the_simulator(alice_state, store, cloudgene_sim,
                                                                        cloudgene_url, tmp_path):
    """We can restart our own dead job from the job detail; the service gets it back in its queue."""
    store.add_service(make_service("sim", "cloudgene", cloudgene_url))
    hub = alice_state.hub
    hub.credentials.set_token("sim", ALICE_TOKEN)
    cloudgene_sim.step_seconds = 60
    job = await hub.submit([write_vcf(tmp_path / "c.vcf.gz")], "sim", SubmitOptions(panel="hapmap-2", build="hg19"),
                           owner="alice")
    cloudgene_sim.kill(job.remote_id)
    await hub.refresh(job.job_id)
    alice_state.selected_job_id = job.job_id
    detail = JobDetailState(hub_state=alice_state)
    assert detail.can_restart and detail.job.status is JobStatus.FAILED
    await detail.restart()
    assert detail.message == f"job {job.job_id} restarted on sim"
    assert detail.job.status is JobStatus.QUEUED and not detail.can_restart
    assert ("GET", f"/api/v2/jobs/{job.remote_id}/restart") in cloudgene_sim.requests


def test_job_detail__expiry_in_summary_note_and_jobs_table(alice_state, store, cloudgene_entry, tmp_path):
    expires = utcnow() + timedelta(days=2, hours=3)
    job_id = _job(store, status=JobStatus.COMPLETED, remote_state="4", expires_at=expires)
    store.add_result_names(job_id, ["chr_20.zip"])
    alice_state.selected_job_id = job_id
    detail = JobDetailState(hub_state=alice_state)
    when = f"{expires:%Y-%m-%d %H:%M} UTC"
    assert detail.expiry == f"the service keeps the results until {when} (another 2 day(s)); download them before then"
    rows = summary_rows(detail).set_index("field")["value"]
    assert rows["expires_at"] == f"{expires:%Y-%m-%d %H:%M:%S}"
    table = JobListState(hub_state=alice_state).rows.set_index("job_id")
    assert table.loc[job_id, "expires_at"] == f"{expires:%Y-%m-%d %H:%M:%S}"
    assert table.drop(index=job_id)["expires_at"].eq("").all()  # unknown for the local jobs

    archive = tmp_path / "chr_20.zip"
    archive.write_bytes(b"PK")
    store.upsert_result_file(ResultFile(job_id=job_id, name="chr_20.zip", size=2, sha256="0" * 64, path=str(archive),
                                        downloaded_at=utcnow()))
    detail.refresh()
    assert detail.expiry.endswith("; they are downloaded")
    store.update_job(job_id, expires_at=utcnow() - timedelta(hours=1))
    detail.refresh()
    assert detail.expiry.startswith("the service deleted the results at ") and "copy is kept here" in detail.expiry


def test_uptime_strip__slots_count_checks_of_their_six_hours():
    now = utcnow()
    week = now - timedelta(days=7)
    checks = [HealthRecord(service="s", status=status, checked_at=week + timedelta(hours=h)) for h, status in (
        (-1, DOWN),                         # before the week: left out
        (1, UP), (2, UP),                   # slot 0: up
        (7, UP), (8, DOWN),                 # slot 1: partly up
        (13, MAINTENANCE), (14, UNKNOWN),   # slot 2: maintenance (unknown is left out)
        (19, DOWN),                         # slot 3: down
        (7 * 24, UP),                       # now: the last slot
    )]
    strip = uptime_strip(checks, now)
    assert len(strip) == SLOTS and strip[0].start == week and strip[-1].end == now
    assert [s.status for s in strip[:5]] == ["up", "partial", "maintenance", "down", "none"]
    assert strip[-1].status == "up" and (strip[1].up, strip[1].checks) == (1, 2)
    assert strip[1].title.endswith(": 1 of 2 check(s) up") and strip[4].title.endswith(": no check")


def test_service_catalogue__uptime_column_and_strip(alice_state, store):
    now = utcnow()
    for hours, status in ((30, UP), (20, UP), (2, DOWN)):
        store.record_health(HealthRecord(service="local", status=status, checked_at=now - timedelta(hours=hours)))
    store.record_health(HealthRecord(service="local", status=DOWN, checked_at=now - timedelta(days=9)))  # too old
    catalogue = ServiceCatalogue(state=alice_state)
    render(catalogue)
    alice_state.refresh_catalogue(fresh=True)
    assert [c.status for c in alice_state.history["local"]] == [UP, UP, DOWN]
    assert alice_state.uptime("local") == pytest.approx(2 / 3) and alice_state.uptime("michigan") is None
    rows = catalogue._table.value.set_index("name")
    assert rows.loc["local", "uptime"] == "66.7%" and rows.loc["michigan", "uptime"] == ""
    html = catalogue._strips.object
    assert html.count('class="fi-slot') == SLOTS * len(alice_state.services)
    assert "66.7% up" in html and "never checked" in html and html.count("fi-slot fi-down") == 1
