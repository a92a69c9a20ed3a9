"""One cohort against one panel's sites: overlap, allele problems and allele-frequency concordance.

Every definition is the Michigan/TOPMed QC's (imputationserver-utils ``StatisticsTask`` and
``GenomicTools``), so the numbers predict what the server will say:

- a typed SNP is *found* when the panel has a site at its position; the alleles are then, in this
  order of precedence, a match, A/T-C/G (strand-ambiguous on both sides), an allele switch
  (REF/ALT swapped), a strand flip (both complemented), a strand flip and allele switch, or an
  allele mismatch (:func:`fedimpute.preflight.panel.compare_alleles`);
- chunks are 20 Mb (``(pos - 1) // 20e6``); one is excluded when fewer than 50% of its typed SNPs
  are found (reference overlap) or fewer than 3 are found (``minSnps``);
- the allele-frequency check covers found SNPs that are matches, A/T-C/G or allele switches, with
  the cohort's frequency turned round where REF/ALT are swapped; its chi-square is the server's
  (``GenomicTools.chiSquare``, panel size = the panel's samples) and ``> 300`` is an outlier, as
  in the server's QC report.  The population's frequency is used where the panel has one.

The REF mismatches are the found SNPs whose REF differs from the panel's REF (what a reference
check against the panel flags); allele switches, flips and mismatches are among them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fedimpute.advise.cohort import CohortSites
from fedimpute.advise.sites import SitesTable
from fedimpute.preflight.panel import PANEL_LABELS, PanelSites, compare_alleles

__all__ = ["CHUNK", "MIN_SNPS", "OUTLIER_CHISQ", "OVERLAP", "ChunkEvidence", "LocalEvidence", "compare"]

CHUNK = 20_000_000
OVERLAP = 0.5
MIN_SNPS = 3
OUTLIER_CHISQ = 300.0
COMMON = 0.05
MAX_POINTS = 5000


@dataclass(frozen=True)
class ChunkEvidence:
    """One 20 Mb chunk with typed SNPs: what the server's QC would make of it."""

    chromosome: str
    start: int
    end: int
    typed: int
    found: int
    panel_sites: int
    panel_common: int  # panel sites with 5% <= AF <= 95% (unknown AF counts as common)
    excluded: bool
    reason: str | None

    @property
    def overlap(self) -> float:
        return self.found / self.typed if self.typed else 0.0

    @property
    def covered(self) -> float:
        return self.found / self.panel_sites if self.panel_sites else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"chromosome": self.chromosome, "start": self.start, "end": self.end, "typed": self.typed,
                "found": self.found, "overlap": round(self.overlap, 4), "panel_sites": self.panel_sites,
                "covered": round(self.covered, 6), "excluded": self.excluded, "reason": self.reason}


@dataclass
class LocalEvidence:
    """Everything the local comparison found for one (cohort, panel) pair."""

    typed: int = 0
    found: int = 0
    alleles: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PANEL_LABELS, 0))
    ref_mismatches: int = 0
    chunks: list[ChunkEvidence] = field(default_factory=list)
    af_sites: int = 0
    af_correlation: float | None = None
    af_mean_abs_diff: float | None = None
    af_outliers: int | None = None  # chi-square > 300; None when the panel's size is unknown
    af_population: str | None = None  # the population whose frequency was compared, None: the whole panel
    fst: float | None = None  # Hudson's estimator over the AF-checked SNPs (sampling noise removed)
    points: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0), np.zeros(0)))

    @property
    def overlap(self) -> float:
        return self.found / self.typed if self.typed else 0.0

    @property
    def strand_flips(self) -> int:
        """Strand flips as the server's limit counts them: simple flips plus flips with a switch."""
        return self.alleles["strand_flip"] + self.alleles["strand_flip_and_allele_switch"]

    @property
    def allele_switches(self) -> int:
        """Allele switches as the server's limit counts them: simple switches plus flips with a switch."""
        return self.alleles["allele_switch"] + self.alleles["strand_flip_and_allele_switch"]

    @property
    def excluded_chunks(self) -> int:
        return sum(c.excluded for c in self.chunks)

    @property
    def common_kept(self) -> float:
        """Share of the panel's common sites in the cohort's chunks that lie in chunks the server keeps."""
        total = sum(c.panel_common for c in self.chunks)
        return sum(c.panel_common for c in self.chunks if not c.excluded) / total if total else 0.0

    def per_chromosome(self) -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for c in self.chunks:
            row = rows.setdefault(c.chromosome, {"chromosome": c.chromosome, "typed": 0, "found": 0,
                                                 "panel_sites": 0, "excluded_chunks": 0})
            row["typed"] += c.typed
            row["found"] += c.found
            row["panel_sites"] += c.panel_sites
            row["excluded_chunks"] += c.excluded
        for row in rows.values():
            row["overlap"] = round(row["found"] / row["typed"], 4) if row["typed"] else 0.0
            row["covered"] = round(row["found"] / row["panel_sites"], 6) if row["panel_sites"] else 0.0
        return list(rows.values())


def compare(cohort: CohortSites, table: SitesTable, *, population: str | None = None,
            panel_samples: int | None = None) -> LocalEvidence:
    """Compare every chromosome of ``cohort`` with ``table``; ``panel_samples`` sizes the chi-square."""
    evidence = LocalEvidence()
    size = panel_samples or (table.haplotypes // 2 if table.haplotypes else None)
    af_parts: list[tuple[np.ndarray, ...]] = []
    for chrom in sorted(cohort.chromosomes, key=_chrom_order):
        sites = cohort.chromosomes[chrom]
        pos = sites["pos"]
        chunk = (pos - 1) // CHUNK
        lo, hi = int(chunk.min()) * CHUNK + 1, (int(chunk.max()) + 1) * CHUNK
        panel = table.chromosome(chrom, lo, hi, population)
        found, verdict = compare_alleles(PanelSites(path=table.path, sites={chrom: (panel.pos, panel.ref, panel.alt)}),
                                         chrom, pos, sites["ref"], sites["alt"])
        evidence.typed += len(pos)
        evidence.found += int(found.sum())
        for label, mask in verdict.items():
            evidence.alleles[label] += int(mask.sum())
        at = np.minimum(np.searchsorted(panel.pos, pos), max(len(panel.pos) - 1, 0))
        if len(panel.pos):
            evidence.ref_mismatches += int((found & (sites["ref"] != panel.ref[at])).sum())
        evidence.chunks += _chunks(chrom, chunk, found, panel.pos, panel.af)
        checked = found & (verdict["match"] | verdict["atcg"] | verdict["allele_switch"])
        if checked.any():
            reference = panel.population_af if panel.population_af is not None else panel.af
            swap = (sites["ref"] == panel.alt[at]) & (sites["alt"] == panel.ref[at])
            cohort_af = cohort.af(chrom)
            aligned = np.where(swap, 1 - cohort_af, cohort_af)
            af_parts.append((aligned[checked], reference[at][checked].astype(float), sites["an"][checked]))
        if panel.population_af is not None:
            evidence.af_population = population
    _frequencies(evidence, af_parts, size, table.haplotypes)
    return evidence


def _chrom_order(chrom: str) -> tuple[int, str]:
    return (int(chrom), "") if chrom.isdigit() else (100, chrom)


def _chunks(chrom: str, chunk: np.ndarray, found: np.ndarray, panel_pos: np.ndarray,
            panel_af: np.ndarray) -> list[ChunkEvidence]:
    out = []
    common = ~((panel_af < COMMON) | (panel_af > 1 - COMMON))  # NaN (unknown) counts as common
    for k in np.unique(chunk).tolist():
        start, end = k * CHUNK + 1, (k + 1) * CHUNK
        inside = chunk == k
        typed, hits = int(inside.sum()), int(found[inside].sum())
        a, b = np.searchsorted(panel_pos, [start, end + 1])
        reason = None
        if typed and hits / typed < OVERLAP:
            reason = f"reference overlap {hits / typed:.0%} < {OVERLAP:.0%}"
        elif hits < MIN_SNPS:
            reason = f"{hits} SNP(s) in the panel < {MIN_SNPS}"
        out.append(ChunkEvidence(chrom, start, end, typed, hits, int(b - a), int(common[a:b].sum()),
                                 reason is not None, reason))
    return out


def _frequencies(evidence: LocalEvidence, parts: list[tuple[np.ndarray, ...]], size: int | None,
                 haplotypes: int | None) -> None:
    """Correlation, mean |difference|, the server's chi-square outliers and Hudson's Fst."""
    if not parts:
        return
    cohort_af, panel_af, an = (np.concatenate(c) for c in zip(*parts, strict=True))
    ok = np.isfinite(cohort_af) & np.isfinite(panel_af) & (an > 0)
    cohort_af, panel_af, an = cohort_af[ok], panel_af[ok], an[ok].astype(float)
    evidence.af_sites = len(cohort_af)
    if not len(cohort_af):
        return
    evidence.af_mean_abs_diff = float(np.abs(cohort_af - panel_af).mean())
    if len(cohort_af) > 2 and cohort_af.std() > 0 and panel_af.std() > 0:
        evidence.af_correlation = float(np.corrcoef(cohort_af, panel_af)[0, 1])
    if size:
        evidence.af_outliers = int((michigan_chisq(cohort_af, an, panel_af, size) > OUTLIER_CHISQ).sum())
    evidence.fst = hudson_fst(cohort_af, an, panel_af, haplotypes)
    step = max(1, len(cohort_af) // MAX_POINTS)
    evidence.points = (cohort_af[::step].copy(), panel_af[::step].copy())


def michigan_chisq(q: np.ndarray, study_n: np.ndarray, ref_b: np.ndarray, ref_n: int) -> np.ndarray:
    """The server's per-SNP chi-square (``GenomicTools.chiSquare``): ``q`` the cohort's alternate allele
    frequency over ``study_n`` called alleles, ``ref_b`` the panel's, ``ref_n`` the panel's size."""
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.zeros(len(q))
        for mine, theirs in ((q, ref_b), (1 - q, 1 - ref_b)):
            pooled = mine * study_n + theirs * ref_n
            expected = pooled / (study_n + ref_n) * study_n
            delta = mine * study_n - expected
            total += delta**2 / expected + delta**2 / (pooled - expected)
    return np.nan_to_num(total, nan=0.0, posinf=np.inf)


def hudson_fst(p1: np.ndarray, n1: np.ndarray, p2: np.ndarray, n2: int | None) -> float | None:
    """Hudson's Fst (ratio of averages, Bhatia et al. 2013), each frequency's sampling noise removed;
    the panel's noise is ignored when its size is unknown."""
    keep = n1 > 1
    p1, n1, p2 = p1[keep], n1[keep], p2[keep]
    if not len(p1):
        return None
    num = (p1 - p2) ** 2 - p1 * (1 - p1) / (n1 - 1)
    if n2 and n2 > 1:
        num -= p2 * (1 - p2) / (n2 - 1)
    den = p1 * (1 - p2) + p2 * (1 - p1)
    total = float(den.sum())
    return max(0.0, float(num.sum()) / total) if total > 0 else None
