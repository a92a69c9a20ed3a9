"""Imputation accuracy against the truth, for simulated data where the truth is known.

Aggregate r² per reference-MAF bin is the squared Pearson correlation over all pooled
(dosage, true allele count) pairs of the masked sites in the bin (the servers' metric);
sites typed on the array are left out, since they were not imputed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["BinScore", "score_against_truth"]

DEFAULT_BINS = ((0.0, 0.005), (0.005, 0.01), (0.01, 0.05), (0.05, 0.5))
# one MAF bin's pooled values: per-site dosage rows, true allele-count rows, estimated R2s
_Pooled = tuple[list[np.ndarray], list[np.ndarray], list[float]]


@dataclass(frozen=True)
class BinScore:
    maf_lo: float
    maf_hi: float
    sites: int
    aggregate_r2: float | None
    mean_estimated_r2: float | None


def _query(path: Path, fmt: str) -> list[list[str]]:
    out = subprocess.run(["bcftools", "query", "-f", fmt, str(path)], capture_output=True, text=True, check=True)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def _truth(truth: Path) -> dict[tuple[str, str, str], np.ndarray]:
    rows = {}
    for row in _query(truth, "%POS\t%REF\t%ALT[\t%GT]\n"):
        gts = np.array([g.count("1") for g in row[3:]], dtype=float)
        rows[(row[0], row[1], row[2])] = gts
    return rows


def _panel_maf(panel: Path) -> dict[tuple[str, str, str], float]:
    out = {}
    for pos, ref, alt, ac, an in _query(panel, "%POS\t%REF\t%ALT\t%AC\t%AN\n"):
        af = int(ac) / int(an)
        out[(pos, ref, alt)] = min(af, 1 - af)
    return out


def score_against_truth(dose: Path, truth: Path, panel: Path, array: Path,
                        bins: Sequence[tuple[float, float]] = DEFAULT_BINS) -> list[BinScore]:
    """Aggregate r² and mean estimated R2 per MAF bin over the masked (non-array) sites."""
    typed = {tuple(r) for r in _query(array, "%POS\t%REF\t%ALT\n")}
    truth_gt = _truth(truth)
    maf = _panel_maf(panel)
    per_bin: dict[int, _Pooled] = {i: ([], [], []) for i in range(len(bins))}
    for row in _query(dose, "%POS\t%REF\t%ALT\t%R2[\t%DS]\n"):
        key = (row[0], row[1], row[2])
        if key in typed or key not in truth_gt or key not in maf:
            continue
        for i, (lo, hi) in enumerate(bins):
            if lo <= maf[key] < hi or (hi == bins[-1][1] and maf[key] == hi):
                per_bin[i][0].append(np.array(row[4:], dtype=float))
                per_bin[i][1].append(truth_gt[key])
                per_bin[i][2].append(float(row[3]))
                break
    scores = []
    for i, (lo, hi) in enumerate(bins):
        dosages, truths, est = per_bin[i]
        r2 = None
        if dosages:
            d, t = np.concatenate(dosages), np.concatenate(truths)
            if d.std() > 0 and t.std() > 0:
                r2 = float(np.corrcoef(d, t)[0, 1] ** 2)
        scores.append(BinScore(lo, hi, len(dosages), r2, float(np.mean(est)) if est else None))
    return scores
