"""Per-variant quality in a DuckDB table, for plots along the genome and job comparisons.

The summaries never need this table (they aggregate while reading); plots of R² along a
chromosome and job-against-job comparisons do.  Table ``variants``:
``label, chromosome, pos, ref, alt, af, maf, r2, typed`` where ``label`` names the job (or
file set) and ``chromosome`` has no ``chr`` prefix, so hg19-style and hg38-style names of
the same chromosome join.  Missing alleles are stored as ``''`` so keys compare equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from fedimpute.exceptions import UsageError
from fedimpute.quality.formats import describe_file
from fedimpute.quality.sources import connect, numpy_columns, one_row, read_error, source_sql

__all__ = ["auto_window", "load_variants", "r2_along_chromosome", "variant_labels"]

_TABLE = (
    "CREATE TABLE IF NOT EXISTS variants (label VARCHAR, chromosome VARCHAR, pos BIGINT, ref VARCHAR, "
    "alt VARCHAR, af DOUBLE, maf DOUBLE, r2 DOUBLE, typed BOOLEAN)"
)


def load_variants(
    files: Iterable[str | Path],
    *,
    label: str = "",
    con: duckdb.DuckDBPyConnection | None = None,
    strategy: str = "auto",
) -> duckdb.DuckDBPyConnection:
    """Append the variants of ``files`` to table ``variants`` under ``label``; returns the connection."""
    paths = [Path(f) for f in files]
    if not paths:
        raise UsageError(f"no quality files to load{f' for {label}' if label else ''}")
    con = con or connect()
    con.execute(_TABLE)
    for path in paths:
        with source_sql(describe_file(path), strategy=strategy) as sql:
            try:
                con.execute(
                    f"""INSERT INTO variants SELECT ?, regexp_replace(chrom, '^chr', ''), pos,
                                coalesce(ref, ''), coalesce(alt, ''), af, maf, r2, typed FROM ({sql})""",
                    [label],
                )
            except duckdb.Error as exc:
                raise read_error(path, exc) from exc
    return con


def variant_labels(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT label FROM variants ORDER BY label").fetchall()]


def auto_window(span: int, windows: int = 200) -> int:
    """A round window size (1, 2 or 5 x 10^k bp) giving about ``windows`` windows over ``span`` bp."""
    target = max(1, span // windows)
    size = 1
    while True:
        for step in (1, 2, 5):
            if size * step >= target:
                return size * step
        size *= 10


def r2_along_chromosome(
    con: duckdb.DuckDBPyConnection, *, label: str | None = None, window: int | None = None
) -> dict[str, np.ndarray[Any, Any]]:
    """Mean R² in windows of ``window`` bp: columns ``label, chromosome, start, mid, n, mean_r2``.

    A few hundred windows say more than millions of points and keep a plot light; by default the
    window gives about 200 of them over the longest chromosome loaded."""
    where, params = ("label = ?", [label]) if label is not None else ("TRUE", [])
    if window is None:
        span = one_row(
            con,
            f"SELECT max(hi - lo) FROM (SELECT max(pos) AS hi, min(pos) AS lo FROM variants "
            f"WHERE {where} GROUP BY chromosome)",
            params,
        )[0]
        window = auto_window(int(span or 0))
    if window < 1:
        raise UsageError(f"window must be at least 1 bp, got {window}")
    w = int(window)
    return numpy_columns(
        con.execute(
            f"""
        SELECT label, chromosome, (pos // {w}) * {w} AS start, (pos // {w}) * {w} + {w // 2} AS mid,
               count(r2) AS n, avg(r2) AS mean_r2
        FROM variants WHERE {where} AND pos IS NOT NULL AND r2 IS NOT NULL
        GROUP BY label, chromosome, start, mid
        ORDER BY label, try_cast(replace(chromosome, 'X', '23') AS INTEGER) NULLS LAST, chromosome, start""",
            params,
        )
    )
