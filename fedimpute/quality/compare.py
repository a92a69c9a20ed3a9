"""Two or more jobs on the same input, side by side: shared variants joined on chrom:pos:ref:alt.

Services impute different sets of variants (panel content, R² filters), so a fair comparison
looks only at the variants every job reported.  The MAF bin of a shared variant is taken
from the first job, so all jobs are compared on the same variants in each bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np

from fedimpute.exceptions import UsageError
from fedimpute.quality.bins import MAF_BINS, bin_case_sql
from fedimpute.quality.sources import numpy_columns, one_row
from fedimpute.quality.variants import variant_labels

__all__ = ["compare_variants", "shared_variants"]

_KEY = "chromosome, pos, ref, alt"


def _check_labels(con: duckdb.DuckDBPyConnection, labels: Sequence[str] | None) -> list[str]:
    known = variant_labels(con)
    labels = list(labels) if labels is not None else known
    missing = [x for x in labels if x not in known]
    if missing:
        raise UsageError(f"no variants loaded for {', '.join(missing)}; loaded: {', '.join(known) or 'none'}")
    if len(labels) < 2:
        raise UsageError("a comparison needs at least two jobs")
    return labels


def _shared_sql(count: int) -> str:
    """The shared variants of ``count`` labels (bound as parameters), one R² column per label."""
    parts = [
        f"v{i} AS (SELECT DISTINCT ON ({_KEY}) {_KEY}, maf, r2 FROM variants "
        f"WHERE label = ? AND r2 IS NOT NULL AND pos IS NOT NULL)"
        for i in range(count)
    ]
    joins = " ".join(f"JOIN v{i} USING ({_KEY})" for i in range(1, count))
    r2s = ", ".join(f"v{i}.r2 AS r2_{i}" for i in range(count))
    return f"WITH {', '.join(parts)} SELECT {_KEY}, v0.maf AS maf, {r2s} FROM v0 {joins}"


def _pairs(con: duckdb.DuckDBPyConnection, labels: list[str]) -> list[dict[str, Any]]:
    out = []
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            n, corr, diff = one_row(con, f"SELECT count(*), corr(r2_{i}, r2_{j}), avg(r2_{i} - r2_{j}) FROM shared")
            out.append(
                {"a": labels[i], "b": labels[j], "n": n, "r2_correlation": corr, "mean_r2_difference": diff}
            )
    return out


def _bins(con: duckdb.DuckDBPyConnection, labels: list[str]) -> list[dict[str, Any]]:
    means = ", ".join(f"avg(r2_{i})" for i in range(len(labels)))
    rows = {
        b: r
        for b, *r in con.execute(
            f"SELECT {bin_case_sql('maf')} AS bin, count(*), {means} FROM shared GROUP BY bin"
        ).fetchall()
    }
    out = []
    for i, (lo, hi) in enumerate(MAF_BINS):
        n, *m = rows.get(i, (0, *([None] * len(labels))))
        out.append({"maf_lo": lo, "maf_hi": hi, "n": n, "mean_r2": dict(zip(labels, m, strict=True))})
    return out


def compare_variants(con: duckdb.DuckDBPyConnection, labels: Sequence[str] | None = None) -> dict[str, Any]:
    """Counts, per-bin mean R² on shared variants, and pairwise R² agreement.

    ``{jobs, variants: {job: n}, shared, only: {job: n}, bins: [{maf_lo, maf_hi, n, mean_r2: {job: x}}],
    pairs: [{a, b, n, r2_correlation, mean_r2_difference}]}``; also leaves table ``shared``."""
    labels = _check_labels(con, labels)
    con.execute(f"CREATE OR REPLACE TEMP TABLE shared AS {_shared_sql(len(labels))}", labels)
    shared = one_row(con, "SELECT count(*) FROM shared")[0]
    counts = dict(
        con.execute(
            "SELECT label, count(DISTINCT (chromosome, pos, ref, alt)) FROM variants "
            "WHERE r2 IS NOT NULL AND pos IS NOT NULL GROUP BY label"
        ).fetchall()
    )
    return {
        "jobs": labels,
        "variants": {x: counts.get(x, 0) for x in labels},
        "shared": shared,
        "only": {x: counts.get(x, 0) - shared for x in labels},
        "bins": _bins(con, labels),
        "pairs": _pairs(con, labels),
    }


def shared_variants(
    con: duckdb.DuckDBPyConnection, labels: Sequence[str] | None = None, *, limit: int | None = 20_000
) -> dict[str, np.ndarray[Any, Any]]:
    """Columns ``chromosome, pos, ref, alt, maf`` and one R² column per job (named by the job), for a
    scatter plot; at most ``limit`` variants, the same ones on every call (ordered by a hash)."""
    labels = _check_labels(con, labels)
    limit_sql = f"ORDER BY hash({_KEY}) LIMIT {int(limit)}" if limit else ""
    data = numpy_columns(con.execute(f"SELECT * FROM ({_shared_sql(len(labels))}) {limit_sql}", labels))
    return {
        **{k: data[k] for k in ("chromosome", "pos", "ref", "alt")},
        "maf": _floats(data["maf"]),
        **{label: _floats(data[f"r2_{i}"]) for i, label in enumerate(labels)},
    }


def _floats(column: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A plain float array, NULL as NaN (DuckDB hands out masked arrays, which plots warn about)."""
    return np.ma.filled(np.ma.asarray(column, dtype=float), np.nan)
