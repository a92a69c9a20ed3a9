"""Both shapes Michigan has delivered under the name chrN.info.gz, from the Cloudgene simulator: the
Michigan 2 info VCF (what the simulator serves) and the older minimac info table."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedimpute.catalogue import make_service
from fedimpute.hub import Hub
from fedimpute.models import JobStatus
from fedimpute.quality import describe_file, find_quality_files, job_quality, quality_details
from fedimpute.services.base import SubmitOptions
from tests.cloudgene_server.fixtures import sim_hub
from tests.cloudgene_server.results import impute_records, info_table, info_vcf, job_rng
from tests.cloudgene_server.vcf import scan_vcf
from tests.quality.expected import assert_same_as_bcftools
from tests.vcfgen import write_vcf


@pytest.fixture
def hub(home, cloudgene_url) -> Hub:
    return sim_hub(cloudgene_url, poll_interval="0.05")


async def test_michigan2_results__quality_equals_bcftools_on_the_info_vcf(hub, tmp_path):
    """We can submit, download and decrypt a Michigan 2 job, and `quality` reads its chr20.info.gz (an info
    VCF) to the numbers bcftools reads from it."""
    vcf = write_vcf(tmp_path / "cohort.chr20.vcf.gz", samples=25, sites=300)
    job = await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="tester")
    job = await hub.wait(job.job_id, timeout=60)
    assert job.status is JobStatus.COMPLETED
    files = await hub.download_results(job.job_id, tmp_path / "results")
    extracted = {Path(p).name: Path(p) for f in files for p in f.get("extracted") or []}
    info = extracted["chr20.info.gz"]
    qf = describe_file(info)
    assert (qf.kind, qf.sites_only) == ("vcf", True) and "TYPED_ONLY" in qf.info_tags
    assert find_quality_files(hub.store, job.job_id) == [info]
    assert_same_as_bcftools(job_quality(hub.store, job.job_id), info, min_variants=300)


def test_old_info_table__same_quality_as_the_info_vcf(tmp_path):
    """The tab-separated info table of Michigan before 2 (same name, other content) still reads, to the
    numbers the info VCF of the same imputation gives, typed sites from its Genotyped column."""
    vcf = scan_vcf(write_vcf(tmp_path / "in.vcf.gz", samples=25, sites=300), "in.vcf.gz")
    records = impute_records(vcf, job_rng("job-layouts"), 0.0)
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    table, sites = tmp_path / "old" / "chr20.info.gz", tmp_path / "new" / "chr20.info.gz"
    table.write_bytes(info_table(vcf, records, job_rng("x")))
    sites.write_bytes(info_vcf(vcf, records, job_rng("x")))
    assert (describe_file(table).kind, describe_file(sites).kind) == ("info", "vcf")
    old, new = quality_details([table]), quality_details([sites])
    assert old == new and old["variants"] == len(records) > 600
    assert {s["status"]: s["n"] for s in old["by_status"]}["typed"] == 300
