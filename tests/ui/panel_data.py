"""A catalogue where one panel is offered by two services, and a job of alice's with readable results."""

from __future__ import annotations

from pathlib import Path

from fedimpute.catalogue import make_service
from fedimpute.models import Job, JobStatus, Population, ReferencePanel, ResultFile
from tests.quality.files import Site, write_info

#: R² of the common variants (MAF >= 5%) in the results of alice's quality job: mean 0.8125.
COMMON_R2 = (0.75, 0.875)


def add_second_service(store) -> None:
    """``cg`` offers sim-ci too (another name and size, one more population) and hapmap-2."""
    store.add_service(make_service("cg", "cloudgene", "http://127.0.0.1:9"), replace=True)
    store.replace_panels("cg", [
        ReferencePanel(service="cg", panel_id="sim-ci", name="Simulated CI panel v2", build="hg38",
                       populations=[Population(id="all", label="all"), Population(id="afr", label="AFR")],
                       samples=400, variants=5000),
        ReferencePanel(service="cg", panel_id="hapmap-2", name="HapMap 2 (GRCh37/hg19)", build="hg19",
                       populations=[Population(id="eur", label="EUR")]),
    ])


def add_quality_job(store, folder: Path, owner: str = "alice") -> str:
    """A completed sim-ci job of ``owner`` whose downloaded results hold an info file."""
    folder.mkdir(parents=True, exist_ok=True)
    sites = [Site("20", 1000 + i, "A", "G", af, r2) for i, (af, r2) in
             enumerate([(0.2, COMMON_R2[0]), (0.3, COMMON_R2[1]), (0.01, 0.25)])]
    info = write_info(folder / "chr20.info.gz", sites)
    job = store.add_job(Job(service="local", owner=owner, name="quality job", panel="sim-ci", build="hg38"))
    store.update_job(job.job_id, status=JobStatus.COMPLETED, detail="test")
    store.upsert_result_file(ResultFile(job_id=job.job_id, name=info.name, size=info.stat().st_size,
                                        sha256="0" * 64, path=str(info)))
    return job.job_id
