"""The Cloudgene adapter and the Hub against the local Cloudgene simulator, over real HTTP."""

from __future__ import annotations

import zipfile

import pytest

from fedimpute.catalogue import make_service
from fedimpute.credentials import Credentials
from fedimpute.exceptions import ResultError
from fedimpute.hub import Hub
from fedimpute.jobs import PreflightFailedError
from fedimpute.models import JobStatus, MessageLevel
from fedimpute.services.base import SubmitOptions
from tests.cloudgene_server.fixtures import ALICE_TOKEN
from tests.vcfgen import write_vcf


@pytest.fixture
def hub(home, cloudgene_url, monkeypatch) -> Hub:
    hub = Hub()
    hub.store.add_service(make_service("sim", "cloudgene", cloudgene_url, settings=["poll_interval=0.05"]))
    hub.credentials.set_token("sim", ALICE_TOKEN)
    return hub


@pytest.fixture
def vcf(tmp_path):
    return write_vcf(tmp_path / "cohort.chr20.vcf.gz", samples=25, sites=30)


def _gets(sim) -> int:
    return sum(1 for method, _ in sim.requests if method == "GET")


async def test_panels__discovered_live_then_cached(hub, cloudgene_sim):
    panels = await hub.panels("sim")
    assert [p.panel_id for p in panels] == ["1000g-phase-3-v5", "hapmap-2"]
    hapmap = next(p for p in panels if p.panel_id == "hapmap-2")
    assert hapmap.key == "apps@hapmap-2@2.0.0" and hapmap.build == "hg19"
    assert [x.id for x in hapmap.populations] == ["eur", "afr", "off"]
    before = len(cloudgene_sim.requests)
    assert [p.panel_id for p in await hub.panels("sim")] == ["1000g-phase-3-v5", "hapmap-2"]
    assert len(cloudgene_sim.requests) == before  # served from the store
    await hub.panels("sim", refresh=True)
    assert len(cloudgene_sim.requests) == before + 1


async def test_lifecycle__submit_follow_download_decrypt(hub, cloudgene_sim, vcf, tmp_path):
    """We can submit a VCF, follow it to completed, and get decrypted dose and info files."""
    job = await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19", population="eur",
                                                       name="study1"), owner="tester")
    assert job.status is JobStatus.QUEUED and job.remote_id.startswith("job-")
    remote = cloudgene_sim.jobs[job.remote_id]
    assert remote.params["refpanel"] == "apps@hapmap-2@2.0.0" and remote.name == f"study1 [{job.job_id}]"
    assert remote.params["aesEncryption"] == "false" and remote.params["meta"] == "false"  # left off
    assert remote.password == Credentials().password(job.job_id).get_secret_value()

    job = await hub.wait(job.job_id, timeout=60)
    assert job.status is JobStatus.COMPLETED and job.remote_state == "4"
    stored = hub.store.step_messages(job.job_id)
    sent = [(s.name, m) for s in remote.steps for m in s.messages]
    assert len(stored) == len(sent) and len(stored) >= 4
    assert [m.step for m in stored][:1] == ["Input Validation"]
    assert all("<b>" not in m.text for m in stored)
    statuses = [e.status for e in hub.store.job_events(job.job_id)]
    assert statuses[0] is JobStatus.PENDING and statuses[-1] is JobStatus.COMPLETED

    dest = tmp_path / "results"
    files = await hub.download_results(job.job_id, dest)
    names = {f["name"] for f in files}
    assert "chr_20.zip" in names and "qc_report.txt" in names
    zip_entry = next(f for f in files if f["name"] == "chr_20.zip")
    extracted = {p.split("/")[-1] for p in zip_entry["extracted"]}
    assert extracted == {"chr20.dose.vcf.gz", "chr20.info.gz"}
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in files)
    assert dict(cloudgene_sim.download_gets) == {name: 1 for name in names}

    # A second download makes no request at all: every file is verified on disk.
    before = len(cloudgene_sim.requests)
    again = await hub.download_results(job.job_id, dest)
    assert len(cloudgene_sim.requests) == before
    assert {f["sha256"] for f in again} == {f["sha256"] for f in files}


async def test_lifecycle__aes_and_md5_sidecars(hub, cloudgene_sim, vcf, tmp_path):
    cloudgene_sim.md5_sidecars = True
    job = await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19", aes=True), owner="t")
    assert cloudgene_sim.jobs[job.remote_id].params.get("aesEncryption") == "true"
    await hub.wait(job.job_id, timeout=60)
    files = await hub.download_results(job.job_id, tmp_path / "r")
    assert "chr_20.zip.md5" in {f["name"] for f in files}
    with zipfile.ZipFile(tmp_path / "r" / "chr_20.zip") as zf:
        assert all(i.compress_type == 99 for i in zf.infolist())  # WinZip AES
    assert any(f["extracted"] for f in files)


async def test_cancel__running_job_reaches_remote_state_6(hub, cloudgene_sim, vcf):
    cloudgene_sim.step_seconds = 30  # slow enough to catch it running
    job = await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t")
    cloudgene_sim.advance(job.remote_id)  # queued -> running
    job, _ = await hub.refresh(job.job_id)
    assert job.status is JobStatus.RUNNING
    job = await hub.cancel(job.job_id)
    assert job.status is JobStatus.CANCELLED and job.remote_state == "6"
    assert cloudgene_sim.jobs[job.remote_id].state == 6
    assert [e.status for e in hub.store.job_events(job.job_id)][-1] is JobStatus.CANCELLED


async def test_qc_failure__too_few_samples(hub, cloudgene_sim, tmp_path):
    small = write_vcf(tmp_path / "small.vcf.gz", samples=5)
    with pytest.raises(PreflightFailedError, match="pre-flight check failed for sim"):
        await hub.submit([small], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t")
    assert hub.store.list_jobs() == [] and not cloudgene_sim.jobs  # nothing recorded, nothing sent
    # the server's own QC, when the check is skipped explicitly
    job = await hub.submit([small], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t", check=False)
    job = await hub.wait(job.job_id, timeout=60)
    assert job.status is JobStatus.FAILED and job.remote_state == "5"
    assert "At least 20 samples must be uploaded." in job.error
    errors = [m for m in hub.store.step_messages(job.job_id) if m.level is MessageLevel.ERROR]
    assert errors and errors[0].step == "Input Validation"


async def test_server_written_password__moved_to_keyring_and_redacted(hub, cloudgene_sim, vcf, home):
    """A password the server generates and writes into a message never reaches DuckDB."""
    async with hub.adapter("sim") as adapter:  # bypass the Hub: no password is sent
        remote_id = await adapter.submit([vcf], SubmitOptions(panel="hapmap-2", build="hg19"), job_name="x")
    from fedimpute.models import Job

    job = hub.store.add_job(Job(service="sim", owner="t", remote_id=remote_id))
    hub.store.update_job(job.job_id, status=JobStatus.QUEUED, remote_id=remote_id)
    server_pw = cloudgene_sim.jobs[remote_id].password
    assert cloudgene_sim.jobs[remote_id].password_generated
    job = await hub.wait(job.job_id, timeout=60)
    assert job.status is JobStatus.COMPLETED
    assert hub.credentials.password(job.job_id).get_secret_value() == server_pw
    texts = " ".join(m.text for m in hub.store.step_messages(job.job_id))
    assert "[password stored by fedimpute]" in texts and server_pw not in texts
    for f in home.iterdir():
        if f.name.startswith("fedimpute.duckdb"):
            assert server_pw.encode() not in f.read_bytes()
    files = await hub.download_results(job.job_id)  # and the moved password opens the archive
    assert any(f["extracted"] for f in files)


async def test_dead_job__restart(hub, cloudgene_sim, vcf):
    cloudgene_sim.step_seconds = 30
    job = await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t")
    cloudgene_sim.kill(job.remote_id)
    job, remote = await hub.refresh(job.job_id)
    assert job.status is JobStatus.FAILED and remote.restartable and job.remote_state == "-1"
    job = await hub.restart(job.job_id)
    assert job.status is JobStatus.QUEUED
    job, _ = await hub.refresh(job.job_id)
    assert job.status in (JobStatus.QUEUED, JobStatus.RUNNING)


async def test_retired_job__download_refused_clearly(hub, cloudgene_sim, vcf):
    job = await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t")
    await hub.wait(job.job_id, timeout=60)
    cloudgene_sim.retire(job.remote_id)
    with pytest.raises(ResultError, match="deleted the results"):
        await hub.download_results(job.job_id)
    assert hub.store.get_job(job.job_id).status is JobStatus.COMPLETED  # 7 after 4 stays completed


async def test_quota__third_job_waits_pending_instead_of_failing(hub, cloudgene_sim, vcf):
    cloudgene_sim.step_seconds = 30
    for _ in range(2):
        await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t")
    third = await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t")
    assert third.status is JobStatus.PENDING and third.remote_id is None
    assert "waiting for a free slot on sim" in third.error and "Only 2 jobs per user" in third.error
    assert hub.store.tracking(third.job_id)["submit_state"] == "waiting_for_slot"
    assert len(cloudgene_sim.jobs) == 2


async def test_token__verify_and_health(hub, cloudgene_sim):
    health, token = await hub.check_service("sim")
    assert health.status.value == "up" and token.valid and token.user == "alice"
    assert token.expires_at is not None
    cloudgene_sim.maintenance = True
    health, _ = await hub.check_service("sim")
    assert health.status.value == "maintenance"
    assert hub.store.health_of("sim").status.value == "maintenance"


async def test_upload_progress__reported(hub, vcf):
    seen = []
    await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t",
                     progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] and seen[-1][1] > vcf.stat().st_size
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_evil_archive__refused_nothing_outside_job_folder(hub, cloudgene_sim, vcf, tmp_path):
    """A result zip with `../evil` or an absolute member is refused by the whole download flow."""
    job = await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t")
    await hub.wait(job.job_id, timeout=60)
    remote = cloudgene_sim.jobs[job.remote_id]
    (zip_file,) = [f for f in remote.files if f.name == "chr_20.zip"]
    with zipfile.ZipFile(zip_file.path, "w") as zf:
        zf.writestr("chr20.info.gz", b"ok")
        zf.writestr(zipfile.ZipInfo("../evil"), b"evil")
        zf.writestr(zipfile.ZipInfo("/tmp/fedimpute-absolute-evil"), b"evil")
    zip_file.size = zip_file.path.stat().st_size
    job_dir = tmp_path / "jobs" / job.job_id
    with pytest.raises(ResultError, match="outside"):
        await hub.download_results(job.job_id, job_dir)
    assert not (job_dir.parent / "evil").exists() and not (tmp_path / "evil").exists()
    assert not __import__("pathlib").Path("/tmp/fedimpute-absolute-evil").exists()
    assert not (job_dir / "chr20.info.gz").exists()  # refused before anything was extracted


async def test_list_jobs__follows_pages(hub, cloudgene_sim, vcf):
    cloudgene_sim.max_running_per_user = 100
    cloudgene_sim.step_seconds = 60
    async with hub.adapter("sim") as adapter:
        ids = {await adapter.submit([vcf], SubmitOptions(panel="hapmap-2"), job_name=f"j{i}") for i in range(17)}
        before = len(cloudgene_sim.requests)
        listed = await adapter.list_jobs()
    assert {j.remote_id for j in listed} == ids
    assert len(cloudgene_sim.requests) - before == 2  # 15 per page
    assert {j.status for j in listed} <= {JobStatus.QUEUED, JobStatus.RUNNING}
    assert sorted(j.queue_position or 0 for j in listed)[-1] == 15  # 16 waiting behind the running one
