"""What kind of quality file a path is, decided by its content, never by its name.

Services report imputation quality in these shapes, and name them as they like (Michigan 1
and Michigan 2 both call theirs ``chrN.info.gz``, with different content):

* minimac3/4 **info tables** (Michigan/TOPMed before minimac4 4.x): a tab-separated header
  ``SNP, REF(0), ALT(1), ALT_Frq, MAF, [AvgCall,] Rsq, Genotyped, ...``; typed from ``Genotyped``;
* minimac4 **info VCFs** (``chrN.info.gz`` from Michigan 2, TOPMed and the local engine, written
  by ``minimac4 --sites``): a sites-only VCF with INFO ``AF, MAF, R2, ER2`` and the flags
  ``IMPUTED``, ``TYPED``, ``TYPED_ONLY``;
* **dose VCFs** with INFO ``R2`` (minimac4) or beagle's ``DR2`` (typed markers lack ``IMP``).

The first bytes say how the file is compressed (gzip and BGZF are inflated on the fly; zstd,
BCF, zip archives and indexes are named in the error), the first line says which layout it is,
and only the header plus one record is read (a few KB), so deciding how to read a 10 M-variant
file costs nothing; the rows are read by DuckDB (see :mod:`fedimpute.quality.sources`).
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fedimpute.exceptions import UsageError

__all__ = ["NotQualityFile", "QualityFile", "describe_file", "sniff"]

_INFO_ID = re.compile(r"^##INFO=<ID=([^,>]+)")
_FORMAT_ID = re.compile(r"^##FORMAT=<ID=([^,>]+)")
_MAX_HEADER_LINES = 200_000
_MAX_LINE = 1 << 20  # a first line longer than this is not a header either format has
_GZIP = b"\x1f\x8b"
_CONVERT_BCF = "a BCF file (binary VCF); convert it with `bcftools view -Oz -o FILE.vcf.gz FILE`"
_RECOMPRESS = "decompress it and compress it with `bgzip`"
_SAV = (
    "zstd-compressed data (minimac4 writes its SAV format like this when no `-O vcf.gz` is given); "
    "re-run minimac4 with `-O vcf.gz`"
)
#: Content that is certainly no quality file: (magic, what to tell the user, suspect), checked after
#: inflation too.  Suspect: data a quality file may have been written as by mistake (not a companion
#: file such as an index or an archive, which result folders hold anyway).
_BINARY = (
    (b"BCF\x02", _CONVERT_BCF, True),
    (b"BCF\x01", _CONVERT_BCF, True),
    (b"TBI\x01", "a tabix index (.tbi), not data; give the file it indexes", False),
    (b"CSI\x01", "a CSI index, not data; give the file it indexes", False),
    (b"\x28\xb5\x2f\xfd", _SAV, True),
    (
        b"PK\x03\x04",
        "a zip archive; `fedimpute results download JOB_ID` decrypts and extracts archives",
        False,
    ),
    (b"BZh", f"bzip2-compressed data; {_RECOMPRESS}", True),
    (b"\xfd7zXZ\x00", f"xz-compressed data; {_RECOMPRESS}", True),
)
_EXPECTED = (
    "fedimpute reads minimac info tables (header line with SNP and Rsq), minimac4 info VCFs "
    "(chrN.info.gz from Michigan 2 / TOPMed) and dose VCFs with an R2 (minimac4) or DR2 (beagle) INFO field"
)


@dataclass(frozen=True)
class QualityFile:
    """One file and what its content says: ``kind`` is ``info`` (a tab table) or ``vcf``."""

    path: Path
    kind: str
    gzipped: bool
    columns: tuple[str, ...] = ()  # info: the header's column names
    info_tags: frozenset[str] = field(default_factory=frozenset)  # vcf: INFO IDs defined in the header
    has_samples: bool = False  # vcf: genotype columns after INFO
    first_chrom: str | None = None  # chromosome of the first variant (files are per chromosome)
    info_keys: tuple[str, ...] = ()  # vcf: the first record's INFO keys in order (minimac4: AF, MAF, ...)
    header_lines: int = 0  # vcf: lines before the first record (## lines and #CHROM)

    @property
    def sites_only(self) -> bool:
        """An info table or a sites-only VCF: the small per-chromosome quality file, not dosages."""
        return self.kind == "info" or not self.has_samples

    @property
    def layout(self) -> str:
        """A short human name of the shape, for messages."""
        if self.kind == "info":
            return "minimac info table"
        tag = "R2" if "R2" in self.info_tags else "DR2"
        return f"{'info VCF (sites only)' if not self.has_samples else 'dose VCF'} with {tag}"


class NotQualityFile(UsageError):
    """The file is none of the quality layouts; ``what`` says what it is.  ``suspect``: it may well be a
    quality file written wrongly (empty, BCF, zstd, damaged), not just a report or index next to one."""

    def __init__(self, path: Path, what: str, *, suspect: bool = False) -> None:
        self.path, self.what, self.suspect = path, what, suspect
        super().__init__(f"{path}: not an imputation quality file: {what}. {_EXPECTED}")

    @property
    def brief(self) -> str:
        """The file and what it is, without the list of what would have been read."""
        return f"{self.path}: {self.what}"


def _open_text(path: Path, gzipped: bool) -> IO[str]:
    """Lines end at ``\\n`` only, as DuckDB counts them (the header's length is a ``skip`` count)."""
    if gzipped:
        return gzip.open(path, "rt", errors="replace", newline="\n")
    return path.open("rt", errors="replace", newline="\n")


def _head(path: Path) -> tuple[bool, bytes]:
    """Whether ``path`` is gzip (or BGZF), and the first bytes of its content after inflation."""
    with path.open("rb") as fh:
        raw = fh.read(64)
    if raw[:2] != _GZIP:
        return False, raw
    try:
        with gzip.open(path, "rb") as fh:
            return True, fh.read(64)
    except (OSError, EOFError, zlib.error) as exc:
        raise NotQualityFile(
            path,
            f"it is gzip-compressed but cannot be decompressed ({exc}); the file is damaged or cut "
            "short: download it again",
            suspect=True,
        ) from exc


def _shown(line: str, limit: int = 80) -> str:
    """A first line as it can be quoted in a one-line message."""
    text = line if len(line) <= limit else line[:limit] + "..."
    return repr(text)


def _what_binary(head: bytes) -> tuple[str, bool] | None:
    for magic, what, suspect in _BINARY:
        if head.startswith(magic):
            return what, suspect
    if b"\x00" in head:  # images and the like in a result folder: not suspect
        return f"binary data (it starts with bytes {head[:8].hex(' ')})", False
    return None


def sniff(path: str | Path) -> tuple[str, bool, str]:
    """``(kind, gzipped, first_line)`` of a file, ``kind`` ``vcf`` or ``info`` by its first line; a
    :class:`UsageError` naming what was found for anything else (empty, binary, another table)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"quality file {path} does not exist (or is not a regular file)")
    gzipped, head = _head(path)
    if not head:
        raise NotQualityFile(path, "it is empty" + (" once decompressed" if gzipped else ""), suspect=True)
    if binary := _what_binary(head):
        raise NotQualityFile(path, f"it is {binary[0]}", suspect=binary[1])
    with _open_text(path, gzipped) as fh:
        first = fh.readline(_MAX_LINE).rstrip("\r\n")
    if first.startswith(("##fileformat=VCF", "#CHROM\t")):
        return "vcf", gzipped, first
    columns = first.split("\t")
    if "SNP" in columns and {"Rsq", "R2"} & set(columns):
        return "info", gzipped, first
    if len(columns) > 1:
        shown = ", ".join(columns[:10]) + (", ..." if len(columns) > 10 else "")
        raise NotQualityFile(
            path, f"it is a tab-separated table with columns {shown} (no SNP and Rsq columns)"
        )
    if first.startswith("##"):
        raise NotQualityFile(path, f"its first line {_shown(first)} is a header line, but not a VCF's")
    raise NotQualityFile(path, f"its first line is {_shown(first)}")


@dataclass(frozen=True)
class _VcfHead:
    info: frozenset[str]  # INFO IDs the header defines
    formats: frozenset[str]  # FORMAT IDs
    samples: bool
    chrom: str | None  # of the first record
    info_keys: tuple[str, ...]  # the first record's INFO keys, in order
    lines: int  # header lines, #CHROM included


def _first_record(line: str) -> tuple[str | None, tuple[str, ...]]:
    fields = line.rstrip("\r\n").split("\t", 8)
    if len(fields) < 8:
        return None, ()
    return fields[0], tuple(entry.split("=", 1)[0] for entry in fields[7].split(";"))


def _vcf_header(path: Path, gzipped: bool) -> _VcfHead:
    """The header's INFO and FORMAT IDs, whether there are sample columns, and the first record."""
    info: set[str] = set()
    fmt: set[str] = set()
    with _open_text(path, gzipped) as fh:
        for n, line in enumerate(fh):
            if line.startswith("##"):
                if m := _INFO_ID.match(line):
                    info.add(m.group(1))
                elif m := _FORMAT_ID.match(line):
                    fmt.add(m.group(1))
            elif line.startswith("#CHROM"):
                samples = len(line.rstrip("\r\n").split("\t")) > 8
                chrom, keys = _first_record(fh.readline(_MAX_LINE))
                return _VcfHead(frozenset(info), frozenset(fmt), samples, chrom, keys, n + 1)
            else:
                break
            if n > _MAX_HEADER_LINES:
                break
    raise NotQualityFile(path, "it starts like a VCF but has no #CHROM header line", suspect=True)


def _describe_vcf(path: Path, gzipped: bool) -> QualityFile:
    head = _vcf_header(path, gzipped)
    if "LDS" in head.formats and not ({"DS", "HDS", "GP"} & head.formats):
        raise NotQualityFile(
            path, "it is an empirical-dose VCF (FORMAT LDS: leave-one-out dosages of the typed sites)"
        )
    if not ({"R2", "DR2"} & head.info):
        raise NotQualityFile(
            path,
            "this VCF has no R2 (minimac4) or DR2 (beagle) INFO field, so it carries no imputation quality "
            f"(its INFO fields: {', '.join(sorted(head.info)) or 'none'})",
            suspect=True,
        )
    return QualityFile(
        path,
        "vcf",
        gzipped,
        info_tags=head.info,
        has_samples=head.samples,
        first_chrom=head.chrom,
        info_keys=head.info_keys,
        header_lines=head.lines,
    )


def _describe_info(path: Path, gzipped: bool) -> QualityFile:
    with _open_text(path, gzipped) as fh:
        columns = tuple(fh.readline(_MAX_LINE).rstrip("\r\n").split("\t"))
        row = fh.readline(_MAX_LINE)
    snp = row.split("\t", 1)[0] if row and columns[0] == "SNP" else ""
    chrom = snp.split(":", 1)[0] if ":" in snp else None
    return QualityFile(path, "info", gzipped, columns=columns, first_chrom=chrom)


def describe_file(path: str | Path) -> QualityFile:
    """Layout, compression and header facts of ``path``, from its content; a clear error naming what
    was found for anything that is not a quality file."""
    path = Path(path)
    kind, gzipped, _ = sniff(path)
    return _describe_vcf(path, gzipped) if kind == "vcf" else _describe_info(path, gzipped)
