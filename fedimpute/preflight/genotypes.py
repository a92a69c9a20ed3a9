"""One record at a time: the careful path for lines the block scanner cannot take in bulk.

The block scanner (:mod:`.scan`) handles the common case, ``FORMAT`` = ``GT`` with every call three
bytes wide, in numpy over whole blocks.  Everything else comes here: haploid calls (chrX, MT),
``GT:DS:...`` formats, long INFO fields, and broken lines.  Genotypes are still examined with
numpy per line, not with a Python loop per call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["INVALID", "MALFORMED", "MULTI", "NONSNP", "REFALT", "SNP", "LineRecord", "RowGenotypes",
           "analyse_genotypes", "classify_alleles", "genotype_text", "parse_line"]

# Allele classes of a record, in the order the server's QC filters them.
SNP, MULTI, NONSNP, INVALID, REFALT, MALFORMED = range(6)
_BASES = frozenset(b"ACGTacgt")
_GT_FIRST = re.compile(rb"(?:^|\t)([^\t:]*)")
_DOT, _TAB, _SLASH, _PIPE, _ONE, _NINE = 46, 9, 47, 124, 49, 57


def classify_alleles(ref: bytes, alt: bytes) -> int:
    """SNP, MULTI, NONSNP, INVALID (a single base that is not A/C/G/T, or ALT ``.``) or REFALT."""
    if b"," in alt:
        return MULTI
    if ref == alt:
        return REFALT
    if len(ref) == 1 and len(alt) == 1:
        return SNP if ref[0] in _BASES and alt[0] in _BASES else INVALID
    return NONSNP


@dataclass
class RowGenotypes:
    """The calls of one record: which samples are missing, mixed (``./1``), haploid or diploid."""

    nocall: np.ndarray  # indices of samples with no call
    mixed: np.ndarray  # indices of samples with one allele missing
    haploid: np.ndarray  # bool per sample
    diploid: np.ndarray  # bool per sample
    has_alt: bool
    slash: bool
    pipe: bool


def genotype_text(section: bytes, format_field: bytes) -> bytes | None:
    """The GT subfields of a sample section, tab-separated; None when FORMAT has no GT."""
    keys = format_field.split(b":")
    if b"GT" not in keys:
        return None
    index = keys.index(b"GT")
    if index == 0:
        return b"\t".join(_GT_FIRST.findall(section))
    parts = [column.split(b":") for column in section.split(b"\t")]
    return b"\t".join(p[index] if len(p) > index else b"." for p in parts)


def analyse_genotypes(gt: np.ndarray, n_samples: int) -> RowGenotypes | None:
    """Classify the calls in ``gt`` (GT text, tab-separated); None when the column count is wrong."""
    size = len(gt)
    tabs = np.flatnonzero(gt == _TAB)
    if len(tabs) != n_samples - 1 or size == 0:
        return None
    starts = np.empty(n_samples, np.int64)
    starts[0], starts[1:] = 0, tabs + 1
    ends = np.empty(n_samples, np.int64)
    ends[:-1], ends[-1] = tabs, size
    widths = ends - starts
    first = gt[np.minimum(starts, size - 1)]
    sep = gt[np.minimum(starts + 1, size - 1)]
    second = gt[np.minimum(starts + 2, size - 1)]
    haploid = widths == 1
    diploid = (widths == 3) & ((sep == _SLASH) | (sep == _PIPE))
    odd = ~haploid & ~diploid & (widths > 0)
    if odd.any():  # multi-digit alleles or polyploid calls: split those few in Python
        diploid |= _odd_diploid(gt, starts, ends, odd)
    nocall = (widths == 0) | (first == _DOT) & (haploid | (second == _DOT) | odd)
    mixed = diploid & ~odd & ((first == _DOT) != (second == _DOT))
    alt = (gt >= _ONE) & (gt <= _NINE)
    return RowGenotypes(nocall=np.flatnonzero(nocall), mixed=np.flatnonzero(mixed), haploid=haploid,
                        diploid=diploid, has_alt=bool(alt.any()), slash=bool((gt == _SLASH).any()),
                        pipe=bool((gt == _PIPE).any()))


def _odd_diploid(gt: np.ndarray, starts: np.ndarray, ends: np.ndarray, odd: np.ndarray) -> np.ndarray:
    out = np.zeros(len(starts), bool)
    raw = gt.tobytes()
    for i in np.flatnonzero(odd):
        call = raw[starts[i]:ends[i]]
        out[i] = len(re.split(rb"[/|]", call)) == 2
    return out


@dataclass
class LineRecord:
    """A record parsed the slow way; ``problem`` is set when the line is malformed."""

    chrom: bytes = b""
    pos: int = 0
    vid: bytes = b"."
    ref: bytes = b""
    alt: bytes = b""
    kind: int = MALFORMED
    passed: bool = True
    gt: bytes | None = None  # GT text when FORMAT has GT
    has_format: bool = False
    problem: str | None = None


def parse_line(line: bytes, n_samples: int) -> LineRecord:
    """Split one data line fully and say what is wrong with it, if anything."""
    if line.endswith(b"\r"):
        line = line[:-1]
    fields = line.split(b"\t")
    if len(fields) < 8:
        spaced = len(line.split()) >= 8
        return LineRecord(chrom=fields[0][:40], problem="not tab-delimited" if spaced else
                          f"{len(fields)} tab-separated columns instead of {9 + n_samples if n_samples else 8}")
    chrom, pos, vid, ref, alt, _qual, filt = fields[:7]
    record = LineRecord(chrom=chrom, vid=vid, ref=ref, alt=alt)
    if not pos.isdigit() or len(pos) > 10:
        record.problem = f"POS {pos[:20].decode(errors='replace')!r} is not a number"
        return record
    record.pos = int(pos)
    expected = 9 + n_samples if n_samples else len(fields)
    if n_samples and len(fields) != expected:
        record.problem = f"{len(fields)} columns instead of {expected} (9 + {n_samples} samples)"
        return record
    record.kind = classify_alleles(ref, alt)
    record.passed = filt in (b"PASS", b".")
    if n_samples:
        record.has_format = True
        record.gt = genotype_text(b"\t".join(fields[9:]), fields[8])
    return record
