"""What kind of quality file a path is, read from its name and header only.

Services report imputation quality in two shapes:

* minimac ``.info(.gz)`` tables (Michigan/TOPMed before minimac4 4.x, and the local
  engine): ``SNP, REF(0), ALT(1), ALT_Frq, MAF, [AvgCall,] Rsq, Genotyped, ...``;
* VCF INFO fields: minimac4 4.x ``R2, MAF, AF, IMPUTED, TYPED`` (dose or sites VCF) and
  beagle ``DR2, AF, IMP`` (typed markers are the ones without ``IMP``).

Only the header is read here (a few KB), so deciding how to read a 10 M-variant file costs
nothing; the rows are read by DuckDB (see :mod:`fedimpute.quality.sources`).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

from fedimpute.exceptions import UsageError

__all__ = ["QualityFile", "describe_file", "is_quality_file_name"]

_INFO_SUFFIXES = (".info", ".info.gz")
_VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz")
_INFO_ID = re.compile(r"^##INFO=<ID=([^,>]+)")
_MAX_HEADER_LINES = 200_000


@dataclass(frozen=True)
class QualityFile:
    """One file and what its header says: ``kind`` is ``info`` or ``vcf``."""

    path: Path
    kind: str
    gzipped: bool
    columns: tuple[str, ...] = ()  # info: the header's column names
    info_tags: frozenset[str] = field(default_factory=frozenset)  # vcf: INFO IDs defined in the header
    has_samples: bool = False  # vcf: genotype columns after INFO
    first_chrom: str | None = None  # info: chromosome of the first variant (files are per chromosome)


def is_quality_file_name(name: str) -> bool:
    return name.endswith(_INFO_SUFFIXES + _VCF_SUFFIXES)


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _open_text(path: Path, gzipped: bool):
    return gzip.open(path, "rt", errors="replace") if gzipped else path.open("rt", errors="replace")


def _vcf_header(path: Path, gzipped: bool) -> tuple[frozenset[str], bool]:
    tags: set[str] = set()
    with _open_text(path, gzipped) as fh:
        for n, line in enumerate(fh):
            if line.startswith("##"):
                if m := _INFO_ID.match(line):
                    tags.add(m.group(1))
            elif line.startswith("#CHROM"):
                return frozenset(tags), len(line.rstrip("\r\n").split("\t")) > 8
            else:
                break
            if n > _MAX_HEADER_LINES:
                break
    raise UsageError(f"{path}: not a VCF file (no #CHROM header line)")


def _info_header(path: Path, gzipped: bool) -> tuple[tuple[str, ...], str | None]:
    with _open_text(path, gzipped) as fh:
        first = fh.readline().rstrip("\r\n")
        row = fh.readline()
    columns = tuple(first.split("\t"))
    if "SNP" not in columns or not ({"Rsq", "R2"} & set(columns)):
        raise UsageError(
            f"{path}: not a minimac info file (its header needs SNP and Rsq columns; found "
            f"{', '.join(columns[:8]) or 'nothing'})"
        )
    snp = row.split("\t", 1)[0] if row and columns[0] == "SNP" else ""
    return columns, (snp.split(":", 1)[0] if ":" in snp else None)


def describe_file(path: str | Path) -> QualityFile:
    """Kind, compression and header facts of ``path``; a clear error for anything else."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"quality file {path} does not exist (or is not a regular file)")
    gzipped = _is_gzip(path)
    name = path.name
    if name.endswith(_VCF_SUFFIXES):
        kind = "vcf"
    elif name.endswith(_INFO_SUFFIXES):
        kind = "info"
    else:
        with _open_text(path, gzipped) as fh:
            start = fh.readline()
        kind = "vcf" if start.startswith("##fileformat=VCF") else "info" if start.startswith("SNP\t") else ""
        if not kind:
            raise UsageError(
                f"{path}: neither a minimac info file nor a VCF; give *.info.gz or *.vcf.gz files"
            )
    if kind == "vcf":
        tags, samples = _vcf_header(path, gzipped)
        if not ({"R2", "DR2"} & tags):
            raise UsageError(
                f"{path}: this VCF has no R2 (minimac4) or DR2 (beagle) INFO field, so it carries "
                "no imputation quality"
            )
        return QualityFile(path, "vcf", gzipped, info_tags=tags, has_samples=samples)
    columns, first_chrom = _info_header(path, gzipped)
    return QualityFile(path, "info", gzipped, columns=columns, first_chrom=first_chrom)
