"""Imputation quality from a job's info files: R² by MAF bin and per chromosome.

R² is the service's own estimate (minimac ``Rsq``/``R2``).  The info files
(``chrN.info.gz``: SNP, REF(0), ALT(1), ALT_Frq, MAF, [AvgCall,] Rsq, Genotyped) are read
by DuckDB straight from gzip; the summary is one SQL query, no Python row loops.
Bins are the contract's: left-closed, the last one closed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from fedimpute.exceptions import UsageError
from fedimpute.store import Store

__all__ = ["MAF_BINS", "find_info_files", "job_quality", "summarize_info_files"]

MAF_BINS = ((0.0, 0.001), (0.001, 0.005), (0.005, 0.01), (0.01, 0.05), (0.05, 0.5))


def find_info_files(store: Store, job_id: str) -> list[Path]:
    """``*.info.gz`` files in the folders holding the job's downloaded results (archives extracted there)."""
    folders = {Path(r.path).parent for r in store.result_files(job_id) if r.path}
    found = sorted({p for folder in folders if folder.is_dir() for p in folder.rglob("*.info.gz")})
    if not found:
        raise UsageError(f"no imputation info files (*.info.gz) among the results of job {job_id}; download "
                         f"them first with `fedimpute results download {job_id}`")
    return found


def _bin_case() -> str:
    parts = [f"WHEN maf >= {lo} AND maf {'<=' if i == len(MAF_BINS) - 1 else '<'} {hi} THEN {i}"
             for i, (lo, hi) in enumerate(MAF_BINS)]
    return "CASE " + " ".join(parts) + " END"


def _variants_sql(files: list[Path]) -> str:
    paths = ", ".join(f"'{str(p).replace(chr(39), chr(39) * 2)}'" for p in files)
    return (f"SELECT split_part(SNP, ':', 1) AS chromosome, CAST(MAF AS DOUBLE) AS maf, "
            f"TRY_CAST(Rsq AS DOUBLE) AS r2, Genotyped AS genotyped "
            f"FROM read_csv([{paths}], delim='\\t', header=true, union_by_name=true, all_varchar=true)")


def summarize_info_files(files: list[Path]) -> dict[str, Any]:
    """Bins and per-chromosome means over the variants of ``files``."""
    with duckdb.connect() as con:
        con.execute(f"CREATE TEMP VIEW v AS {_variants_sql(files)}")
        total = con.execute("SELECT count(*) FROM v WHERE r2 IS NOT NULL").fetchone()[0]
        rows = con.execute(f"""
            SELECT {_bin_case()} AS b, count(*), avg(r2), avg((r2 >= 0.3)::INT), avg((r2 >= 0.8)::INT)
            FROM v WHERE r2 IS NOT NULL AND maf IS NOT NULL GROUP BY b ORDER BY b""").fetchall()
        chroms = con.execute("""
            SELECT chromosome, count(*), avg(r2) FROM v WHERE r2 IS NOT NULL
            GROUP BY chromosome ORDER BY try_cast(replace(chromosome, 'chr', '') AS INTEGER) NULLS LAST,
            chromosome""").fetchall()
    by_bin = {b: r for b, *r in rows if b is not None}
    bins = []
    for i, (lo, hi) in enumerate(MAF_BINS):
        n, mean, f3, f8 = by_bin.get(i, (0, None, None, None))
        bins.append({"maf_lo": lo, "maf_hi": hi, "n": n, "mean_r2": mean, "frac_r2_ge_0_3": f3,
                     "frac_r2_ge_0_8": f8})
    return {"variants": total, "bins": bins,
            "chromosomes": [{"chromosome": c.removeprefix("chr"), "n": n, "mean_r2": m} for c, n, m in chroms]}


def job_quality(store: Store, job_id: str) -> dict[str, Any]:
    """The contract's ``quality`` document for a job whose results were downloaded."""
    store.get_job(job_id)
    return {"job_id": job_id, **summarize_info_files(find_info_files(store, job_id))}
