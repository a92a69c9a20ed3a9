"""Quality of a job from the result files it downloaded (paths come from the store).

Servers lay results out differently: Michigan/TOPMed archives hold ``chrN.info.gz`` next to
``chrN.dose.vcf.gz``; minimac4 4.x and beagle services return only the dose VCFs.  Per
chromosome the info file is preferred (it is smaller); a VCF counts only where no info file
covers the same chromosome, and empirical-dose VCFs (typed sites again) never count.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from fedimpute.exceptions import UsageError
from fedimpute.quality.compare import compare_variants
from fedimpute.quality.formats import describe_file
from fedimpute.quality.sources import connect
from fedimpute.quality.summary import quality_details, summarize_info_files
from fedimpute.quality.variants import load_variants
from fedimpute.store import Store

__all__ = [
    "compare_jobs",
    "find_info_files",
    "find_quality_files",
    "job_quality",
    "job_quality_details",
    "load_job_variants",
]

_VCF_GLOBS = ("*.vcf.gz", "*.vcf.bgz", "*.vcf")


def _result_folders(store: Store, job_id: str) -> list[Path]:
    folders = {Path(r.path).parent for r in store.result_files(job_id) if r.path}
    return sorted(f for f in folders if f.is_dir())


def _not_downloaded(job_id: str, what: str) -> UsageError:
    return UsageError(
        f"no imputation quality files ({what}) among the downloaded results of job {job_id}; "
        f"download them first with `fedimpute results download {job_id}`"
    )


def find_info_files(store: Store, job_id: str) -> list[Path]:
    """``*.info.gz`` files in the folders holding the job's downloaded results (archives extracted there)."""
    found = sorted({p for folder in _result_folders(store, job_id) for p in folder.rglob("*.info.gz")})
    if not found:
        raise _not_downloaded(job_id, "*.info.gz")
    return found


def _stem(path: Path) -> tuple[Path, str]:
    return path.parent, path.name.split(".", 1)[0]


def _carries_quality(path: Path) -> bool:
    try:
        describe_file(path)
    except UsageError:
        return False
    return True


def find_quality_files(store: Store, job_id: str) -> list[Path]:
    """Info files, plus quality-bearing VCFs for chromosomes no info file covers."""
    infos: set[Path] = set()
    vcfs: set[Path] = set()
    for folder in _result_folders(store, job_id):
        infos.update(folder.rglob("*.info.gz"))
        infos.update(folder.rglob("*.info"))
        for pattern in _VCF_GLOBS:
            vcfs.update(p for p in folder.rglob(pattern) if "empiricaldose" not in p.name.lower())
    covered = {_stem(p) for p in infos}
    extra = {p for p in vcfs if _stem(p) not in covered and _carries_quality(p)}
    found = sorted(infos | extra)
    if not found:
        raise _not_downloaded(job_id, "*.info.gz, or dose VCFs with R2/DR2")
    return found


def job_quality(store: Store, job_id: str, *, strategy: str = "auto") -> dict[str, Any]:
    """The contract's ``quality`` document for a job whose results were downloaded."""
    store.get_job(job_id)
    return {"job_id": job_id, **summarize_info_files(find_quality_files(store, job_id), strategy=strategy)}


def job_quality_details(store: Store, job_id: str, *, strategy: str = "auto") -> dict[str, Any]:
    """:func:`job_quality` plus typed/imputed and chromosome x bin breakdowns."""
    store.get_job(job_id)
    return {"job_id": job_id, **quality_details(find_quality_files(store, job_id), strategy=strategy)}


def load_job_variants(
    store: Store,
    job_ids: Sequence[str],
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    strategy: str = "auto",
) -> duckdb.DuckDBPyConnection:
    """Table ``variants`` with every listed job's variants, labelled by job id."""
    con = con or connect()
    for job_id in job_ids:
        store.get_job(job_id)
        load_variants(find_quality_files(store, job_id), label=job_id, con=con, strategy=strategy)
    return con


def compare_jobs(store: Store, job_ids: Sequence[str], *, strategy: str = "auto") -> dict[str, Any]:
    """:func:`~fedimpute.quality.compare.compare_variants` for jobs run on the same input."""
    if len(job_ids) < 2:
        raise UsageError("a comparison needs at least two job ids")
    with load_job_variants(store, job_ids, strategy=strategy) as con:
        return compare_variants(con, list(job_ids))
