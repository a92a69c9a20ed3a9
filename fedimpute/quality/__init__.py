"""Imputation quality from a job's result files, with DuckDB doing the reading.

R² is the service's own estimate: minimac ``Rsq`` (info tables) or ``R2`` (minimac4 info and dose
VCFs), beagle ``DR2``.  What a file is comes from its content, never its name (Michigan's
``chrN.info.gz`` was a tab table and is a sites-only VCF since Michigan 2).  Files are parsed by
DuckDB (``read_csv`` on the text, INFO split with string functions; dose VCFs through
``bcftools query``), never by Python row loops.  Bins are the contract's: left-closed, the last
one closed.

>>> from fedimpute.quality import job_quality, summarize_info_files
>>> summarize_info_files(["chr20.info.gz"])["bins"][-1]["mean_r2"]   # doctest: +SKIP
0.98

Modules: :mod:`~fedimpute.quality.formats` (what a file is), :mod:`~fedimpute.quality.sources`
(the SQL that reads it), :mod:`~fedimpute.quality.summary` (bins, chromosomes, typed/imputed),
:mod:`~fedimpute.quality.variants` (per-variant table, R² along the genome),
:mod:`~fedimpute.quality.compare` (jobs side by side), :mod:`~fedimpute.quality.job_files`
(a job's files from the store), :mod:`~fedimpute.quality.service_stats` (queue and run times).
"""

from __future__ import annotations

from fedimpute.quality.bins import MAF_BINS, bin_label
from fedimpute.quality.compare import compare_variants, shared_variants
from fedimpute.quality.formats import QualityFile, describe_file
from fedimpute.quality.job_files import (
    compare_jobs,
    find_info_files,
    find_quality_files,
    job_quality,
    job_quality_details,
    load_job_variants,
)
from fedimpute.quality.service_stats import job_statistics
from fedimpute.quality.summary import aggregate_files, quality_details, summarize_info_files
from fedimpute.quality.variants import load_variants, r2_along_chromosome, variant_labels

__all__ = [
    "MAF_BINS",
    "QualityFile",
    "aggregate_files",
    "bin_label",
    "compare_jobs",
    "compare_variants",
    "describe_file",
    "find_info_files",
    "find_quality_files",
    "job_quality",
    "job_quality_details",
    "job_statistics",
    "load_job_variants",
    "load_variants",
    "quality_details",
    "r2_along_chromosome",
    "shared_variants",
    "summarize_info_files",
    "variant_labels",
]
