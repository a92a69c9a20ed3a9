"""Pre-flight checks: find what an imputation server would reject, before the upload.

    >>> from fedimpute.preflight import check_files
    >>> report = check_files(["chr20.vcf.gz"], build="hg19")   # doctest: +SKIP
    >>> report.ok, [c.id for c in report.files[0].checks if c.status != "pass"]   # doctest: +SKIP

Rules and messages follow the Cloudgene servers' input validation and QC (Michigan, TOPMed,
H3Africa); :func:`fix_files` writes corrected copies with bcftools, bgzip and tabix.  Nothing
here needs Panel or a network.
"""

from __future__ import annotations

from fedimpute.preflight.fix import FixAction, fix_files
from fedimpute.preflight.report import CheckResult, CheckStatus, FileReport, PreflightReport
from fedimpute.preflight.runner import check_files, run_preflight_for_submit

__all__ = [
    "CheckResult",
    "CheckStatus",
    "FileReport",
    "FixAction",
    "PreflightReport",
    "check_files",
    "fix_files",
    "run_preflight_for_submit",
]
