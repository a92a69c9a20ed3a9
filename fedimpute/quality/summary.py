"""R² by MAF bin, per chromosome and typed against imputed, in one pass over each file.

Each file is reduced by DuckDB to a few hundred partial sums (count, sum of R², counts at
R² >= 0.3 and >= 0.8 per chromosome x typed x MAF bin) as it is read, so memory stays flat
however many variants a job has, and every view below is a sum over those partials:
counts are exact, and a mean is a sum divided by a count.

Counting rules (the contract's ``quality`` document): a variant counts when it has an R²;
it counts in a bin when it also has a MAF inside [0, 0.5].
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from fedimpute.exceptions import UsageError
from fedimpute.quality.bins import MAF_BINS
from fedimpute.quality.formats import describe_file
from fedimpute.quality.info_stream import partial_sums_sql, stream_partials, streamable
from fedimpute.quality.sources import connect, one_row, read_error, source_sql

__all__ = ["aggregate_files", "quality_details", "summarize_info_files"]

_PARTIALS = (
    "CREATE TABLE IF NOT EXISTS partials (file VARCHAR, chrom VARCHAR, typed BOOLEAN, bin INTEGER, n BIGINT, "
    "r2_sum DOUBLE, n_ge_0_3 BIGINT, n_ge_0_8 BIGINT)"
)
_SUMS = "sum(n), sum(r2_sum), sum(n_ge_0_3), sum(n_ge_0_8)"
_CHROM = "regexp_replace(chrom, '^chr', '')"
_CHROM_ORDER = "try_cast(replace(chromosome, 'X', '23') AS INTEGER) NULLS LAST, chromosome"


def aggregate_files(
    files: Iterable[str | Path],
    *,
    strategy: str = "auto",
    con: duckdb.DuckDBPyConnection | None = None,
    typed: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding table ``partials``: one row per file x chromosome x typed x bin.
    ``typed=False`` leaves typed NULL, so the flags are never read (the contract's numbers need none)."""
    paths = [Path(f) for f in files]
    if not paths:
        raise UsageError("no quality files to summarize")
    con = con or connect()
    con.execute(_PARTIALS)
    for path in paths:
        qf = describe_file(path)
        try:
            if streamable(qf, strategy) and stream_partials(con, qf, str(path), typed=typed):
                continue
            with source_sql(qf, strategy=strategy) as sql:
                con.execute(f"INSERT INTO partials SELECT ?, * FROM ({partial_sums_sql(sql, typed)})", [str(path)])
        except duckdb.Error as exc:
            raise read_error(path, exc) from exc
    return con


def _stats(n: int | None, total: float | None, ge3: int | None, ge8: int | None) -> dict[str, Any]:
    count = int(n or 0)
    if not count:
        return {"n": 0, "mean_r2": None, "frac_r2_ge_0_3": None, "frac_r2_ge_0_8": None}
    return {  # a count > 0 comes with the sums (SQL sums of at least one value are never NULL)
        "n": count,
        "mean_r2": float(total or 0.0) / count,
        "frac_r2_ge_0_3": int(ge3 or 0) / count,
        "frac_r2_ge_0_8": int(ge8 or 0) / count,
    }


def _bins(
    con: duckdb.DuckDBPyConnection, where: str = "TRUE", params: list[Any] | None = None
) -> list[dict[str, Any]]:
    rows = con.execute(
        f"SELECT bin, {_SUMS} FROM partials WHERE bin IS NOT NULL AND {where} GROUP BY bin", params or []
    ).fetchall()
    found = {b: r for b, *r in rows}
    return [
        {"maf_lo": lo, "maf_hi": hi, **_stats(*found.get(i, (0, None, 0, 0)))}
        for i, (lo, hi) in enumerate(MAF_BINS)
    ]


def _chromosomes(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows = con.execute(f"""SELECT {_CHROM} AS chromosome, {_SUMS} FROM partials GROUP BY chromosome
                           HAVING sum(n) > 0 ORDER BY {_CHROM_ORDER}""").fetchall()
    return [{"chromosome": c, **_stats(*r)} for c, *r in rows]


def _by_status(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows = con.execute(
        f"SELECT typed, {_SUMS} FROM partials GROUP BY typed HAVING sum(n) > 0 ORDER BY typed NULLS LAST"
    ).fetchall()
    out = []
    for typed, *r in rows:
        status = "unknown" if typed is None else "typed" if typed else "imputed"
        where = "typed IS NULL" if typed is None else "typed = ?"
        out.append(
            {"status": status, **_stats(*r), "bins": _bins(con, where, [] if typed is None else [typed])}
        )
    return out


def _chromosome_bins(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows = con.execute(f"""
        SELECT {_CHROM} AS chromosome, bin, {_SUMS} FROM partials WHERE bin IS NOT NULL
        GROUP BY chromosome, bin HAVING sum(n) > 0 ORDER BY {_CHROM_ORDER}, bin""").fetchall()
    return [
        {"chromosome": c, "maf_lo": MAF_BINS[b][0], "maf_hi": MAF_BINS[b][1], **_stats(*r)}
        for c, b, *r in rows
    ]


def _contract_doc(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    total = one_row(con, "SELECT coalesce(sum(n), 0) FROM partials")[0]
    chromosomes = [
        {"chromosome": c["chromosome"], "n": c["n"], "mean_r2": c["mean_r2"]} for c in _chromosomes(con)
    ]
    return {"variants": int(total), "bins": _bins(con), "chromosomes": chromosomes}


def summarize_info_files(files: Iterable[str | Path], *, strategy: str = "auto") -> dict[str, Any]:
    """The contract's ``quality`` numbers (``variants``, ``bins``, ``chromosomes``) over ``files``:
    minimac info files and minimac4/beagle VCFs alike."""
    with aggregate_files(files, strategy=strategy, typed=False) as con:
        return _contract_doc(con)


def quality_details(files: Iterable[str | Path], *, strategy: str = "auto") -> dict[str, Any]:
    """The contract's numbers plus ``by_status`` (typed / imputed / unknown, each with its bins)
    and ``chromosome_bins`` (every chromosome x bin with variants)."""
    with aggregate_files(files, strategy=strategy) as con:
        doc = _contract_doc(con)
        doc["chromosomes"] = _chromosomes(con)
        return {**doc, "by_status": _by_status(con), "chromosome_bins": _chromosome_bins(con)}
