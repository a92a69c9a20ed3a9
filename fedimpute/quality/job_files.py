"""Quality of a job from the result files it downloaded (paths come from the store).

Servers lay results out differently and name files as they like: Michigan/TOPMed archives hold
``chrN.info.gz`` (a minimac info table before Michigan 2, a minimac4 info VCF since) next to
``chrN.dose.vcf.gz``; beagle services return only dose VCFs.  So every downloaded file is
judged by its content (:func:`~fedimpute.quality.formats.describe_file` reads a few KB), and
per chromosome the small sites-only file (info table or info VCF) is preferred; a dose VCF
counts only where no sites-only file covers its chromosome.  Empirical-dose VCFs (typed sites
again), reports, indexes and archives are not quality files and are passed over; a file that may
be a quality file written wrongly (empty, BCF, zstd, damaged gzip, a VCF without R2) is logged as a
warning, and named in the error when no quality file is found at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from fedimpute.exceptions import UsageError
from fedimpute.quality.compare import compare_variants
from fedimpute.quality.formats import NotQualityFile, QualityFile, describe_file
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

log = logging.getLogger(__name__)


def _result_folders(store: Store, job_id: str) -> list[Path]:
    folders = {Path(r.path).parent for r in store.result_files(job_id) if r.path}
    return sorted(f for f in folders if f.is_dir())


def _not_found(job_id: str, what: str, suspects: list[NotQualityFile]) -> UsageError:
    if suspects:
        shown = "; ".join(s.brief for s in suspects[:3])
        return UsageError(
            f"no readable imputation quality files ({what}) among the downloaded results of job {job_id}; "
            f"found instead: {shown}"
        )
    return UsageError(
        f"no imputation quality files ({what}) among the downloaded results of job {job_id}; "
        f"download them first with `fedimpute results download {job_id}`"
    )


def _quality_files(store: Store, job_id: str) -> tuple[list[QualityFile], list[NotQualityFile]]:
    """Every file under the job's result folders that is a quality file by its content, and the
    suspects: files that may be quality files written wrongly (each logged as a warning)."""
    paths = sorted({p for folder in _result_folders(store, job_id) for p in folder.rglob("*") if p.is_file()})
    found, suspects = [], []
    for path in paths:
        try:
            found.append(describe_file(path))
        except NotQualityFile as exc:  # a report, an index, an archive, an empirical-dose VCF: not quality
            if exc.suspect:
                log.warning("not read as a quality file: %s", exc.brief)
                suspects.append(exc)
    return found, suspects


def _chromosome(qf: QualityFile) -> object:
    """What a file covers: its first variant's chromosome (``chr`` or not), else its name's stem."""
    if qf.first_chrom:
        return qf.first_chrom.removeprefix("chr")
    return (qf.path.parent, qf.path.name.split(".", 1)[0])


def find_info_files(store: Store, job_id: str) -> list[Path]:
    """The sites-only quality files (``chrN.info.gz``: info tables or minimac4 info VCFs, whatever their
    names) among the job's downloaded results."""
    files, suspects = _quality_files(store, job_id)
    found = [qf.path for qf in files if qf.sites_only]
    if not found:
        raise _not_found(job_id, "chrN.info.gz: minimac info tables or info VCFs", suspects)
    return found


def find_quality_files(store: Store, job_id: str) -> list[Path]:
    """Sites-only files, plus dose VCFs with R2/DR2 for chromosomes no sites-only file covers."""
    files, suspects = _quality_files(store, job_id)
    sites = [qf for qf in files if qf.sites_only]
    covered = {_chromosome(qf) for qf in sites}
    doses = [qf for qf in files if not qf.sites_only and _chromosome(qf) not in covered]
    found = sorted(qf.path for qf in sites + doses)
    if not found:
        raise _not_found(job_id, "chrN.info.gz, or dose VCFs with R2/DR2", suspects)
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
