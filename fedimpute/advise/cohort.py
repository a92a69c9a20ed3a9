"""The cohort, read once: the pre-flight scan plus each typed SNP's alleles and allele counts.

The pass is the pre-flight check's own (:class:`~fedimpute.preflight.scan.FileScan` on the
pre-flight reader), so the SNPs the advisor compares with a panel are exactly those the server's
QC would compare: biallelic A/C/G/T SNPs that pass FILTER, are not duplicates, not monomorphic
and called in at least 90% of samples.  The scan's panel hook, which the pre-flight check uses to
compare alleles with one given panel, here records each such SNP's position, alleles and allele
counts instead, so that every candidate panel is compared afterwards without reading the file
again.  The same pass yields the pre-flight report (build, samples, failing checks).

Allele counts follow the server's QC (imputationserver-utils StatisticsTask): alternate alleles
over called alleles, ``(het + 2 * hom_alt) / (2 * (samples - no_calls))``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fedimpute.preflight.build import canonical
from fedimpute.preflight.checks import Options, file_checks
from fedimpute.preflight.panel import PanelSites
from fedimpute.preflight.report import FileReport
from fedimpute.preflight.runner import scan_file
from fedimpute.preflight.scan import FileScan, _Block

__all__ = ["CohortSites", "SiteScan", "scan_cohort"]

_ONE, _DOT = 49, 46
_GT_ALLELES = re.compile(rb"[0-9]+|\.")


class SiteScan(FileScan):
    """A FileScan that keeps, for every SNP the server would compare with a panel, its position,
    alleles and allele counts (per block, as numpy arrays)."""

    def __init__(self, n_samples: int, *, par_build: str = "hg19", panel: PanelSites | None = None) -> None:
        """``panel`` is ignored: every SNP is kept, to be compared with each candidate panel later."""
        super().__init__(n_samples, par_build=par_build, panel=PanelSites(path=Path("-")))
        self.kept: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def _panel(self, panel: PanelSites, buf: bytearray, block: _Block, cid: int, lo: int, hi: int,
               valid: np.ndarray, name: str) -> None:
        rows = lo + np.flatnonzero(valid)
        if not len(rows):
            return
        ac, an = np.zeros(len(rows), np.int32), np.zeros(len(rows), np.int32)
        fixed = block.fixed[rows]
        if fixed.any():
            ac[fixed], an[fixed] = self._fixed_counts(buf, block, rows[fixed])
        for j in np.flatnonzero(~fixed):  # other FORMATs, haploid calls: rare, one line at a time
            ac[j], an[j] = _line_counts(bytes(buf[block.starts[rows[j]]:block.ends[rows[j]]]))
        self.kept.append((cid, block.pos[rows].copy(), block.ref[rows].copy(), block.alt[rows].copy(), ac, an))

    def _fixed_counts(self, buf: bytearray, block: _Block, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """'1' and '.' bytes within each line's calls: calls are ``a/b``, so they count alleles."""
        a = np.frombuffer(buf, np.uint8)
        g, e = block.gstart[rows], block.ends[rows]
        base = int(g[0])
        window = a[base:int(e[-1]) + 1]  # one byte past the last line: reduceat needs every start < len
        bounds = np.empty(2 * len(g), np.int64)
        bounds[0::2], bounds[1::2] = g - base, e - base
        ones = np.add.reduceat(window == _ONE, bounds, dtype=np.int32)[0::2]
        dots = np.add.reduceat(window == _DOT, bounds, dtype=np.int32)[0::2]
        return ones, 2 * self.n - dots


def _line_counts(line: bytes) -> tuple[int, int]:
    """(alternate alleles, called alleles) of one record, from the GT subfield of each sample."""
    fields = line.rstrip(b"\r").split(b"\t")
    keys = fields[8].split(b":") if len(fields) > 8 else []
    if b"GT" not in keys:
        return 0, 0
    at = keys.index(b"GT")
    alt = called = 0
    for column in fields[9:]:
        parts = column.split(b":")
        for allele in _GT_ALLELES.findall(parts[at] if len(parts) > at else b"."):
            if allele != b".":
                called += 1
                alt += allele != b"0"
    return alt, called


@dataclass
class CohortSites:
    """The typed SNPs of one cohort (all its files), grouped by canonical chromosome."""

    files: list[FileReport] = field(default_factory=list)
    samples: int = 0
    chromosomes: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # pos, ref, alt, ac, an

    @property
    def typed(self) -> int:
        return sum(len(c["pos"]) for c in self.chromosomes.values())

    @property
    def build(self) -> str | None:
        builds = {f.build for f in self.files if f.build}
        return builds.pop() if len(builds) == 1 else None

    def af(self, chrom: str) -> np.ndarray:
        c = self.chromosomes[chrom]
        return np.where(c["an"] > 0, c["ac"] / np.maximum(c["an"], 1), np.nan)


def scan_cohort(paths: list[Path], *, build: str = "auto") -> CohortSites:
    """Read every file once; a file that cannot be read contributes its failing report and no SNPs."""
    cohort = CohortSites()
    for path in paths:
        facts = scan_file(Path(path), Options(build=build), None, scan_class=SiteScan, parallel=False)
        scan = facts.scan
        if scan is not None:
            scan.panel = None  # the pre-flight's panel checks are not ours: the report leaves them out
        cohort.files.append(file_checks(facts, Options(build=build)))
        if not isinstance(scan, SiteScan):
            continue
        cohort.samples = max(cohort.samples, scan.n)
        _collect(cohort, scan)
    return cohort


def _collect(cohort: CohortSites, scan: SiteScan) -> None:
    by_chrom: dict[str, list[tuple[np.ndarray, ...]]] = {}
    for cid, *columns in scan.kept:
        by_chrom.setdefault(canonical(scan.chroms[cid]), []).append(tuple(columns))
    for chrom, parts in by_chrom.items():
        cols = dict(zip(("pos", "ref", "alt", "ac", "an"), (np.concatenate(c) for c in zip(*parts, strict=True)),
                        strict=True))
        if chrom in cohort.chromosomes:  # the same chromosome in two files: the pre-flight fails it anyway
            old = cohort.chromosomes[chrom]
            cols = {k: np.concatenate([old[k], v]) for k, v in cols.items()}
        order = np.argsort(cols["pos"], kind="stable")
        cohort.chromosomes[chrom] = {k: v[order] for k, v in cols.items()}
    scan.kept = []
