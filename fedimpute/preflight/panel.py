"""A reference panel's sites, given locally, and the server's allele comparison against them.

The server compares each study SNP with the panel's legend at the same position and counts:
match, A/T-C/G (strand-ambiguous on both sides), allele switch (REF/ALT swapped), strand flip
(complemented), strand flip plus allele switch, and allele mismatch (anything else)
(imputationserver-utils GenomicTools, in that order of precedence).  More than 100 strand flips,
or more than 100 allele switches on MIS2 panels, stop the job; chunks whose overlap with the
panel is below 50% are dropped.

A sites file is a VCF/VCF.gz of the panel's sites, or a tab-separated ``CHROM POS REF ALT`` file
(header optional).  Only biallelic SNPs are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fedimpute.exceptions import UsageError
from fedimpute.preflight.build import canonical
from fedimpute.preflight.reader import ReadError, Source, line_blocks, open_source, sniff

__all__ = ["PANEL_LABELS", "PanelSites", "compare_alleles", "load_panel_sites"]

#: Verdict labels, in the server's order of precedence.
PANEL_LABELS = ("match", "atcg", "allele_switch", "strand_flip", "strand_flip_and_allele_switch", "allele_mismatch")
_CODE = {ord(b): i + 1 for i, b in enumerate("ACGT")} | {ord(b): i + 1 for i, b in enumerate("acgt")}


@dataclass
class PanelSites:
    """Per canonical chromosome: sorted positions and base codes (1-4 = A, C, G, T) of REF and ALT."""

    path: Path
    sites: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(p) for p, _, _ in self.sites.values())


def load_panel_sites(path: Path) -> PanelSites:
    """Read a sites file; raises UsageError with a message when it cannot be used."""
    path = Path(path)
    try:
        kind = sniff(path)
        if kind.compression is None:
            raise UsageError(f"panel sites file {path}: {kind.problem}")
        source = open_source(path, kind)
        try:
            per_chrom = _collect(source)
        finally:
            source.close()
    except ReadError as exc:
        raise UsageError(f"panel sites file {path}: {exc}") from exc
    panel = PanelSites(path=path)
    for chrom, (pos, ref, alt) in per_chrom.items():
        p = np.array(pos, np.int64)
        order = np.argsort(p, kind="stable")
        p, r, a = p[order], np.array(ref, np.uint8)[order], np.array(alt, np.uint8)[order]
        first = np.ones(len(p), bool)
        first[1:] = p[1:] != p[:-1]  # keep the first site at a position
        panel.sites[chrom] = (p[first], r[first], a[first])
    if not panel.count:
        raise UsageError(f"panel sites file {path} holds no biallelic SNPs: expected VCF records or "
                         "tab-separated CHROM POS REF ALT lines")
    return panel


def _collect(source: Source) -> dict[str, tuple[list[int], list[int], list[int]]]:
    out: dict[str, tuple[list[int], list[int], list[int]]] = {}
    vcf = None
    for buf, end in line_blocks(source):
        for line in bytes(buf[:end]).split(b"\n"):
            if not line or line[0] == 35:
                if line.startswith((b"##fileformat=VCF", b"#CHROM")):
                    vcf = True
                continue
            fields = line.rstrip(b"\r").split(b"\t", 6)
            if len(fields) < 4 or not fields[1].isdigit():
                continue  # a column-name line, or not a site
            if vcf is None:
                vcf = len(fields) >= 5 and not _allele(fields[2])
            ref, alt = (fields[3], fields[4]) if vcf and len(fields) >= 5 else (fields[2], fields[3])
            if len(ref) != 1 or len(alt) != 1:
                continue
            r, a = _CODE.get(ref[0]), _CODE.get(alt[0])
            if r and a:
                entry = out.setdefault(canonical(fields[0].decode(errors="replace")), ([], [], []))
                entry[0].append(int(fields[1]))
                entry[1].append(r)
                entry[2].append(a)
    return out


def _allele(value: bytes) -> bool:
    return bool(value) and all(b in b"ACGTNacgtn" for b in value)


def compare_alleles(panel: PanelSites, chrom: str, pos: np.ndarray, ref: np.ndarray,
                    alt: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(found, {label: mask})`` for study SNPs at ``pos`` with base codes ``ref``/``alt``."""
    found = np.zeros(len(pos), bool)
    verdict = {label: np.zeros(len(pos), bool) for label in PANEL_LABELS}
    entry = panel.sites.get(chrom)
    if entry is None or not len(pos):
        return found, verdict
    p, pr, pa = entry
    i = np.minimum(np.searchsorted(p, pos), len(p) - 1)
    found = p[i] == pos
    big_r, big_a = pr[i], pa[i]
    comp_r, comp_a = 5 - ref, 5 - alt  # A<->T, C<->G with codes 1-4
    match = found & (ref == big_r) & (alt == big_a)
    same_class = np.minimum(ref, alt) == np.minimum(big_r, big_a)
    atcg = found & ~match & (ref + alt == 5) & (big_r + big_a == 5) & same_class
    rest = found & ~match & ~atcg
    switch = rest & (ref == big_a) & (alt == big_r)
    flip = rest & ~switch & (comp_r == big_r) & (comp_a == big_a)
    flip_switch = rest & ~switch & ~flip & (comp_r == big_a) & (comp_a == big_r)
    verdict.update(match=match, atcg=atcg, allele_switch=switch, strand_flip=flip,
                   strand_flip_and_allele_switch=flip_switch,
                   allele_mismatch=rest & ~switch & ~flip & ~flip_switch)
    return found, verdict
