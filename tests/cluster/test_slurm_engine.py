"""The local engine on a real Slurm: the CI fixture through ``--runner toil --batch-system slurm``.

The workflow's steps (and, with chunking, each chunk) must run as separate Slurm jobs, and the
result must be the cwltool run's: the same sites, and r² against the simulation's truth within 0.01
per MAF bin.  Slurm accounting (slurmdbd) is not set up; the jobs of a run are found by the comment
the engine gives them (``scontrol show job``, finished jobs kept for an hour) and in the job
completion log that ``sacct --completion`` reads.
"""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from fedimpute.catalogue import make_service
from fedimpute.engine.sapporo import SapporoServer
from fedimpute.engine.workflow import workflow_path
from fedimpute.models import JobStatus, SubmitOptions
from fedimpute.services.wes import WesService
from tests.engine.conftest import FIXTURE
from tests.engine.test_toil_runner import (
    assert_same_quality,
    download_all,
    local_adapter,
    run_ci_fixture,
)
from tests.services.contract import poll_until
from tests.vcfgen import write_vcf
from tests.waiting import wait_for
from tests.wes_fixtures import DATA

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

# Four ~300 kb chunks of the 1 Mb fixture. The flank is the one tests/engine/test_chunking.py found to keep
# every MAF bin within 0.01 of the unchunked run (100 kb flanks cost the <0.5% bin 0.07 r² on this
# simulation: rare variants need long shared haplotypes), so the comparison below is with plain cwltool.
CHUNK_SIZE, CHUNK_FLANK = 300_000, 500_000


def slurm_jobs(comment: str) -> dict[str, dict[str, str]]:
    """Slurm's jobs carrying ``comment`` (the engine tags each run's jobs), by job id."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True, check=True).stdout
    jobs = {}
    for line in out.splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        if fields.get("Comment") == comment:
            jobs[fields["JobId"]] = fields
    return jobs


def completion_log_ids(ids: list[str]) -> set[str]:
    out = subprocess.run(["sacct", "--completion", "-n", "-P", "-o", "JobID,State", "-j", ",".join(ids)],
                         capture_output=True, text=True, check=True).stdout
    return {line.split("|")[0] for line in out.splitlines() if line.endswith("|COMPLETED")}


def grid_chunks(vcf: Path, size: int) -> int:
    """Chunks on the servers' fixed grid (1..size, size+1..2*size, ...) holding target sites."""
    out = subprocess.run(["bcftools", "query", "-f", "%POS\n", str(vcf)], capture_output=True, text=True,
                         check=True).stdout
    return len({(int(pos) - 1) // size for pos in out.split()})


def sites(vcf: Path) -> list[str]:
    return subprocess.run(["bcftools", "query", "-f", "%CHROM:%POS:%REF:%ALT\n", str(vcf)], capture_output=True,
                          text=True, check=True).stdout.split()


@pytest.fixture(scope="module")
def slurm_sapporo(slurm_cluster, tmp_path_factory):
    server = SapporoServer(tmp_path_factory.mktemp("slurm-engine"), runner="toil", batch_system="slurm",
                           max_cores=2, toil_work_dir=tmp_path_factory.mktemp("toil-shared"))
    with server:
        yield server


async def test_cluster__ci_fixture_runs_as_slurm_jobs_like_cwltool(slurm_sapporo, ci_panel, sapporo,
                                                                   sapporo_tokens, tmp_path):
    extra = {"chunk_size": CHUNK_SIZE, "chunk_flank": CHUNK_FLANK}
    async with httpx.AsyncClient(timeout=60) as client:
        adapter = local_adapter(slurm_sapporo, client, extra=extra)
        job, seconds = await run_ci_fixture(adapter)
        assert job.status is JobStatus.COMPLETED, (job.remote_state, job.error)
        await download_all(adapter, job, tmp_path / "slurm")
    # after a success nothing of Toil's is kept: not in the shared work folder, not in the run
    assert not list(slurm_sapporo.toil_work_dir.iterdir()) and not (
        slurm_sapporo.run_dir(job.remote_id) / "toil-logs").exists()
    jobs = slurm_jobs(f"fedimpute-run-{job.remote_id}")
    names = sorted(j["JobName"] for j in jobs.values())
    print(f"toil on slurm: {seconds:.1f} s, {len(jobs)} Slurm jobs: {names}")
    assert len(jobs) > 1, names
    assert {j["JobState"] for j in jobs.values()} == {"COMPLETED"}, jobs
    assert completion_log_ids(sorted(jobs)) == set(jobs)  # `sacct --completion` saw the same jobs
    chunks = grid_chunks(FIXTURE / "array.vcf.gz", CHUNK_SIZE)
    assert chunks == math.ceil(1_000_000 / CHUNK_SIZE) and len(jobs) >= chunks, names
    # each chunk its own Slurm job (Toil names a scattered step's jobs <parent>.<index>.<tool>)
    assert len([n for n in names if "chunk" in n.split(".")[-2]]) >= chunks, names

    async with httpx.AsyncClient(timeout=60) as client:
        cwl = local_adapter(sapporo, client, sapporo_tokens["alice"])
        reference, cwl_seconds = await run_ci_fixture(cwl)
        assert reference.status is JobStatus.COMPLETED, (reference.remote_state, reference.error)
        await download_all(cwl, reference, tmp_path / "cwltool")
    print(f"cwltool (one chunk, the default 20 Mb): {cwl_seconds:.1f} s")
    got, want = tmp_path / "slurm" / "chr20.dose.vcf.gz", tmp_path / "cwltool" / "chr20.dose.vcf.gz"
    assert sites(got) == sites(want)  # exactly the panel's sites in the region, once each
    assert_same_quality(got, want, tolerance=0.01)


async def test_cluster__cancel_stops_the_runs_slurm_jobs(slurm_sapporo, tmp_path):
    """A canceled run leaves no job of its own in Slurm's queue (Toil's leader is stopped first, then
    anything still queued under the run's comment is scancel'ed)."""
    async with httpx.AsyncClient(timeout=60) as client:
        config = make_service("w", "wes", slurm_sapporo.url, settings=[
            f"workflow={DATA / 'wes-sleep' / 'sleep.cwl'}", f"panels={DATA / 'wes' / 'panels.json'}"])
        adapter = WesService(config, client, None)
        remote_id = await adapter.submit([write_vcf(tmp_path / "s.vcf.gz")], SubmitOptions(panel="toy-1"),
                                         job_name="slurm-cancel")
        comment = f"fedimpute-run-{remote_id}"
        wait_for(lambda: any(j["JobState"] == "RUNNING" for j in slurm_jobs(comment).values()), 120,
                   "the sleep step to run in Slurm")
        await adapter.cancel(remote_id)
        job = await poll_until(adapter, remote_id, lambda j: j.status.is_terminal, timeout=120)
    assert job.status is JobStatus.CANCELLED, job.remote_state
    states = {j["JobState"] for j in slurm_jobs(comment).values()}
    assert states and not states & {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING"}, states
