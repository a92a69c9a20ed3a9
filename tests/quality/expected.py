"""Expected quality numbers worked out independently: ``bcftools query`` and plain Python sums."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path
from typing import Any

from fedimpute.quality import MAF_BINS


def _stats(r2: list[float]) -> tuple[int, float, float, float]:
    n = len(r2)
    return n, math.fsum(r2) / n, sum(r >= 0.3 for r in r2) / n, sum(r >= 0.8 for r in r2) / n


def bcftools_bins(path: Path) -> dict[str, Any]:
    """The contract's numbers from ``bcftools query -f '%INFO/MAF\\t%INFO/R2\\n'`` (plus %CHROM)."""
    text = subprocess.run(
        ["bcftools", "query", "-f", "%CHROM\t%INFO/MAF\t%INFO/R2\n", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split("\t") for line in text.splitlines()]
    kept = [(c.removeprefix("chr"), None if m == "." else float(m), float(r)) for c, m, r in rows if r != "."]
    bins = []
    for i, (lo, hi) in enumerate(MAF_BINS):
        last = i == len(MAF_BINS) - 1
        r2 = [r for _, m, r in kept if m is not None and lo <= m and (m <= hi if last else m < hi)]
        bins.append((lo, hi, *_stats(r2)) if r2 else (lo, hi, 0, None, None, None))
    chroms = sorted({c for c, _, _ in kept})
    per_chrom = [(c, _stats([r for c2, _, r in kept if c2 == c])[:2]) for c in chroms]
    return {"variants": len(kept), "bins": bins, "chromosomes": [(c, n, mean) for c, (n, mean) in per_chrom]}


def assert_same_as_bcftools(doc: dict[str, Any], path: Path, *, min_variants: int) -> None:
    """``doc`` (the contract's ``quality`` document) holds bcftools' numbers: counts and fractions exactly,
    means to the last few bits (sums run in another order)."""
    expected = bcftools_bins(path)
    assert doc["variants"] == expected["variants"] > min_variants
    for got, (lo, hi, n, mean, ge3, ge8) in zip(doc["bins"], expected["bins"], strict=True):
        assert (got["maf_lo"], got["maf_hi"], got["n"]) == (lo, hi, n)
        assert (got["frac_r2_ge_0_3"], got["frac_r2_ge_0_8"]) == (ge3, ge8)
        assert got["mean_r2"] == mean or math.isclose(got["mean_r2"], mean, rel_tol=1e-12)
    assert [(c["chromosome"], c["n"]) for c in doc["chromosomes"]] == [c[:2] for c in expected["chromosomes"]]
    for got, (_, _, mean) in zip(doc["chromosomes"], expected["chromosomes"], strict=True):
        assert math.isclose(got["mean_r2"], mean, rel_tol=1e-12)
