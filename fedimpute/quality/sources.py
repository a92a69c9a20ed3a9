"""SQL that reads any quality file as the same eight columns, for DuckDB to run.

Every reader yields ``chrom, pos, ref, alt, af, maf, r2, typed`` (``typed``: the variant
was on the array; NULL when the file cannot tell), so summaries, plots and comparisons are
written once.  How a file is read was chosen by measurement (``benchmarks/quality.py``,
2 cores):

* gzip is inflated by ``bgzip -dc`` (htslib/libdeflate, about 3x faster than DuckDB's own
  inflate) into a temporary plain file that DuckDB then parses on every core; small files
  (< 8 MB) are read by DuckDB straight from the gzip;
* a dose VCF with genotype columns goes through ``bcftools query`` (which never parses the
  genotypes) into a small TSV: on 49 k sites, 0.37 s against 0.6 s for DuckDB's regexp over
  whole lines with 200 samples, 0.6 s against 1.3 s with 1,000 (the gap grows with samples);
* a sites-only VCF (the minimac4 info VCF Michigan 2 delivers as ``chrN.info.gz``) is read by
  DuckDB directly (0.12 s against 0.46 s through bcftools on 49 k sites): INFO is split at ``;``
  and each value taken from the entry where the file's first record has it, checked, with
  ``regexp_extract`` only for rows that differ (10 M sites: 1.9 s against 3.5 s with a regexp
  per value, 2 cores);
* a file is never read by its name: DuckDB is told the compression (:func:`_compression`);
* the summaries read a large BGZF info VCF another way, in chunks while it is inflated
  (:mod:`fedimpute.quality.info_stream`, 2x less CPU); this reader stays the reference it falls
  back to, and the reader of per-variant tables.

The flags (typed / imputed) are read only where a view needs them: the contract's summary does
not.  Without bgzip or bcftools every path falls back to DuckDB alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import duckdb
import numpy as np

from fedimpute.exceptions import UsageError
from fedimpute.quality.formats import QualityFile

__all__ = ["COLUMNS", "STRATEGIES", "connect", "numpy_columns", "one_row", "read_error", "source_sql"]

COLUMNS = ("chrom", "pos", "ref", "alt", "af", "maf", "r2", "typed")
STRATEGIES = ("auto", "duckdb", "bcftools")
STAGE_GZIP_BYTES = 8 * 1024 * 1024
_TYPED_VALUES = "('Genotyped', 'Typed_Only')"
_VCF_COLUMNS = (
    "{'chrom': 'VARCHAR', 'pos': 'BIGINT', 'id': 'VARCHAR', 'ref': 'VARCHAR', 'alt': 'VARCHAR', "
    "'qual': 'VARCHAR', 'filter': 'VARCHAR', 'info': 'VARCHAR'}"
)
_VCF_LINE = r"'^([^\t]*)\t([^\t]*)\t[^\t]*\t([^\t]*)\t([^\t]*)\t[^\t]*\t[^\t]*\t([^\t]*)'"


def _lit(value: str | Path) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def read_error(path: Path, exc: Exception) -> UsageError:
    """A one-line error naming the file DuckDB could not read, and why."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    detail = [line for line in lines[1:] if line.startswith(("Error when converting", "Original Line"))]
    why = "; ".join(lines[:1] + detail)[:400] if lines else type(exc).__name__
    fix = "; the file is damaged or cut short: download it again" if "gzip" in why.lower() else ""
    return UsageError(f"cannot read quality file {path}: {why}{fix}")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


# -- minimac info files ---------------------------------------------------------------------


def _info_chrom(snp: str, first_chrom: str | None) -> str:
    """The chromosome part of SNP (``chr20:123:A:G``).  Files hold one chromosome, so a prefix test
    against the first row's chromosome answers almost every row: 0.14 s instead of 2.0 s of
    ``split_part`` on 10 M rows; any other row still gets split."""
    split = f"split_part({snp}, ':', 1)"
    if not first_chrom:
        return split
    return f"CASE WHEN prefix({snp}, {_lit(first_chrom + ':')}) THEN {_lit(first_chrom)} ELSE {split} END"


def _compression(gzipped: bool) -> str:
    """Told, never guessed: DuckDB would go by the name's extension, and names do not say the content."""
    return "'gzip'" if gzipped else "'none'"


def info_sql(
    path: Path, columns: tuple[str, ...], first_chrom: str | None = None, *, gzipped: bool = False
) -> str:
    """The info table: numbers typed on read ('-' is missing), SNP split for chrom and pos.

    (``force_not_null`` would keep alleles of '-' as they are, but DuckDB 2.0 then stops honouring
    ``nullstr`` in the other columns.)"""
    numeric = {"ALT_Frq", "MAF", "Rsq", "R2"}
    types = ", ".join(f"{_lit(c)}: '{'DOUBLE' if c in numeric else 'VARCHAR'}'" for c in columns)
    has = set(columns).__contains__
    snp = _ident("SNP")
    # nullstr '-' also hits a '-' allele (indels in some layouts): put it back
    ref = f"coalesce({_ident('REF(0)')}, '-')" if has("REF(0)") else f"NULLIF(split_part({snp}, ':', 3), '')"
    alt = f"coalesce({_ident('ALT(1)')}, '-')" if has("ALT(1)") else f"NULLIF(split_part({snp}, ':', 4), '')"
    af = _ident("ALT_Frq") if has("ALT_Frq") else "NULL::DOUBLE"
    maf = _ident("MAF") if has("MAF") else f"least({af}, 1 - {af})"
    r2 = _ident("Rsq") if has("Rsq") else _ident("R2")
    typed = f"{_ident('Genotyped')} IN {_TYPED_VALUES}" if has("Genotyped") else "NULL::BOOLEAN"
    return (
        f"SELECT {_info_chrom(snp, first_chrom)} AS chrom, "
        f"TRY_CAST(split_part({snp}, ':', 2) AS BIGINT) AS pos, "
        f"{ref} AS ref, {alt} AS alt, {af} AS af, {maf} AS maf, {r2} AS r2, {typed} AS typed "
        f"FROM read_csv({_lit(path)}, delim='\\t', header=true, quote='', escape='', auto_detect=false, "
        f"columns={{{types}}}, nullstr='-', compression={_compression(gzipped)})"
    )


# -- VCF INFO -------------------------------------------------------------------------------


def _regexp_value(info: str, tag: str) -> str:
    return f"TRY_CAST(NULLIF(regexp_extract({info}, '(?:^|;){tag}=([^;,]*)', 1), '') AS DOUBLE)"


def _value(tag: str, index: int | None) -> str:
    """First value of ``tag`` in ``info`` as DOUBLE (``.`` and absent are NULL).

    Fast path: ``entries`` (INFO split at ``;``) at the place the tag holds in the file's first
    record, used when that entry starts with ``TAG=`` and is no ``,`` list; 2.4x faster than
    ``regexp_extract`` on 10 M minimac4 sites.  Every other row takes the regular expression, so
    both paths give the same value for any INFO (where, as VCF requires, a key appears once)."""
    regexp = _regexp_value("info", tag)
    if index is None:
        return regexp
    entry = f"entries[{index}]"
    return (
        f"(CASE WHEN prefix({entry}, '{tag}=') AND NOT contains({entry}, ',') "
        f"THEN TRY_CAST(substr({entry}, {len(tag) + 2}) AS DOUBLE) ELSE {regexp} END)"
    )


def _flag(pattern: str, literal: str) -> str:
    """A flag whose name matches ``pattern`` stands in ``info``; the regular expression runs only
    where the flag's name (``literal``) occurs at all (2% of minimac4 sites are TYPED)."""
    return (
        f"(CASE WHEN contains(info, '{literal}') "
        f"THEN regexp_matches(info, '(?:^|;)(?:{pattern})(?:;|$)') ELSE false END)"
    )


def _query_flag(pattern: str, literal: str) -> str:
    """The same in bcftools' TSV, where a set flag is written ``TAG=1`` and an unset one ``TAG=.``."""
    return f"regexp_matches(info, '(?:^|;)(?:{pattern})=1(?:;|$)')"


def _typed(tags: frozenset[str], flag: Callable[[str, str], str]) -> str:
    """Typed (on the array) from the flags the header declares:

    * minimac4: ``TYPED`` (4.x: typed and imputed; 1.x: genotyped and imputed) or ``TYPED_ONLY``
      (typed, not in the panel), and ``IMPUTED`` on the rest;
    * a minimac-style file declaring only ``IMPUTED`` (1.x: "imputed but NOT genotyped"): the others;
    * beagle: every marker without ``IMP``.
    NULL where the header declares none of them: the file cannot tell."""
    if tags & {"TYPED", "TYPED_ONLY"}:
        return flag("TYPED|TYPED_ONLY", "TYPED")
    if "IMPUTED" in tags:
        return f"NOT {flag('IMPUTED', 'IMPUTED')}"
    if "IMP" in tags:
        return f"NOT {flag('IMP', 'IMP')}"
    return "NULL::BOOLEAN"


def _with_info_fields(
    rows: str, qf: QualityFile, keys: Sequence[str], flag: Callable[[str, str], str] = _flag
) -> str:
    """``rows`` (a query with columns chrom, pos, ref, alt, info) turned into :data:`COLUMNS`;
    ``keys``: the INFO keys in the order the file usually writes them (its first record's)."""
    tags = qf.info_tags
    index = {key: i + 1 for i, key in reversed(list(enumerate(keys)))}  # first place of each key

    def value(tag: str) -> str:
        return _value(tag, index.get(tag))

    r2 = value("R2" if "R2" in tags else "DR2")
    af = value("AF") if "AF" in tags else "NULL::DOUBLE"
    maf = value("MAF") if "MAF" in tags else f"least({af}, 1 - {af})"
    typed = _typed(tags, flag)
    return (
        f"SELECT chrom, pos, ref, alt, {af} AS af, {maf} AS maf, {r2} AS r2, {typed} AS typed "
        f"FROM (SELECT *, string_split(info, ';') AS entries FROM ({rows}))"
    )


def vcf_sites_sql(path: Path, qf: QualityFile, *, gzipped: bool | None = None) -> str:
    """A VCF without genotype columns: eight tab-separated columns, header lines skipped."""
    gz = qf.gzipped if gzipped is None else gzipped
    rows = (
        f"SELECT chrom, pos, ref, alt, info "
        f"FROM read_csv({_lit(path)}, delim='\\t', header=false, skip={qf.header_lines}, quote='', "
        f"escape='', auto_detect=false, columns={_VCF_COLUMNS}, compression={_compression(gz)})"
    )
    return _with_info_fields(rows, qf, qf.info_keys)


def vcf_lines_sql(path: Path, qf: QualityFile) -> str:
    """Any VCF, one line per row, the first eight fields cut out with a regular expression."""
    rows = (
        "SELECT s.chrom AS chrom, TRY_CAST(s.pos AS BIGINT) AS pos, s.ref AS ref, s.alt AS alt, "
        f"s.info AS info FROM (SELECT regexp_extract(line, {_VCF_LINE}, ['chrom', 'pos', 'ref', 'alt', "
        f"'info']) AS s FROM read_csv({_lit(path)}, delim={_lit(chr(0x1F))}, header=false, "
        f"skip={qf.header_lines}, "
        f"quote='', escape='', auto_detect=false, columns={{'line': 'VARCHAR'}}, max_line_size=1073741824, "
        f"compression={_compression(qf.gzipped)}))"
    )
    return _with_info_fields(rows, qf, qf.info_keys)


_QUERY_TAGS = ("R2", "DR2", "AF", "MAF", "TYPED", "TYPED_ONLY", "IMPUTED", "IMP")


def _query_tags(qf: QualityFile) -> list[str]:
    return [t for t in _QUERY_TAGS if t in qf.info_tags]


def _bcftools_query(qf: QualityFile, folder: Path) -> Path:
    """CHROM POS REF ALT and the quality INFO fields as TSV; the INFO string is rebuilt from them."""
    tags = _query_tags(qf)
    fmt = "%CHROM\t%POS\t%REF\t%ALT\t" + ";".join(f"{t}=%INFO/{t}" for t in tags) + "\n"
    out = folder / "query.tsv"
    proc = subprocess.run(
        ["bcftools", "query", "-f", fmt, "-o", str(out), str(qf.path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise UsageError(f"{qf.path}: bcftools query failed: {proc.stderr.strip()[-300:]}")
    return out


def query_sql(path: Path, qf: QualityFile) -> str:
    """The bcftools TSV: flags come out as ``TYPED=1`` or ``TYPED=.``, values as ``R2=0.98``."""
    rows = (
        f"SELECT * FROM read_csv({_lit(path)}, delim='\\t', header=false, quote='', escape='', "
        "auto_detect=false, columns={'chrom': 'VARCHAR', 'pos': 'BIGINT', 'ref': 'VARCHAR', "
        "'alt': 'VARCHAR', 'info': 'VARCHAR'}, compression='none')"
    )
    return _with_info_fields(rows, qf, _query_tags(qf), _query_flag)


# -- choosing and staging -------------------------------------------------------------------


def _inflated(qf: QualityFile, folder: Path) -> Path:
    """A plain copy of a gzip file, inflated by bgzip on several threads."""
    out = folder / "plain.txt"
    with out.open("wb") as fh:
        proc = subprocess.run(
            ["bgzip", "-dc", "-@", str(_threads()), str(qf.path)],
            stdout=fh,
            stderr=subprocess.PIPE,
            check=False,
        )
    if proc.returncode != 0:
        raise UsageError(
            f"{qf.path}: cannot decompress: {proc.stderr.decode(errors='replace').strip()[-300:]}"
        )
    return out


def _worth_inflating(qf: QualityFile, strategy: str) -> bool:
    return (
        strategy != "duckdb"
        and qf.gzipped
        and qf.path.stat().st_size >= STAGE_GZIP_BYTES
        and shutil.which("bgzip") is not None
    )


def _sql_for(qf: QualityFile, folder: Path, strategy: str) -> str:
    if qf.kind == "vcf" and qf.has_samples:
        if strategy == "bcftools" or (strategy == "auto" and shutil.which("bcftools")):
            return query_sql(_bcftools_query(qf, folder), qf)
        return vcf_lines_sql(qf.path, qf)
    if qf.kind == "vcf" and strategy == "bcftools":
        return query_sql(_bcftools_query(qf, folder), qf)
    staged = _worth_inflating(qf, strategy)
    path, gzipped = (_inflated(qf, folder), False) if staged else (qf.path, qf.gzipped)
    if qf.kind == "vcf":
        return vcf_sites_sql(path, qf, gzipped=gzipped)
    return info_sql(path, qf.columns, qf.first_chrom, gzipped=gzipped)


@contextmanager
def source_sql(qf: QualityFile, *, strategy: str = "auto") -> Iterator[str]:
    """A ``SELECT`` of :data:`COLUMNS` over ``qf``, valid inside the ``with`` block (helper files
    live in a temporary folder until then).  ``strategy``: ``auto`` (measured choice), ``duckdb``
    (DuckDB alone) or ``bcftools`` (VCFs through ``bcftools query``)."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown read strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    with tempfile.TemporaryDirectory(prefix="fedimpute-quality-") as tmp:
        yield _sql_for(qf, Path(tmp), strategy)


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for quality work: no progress bar (it would print into ``--json`` output)."""
    con = duckdb.connect()
    # Jupyter without ipywidgets: DuckDB refuses any change, and the bar is off there
    with contextlib.suppress(duckdb.Error):
        con.execute("SET enable_progress_bar = false")
    return con


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The one row an aggregate query returns (aggregates without GROUP BY always return one)."""
    row = con.execute(sql, list(params)).fetchone()
    if row is None:
        raise RuntimeError(f"query returned no row: {sql[:200]}")
    return row


def numpy_columns(result: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray[Any, Any]]:
    """``fetchnumpy()`` typed as plain arrays: DuckDB returns (masked) arrays for the column types used here."""
    return cast(dict[str, np.ndarray[Any, Any]], result.fetchnumpy())
