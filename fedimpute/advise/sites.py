"""A panel's sites as a Parquet table: converted once by DuckDB, read back one chromosome at a time.

Why Parquet: a panel's sites file is large (HRC: 40 M sites, 1000G: 80 M), and advice is asked
again and again for new cohorts.  Parsing the VCF each time would cost more than the whole
comparison; DuckDB converts it once (in parallel, in bounded memory) and then hands back only the
chromosome and the region a cohort covers, as numpy columns.  Only biallelic SNPs with A/C/G/T
alleles are kept, as the servers' legend files do.

Accepted inputs (plain, gzip or bgzip):

- a VCF (sites-only or with genotypes, which are ignored).  ``AF`` is read from INFO, else
  ``AC/AN``; ``AN`` gives the panel's haplotype count; population frequencies are the INFO keys
  ``AF_<pop>`` or ``<pop>_AF`` (``EUR_AF``, ``AF_afr``) that the header declares;
- a tab-separated file ``CHROM POS REF ALT [AF [...]]``, with an optional header line whose
  extra columns ``AF_<pop>`` / ``<pop>_AF`` are population frequencies.

Table columns: ``chrom`` (as written in the file), ``pos``, ``ref``/``alt`` (base codes 1-4 for
A, C, G, T, as :mod:`fedimpute.preflight.panel` uses), ``af`` and ``af_<pop>`` (float, null when
unknown) and ``an``.  ``manifest.json`` beside it says where it came from and what it holds.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from fedimpute.exceptions import UsageError
from fedimpute.models import utcnow
from fedimpute.preflight.build import canonical

__all__ = ["PanelChromosome", "SitesTable", "convert_sites", "read_manifest"]

TABLE, MANIFEST = "sites.parquet", "manifest.json"
_POP_INFO = re.compile(r"^(?:AF_([A-Za-z0-9]+)|([A-Za-z0-9]+)_AF)$")
_INFO_ID = re.compile(r"^##INFO=<ID=([^,>]+)")
_BASES = "('A', 'C', 'G', 'T')"
#: DuckDB's share of the machine while it converts: the advice must stay well under 500 MiB.
DUCKDB_SETTINGS = "SET threads = 2; SET memory_limit = '256MB'; SET preserve_insertion_order = true"


@dataclass(frozen=True)
class PanelChromosome:
    """One chromosome of a panel, sorted by position, one site per position (the first one)."""

    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    af: np.ndarray  # NaN where the panel gives no frequency
    population_af: np.ndarray | None  # the chosen population's frequency, when the panel has it


@dataclass(frozen=True)
class SitesTable:
    """A converted sites table and its manifest."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def path(self) -> Path:
        return self.folder / TABLE

    @property
    def populations(self) -> list[str]:
        return list(self.manifest.get("populations", []))

    @property
    def haplotypes(self) -> int | None:
        value = self.manifest.get("haplotypes")
        return int(value) if value else None

    def names_for(self, chrom: str) -> list[str]:
        """The panel's own names of a chromosome (``20`` and ``chr20`` are the same chromosome)."""
        wanted = canonical(chrom)
        return [raw for raw, canon in self.manifest.get("chromosomes", {}).items() if canon == wanted]

    def chromosome(self, chrom: str, lo: int = 0, hi: int = 2**62, population: str | None = None) -> PanelChromosome:
        """Sites of ``chrom`` between ``lo`` and ``hi`` (inclusive)."""
        names = self.names_for(chrom)
        pop = _column(population) if population else None
        pop_col = f", af_{pop} AS pop" if pop and pop in self.populations else ""
        if not names:
            empty = np.zeros(0, np.int64)
            return PanelChromosome(empty, empty.astype(np.uint8), empty.astype(np.uint8), empty.astype(np.float32),
                                   empty.astype(np.float32) if pop_col else None)
        with duckdb.connect() as con:
            con.execute(DUCKDB_SETTINGS)
            marks = ", ".join("?" * len(names))
            data = con.execute(f"SELECT pos, ref, alt, af{pop_col} FROM read_parquet(?) WHERE chrom IN ({marks}) "
                               "AND pos BETWEEN ? AND ?", [str(self.path), *names, lo, hi]).fetchnumpy()
        return _sorted_unique(data, bool(pop_col))


def _sorted_unique(data: dict[str, Any], with_pop: bool) -> PanelChromosome:
    """Sort by position (a sorted file stays as it is) and keep the first site at each position."""
    pos = np.asarray(data["pos"], np.int64)
    cols = {k: np.ma.filled(data[k], np.nan) if k in ("af", "pop") else np.asarray(data[k])
            for k in ("ref", "alt", "af", *(("pop",) if with_pop else ()))}
    if len(pos) > 1 and (np.diff(pos) < 0).any():
        order = np.argsort(pos, kind="stable")
        pos, cols = pos[order], {k: v[order] for k, v in cols.items()}
    first = np.ones(len(pos), bool)
    first[1:] = pos[1:] != pos[:-1]
    if not first.all():
        pos, cols = pos[first], {k: v[first] for k, v in cols.items()}
    return PanelChromosome(pos, cols["ref"].astype(np.uint8), cols["alt"].astype(np.uint8),
                           cols["af"].astype(np.float32), cols["pop"].astype(np.float32) if with_pop else None)


def _column(population: str) -> str:
    return re.sub(r"[^a-z0-9]", "_", population.lower())


def read_manifest(folder: Path) -> SitesTable | None:
    """The converted table in ``folder``, or None when there is none (or it is unreadable)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return SitesTable(folder, manifest) if (folder / TABLE).is_file() else None


def source_stamp(path: Path) -> dict[str, Any]:
    """What identifies a source file's version: a changed file is converted again."""
    info = path.stat()
    return {"source": str(path.resolve()), "source_size": info.st_size, "source_mtime": info.st_mtime}


def convert_sites(source: Path, folder: Path, **extra: Any) -> SitesTable:
    """Convert ``source`` (a sites VCF or tab file) into ``folder``; raises UsageError naming the problem."""
    source = Path(source)
    if not source.is_file():
        raise UsageError(f"sites file {source} does not exist; give a VCF or a tab-separated CHROM POS REF ALT AF file")
    header, first = _head(source)
    is_vcf = any(line.startswith("##fileformat=VCF") for line in header) or (
        first is not None and len(first) >= 8 and not _is_base(first[2]) and _is_base(first[3]))
    if is_vcf:
        pops = sorted({_column(m[1] or m[2]) for line in header if (i := _INFO_ID.match(line))
                       and (m := _POP_INFO.match(i[1]))})
        query, params = _vcf_query(source, pops)
    else:
        query, params, pops = _tab_query(source, header, first)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / (TABLE + ".partial")
    try:
        with duckdb.connect() as con:
            con.execute(DUCKDB_SETTINGS)
            con.execute(f"COPY ({query}) TO '{_sql_path(partial)}' (FORMAT parquet, COMPRESSION zstd)", params)
            facts = con.execute("SELECT count(*), median(an) FROM read_parquet(?)", [str(partial)]).fetchone()
            chroms = [r[0] for r in con.execute("SELECT DISTINCT chrom FROM read_parquet(?)",
                                                [str(partial)]).fetchall()]
    except duckdb.Error as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot read the sites file {source}: {str(exc).splitlines()[0]}; expected a VCF, or "
                         "tab-separated CHROM POS REF ALT [AF] lines") from exc
    count, haplotypes = (facts or (0, None))
    if not count:
        partial.unlink(missing_ok=True)
        raise UsageError(f"the sites file {source} holds no biallelic SNPs (single-base A/C/G/T REF and ALT); "
                         "expected VCF records or tab-separated CHROM POS REF ALT [AF] lines")
    partial.replace(folder / TABLE)
    manifest = {**extra, **source_stamp(source), "format": "vcf" if is_vcf else "tab", "sites": int(count),
                "chromosomes": {c: canonical(c) for c in sorted(chroms)}, "populations": pops,
                "haplotypes": int(haplotypes) if haplotypes else None, "converted_at": utcnow().isoformat()}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return SitesTable(folder, manifest)


def _sql_path(path: Path) -> str:
    """A path inside a COPY statement (which takes no parameter for its target)."""
    return str(path).replace("'", "''")


def _head(path: Path) -> tuple[list[str], list[str] | None]:
    """The ``#`` lines and the first other line, split on tabs; gzip and bgzip are read alike."""
    with path.open("rb") as raw:
        magic = raw.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    header: list[str] = []
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                text = line.rstrip("\r\n")
                if text.startswith("#"):
                    header.append(text)
                elif text.strip():
                    return header, text.split("\t")
    except (OSError, EOFError) as exc:
        raise UsageError(f"cannot read the sites file {path}: {exc}") from exc
    return header, None


def _is_base(value: str) -> bool:
    return bool(value) and all(c in "ACGTNacgtn," for c in value)


def _codes(ref: str, alt: str) -> str:
    return (f"instr('ACGT', upper({ref}))::UTINYINT AS ref, instr('ACGT', upper({alt}))::UTINYINT AS alt")


def _info_float(key: str) -> str:
    return f"TRY_CAST(regexp_extract(info, '(?:^|;){key}=([^;,]+)', 1) AS FLOAT)"


def _vcf_query(source: Path, pops: list[str]) -> tuple[str, list[Any]]:
    columns = ", ".join(f"'{c}': '{'BIGINT' if c == 'pos' else 'VARCHAR'}'"
                        for c in ("chrom", "pos", "id", "ref", "alt", "qual", "filter", "info"))
    pop_cols = "".join(f", coalesce({_info_float(f'AF_{p}')}, {_info_float(f'{p}_AF')}, "
                       f"{_info_float(f'AF_{p.upper()}')}, {_info_float(f'{p.upper()}_AF')}) AS af_{p}" for p in pops)
    an = "TRY_CAST(regexp_extract(info, '(?:^|;)AN=([0-9]+)', 1) AS INTEGER)"
    query = (f"SELECT chrom, pos, {_codes('ref', 'alt')}, coalesce({_info_float('AF')}, "
             f"{_info_float('AC')} / NULLIF({an}, 0)) AS af, {an} AS an{pop_cols} "
             "FROM read_csv(?, delim='\t', comment='#', header=false, auto_detect=false, quote='', escape='', "
             f"strict_mode=false, null_padding=true, columns={{{columns}}}) "
             f"WHERE upper(ref) IN {_BASES} AND upper(alt) IN {_BASES}")
    return query, [str(source)]


def _tab_query(source: Path, header: list[str], first: list[str] | None) -> tuple[str, list[Any], list[str]]:
    """``CHROM POS REF ALT [AF ...]``; a header names extra AF columns (``AF_EUR``, ``EUR_AF``)."""
    if first is None:
        raise UsageError(f"the sites file {source} has no data lines; expected tab-separated CHROM POS REF ALT [AF]")
    has_header = len(first) >= 2 and not first[1].isdigit()
    names = ([n.strip().lstrip("#") for n in header[-1].split("\t")] if header and not has_header
             else [n.strip() for n in first] if has_header else [])
    width = len(first)
    if width < 4:
        raise UsageError(f"the sites file {source} has {width} column(s) per line; expected CHROM POS REF ALT [AF]")
    cols = [f"c{i}" for i in range(width)]
    pops: list[str] = []
    select = [f"c0 AS chrom, TRY_CAST(c1 AS BIGINT) AS pos, {_codes('c2', 'c3')}",
              "TRY_CAST(c4 AS FLOAT) AS af" if width > 4 else "NULL::FLOAT AS af", "NULL::INTEGER AS an"]
    for i, name in enumerate(names[5:width], start=5):
        if m := _POP_INFO.match(name):
            pop = _column(m[1] or m[2])
            pops.append(pop)
            select.append(f"TRY_CAST(c{i} AS FLOAT) AS af_{pop}")
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in cols)
    query = (f"SELECT {', '.join(select)} FROM read_csv(?, delim='\t', comment='#', header={str(has_header).lower()}, "
             f"auto_detect=false, quote='', escape='', strict_mode=false, null_padding=true, columns={{{spec}}}) "
             f"WHERE upper(c2) IN {_BASES} AND upper(c3) IN {_BASES} AND TRY_CAST(c1 AS BIGINT) IS NOT NULL")
    return query, [str(source)], pops
