"""Imputing a simulated cohort with a panel and scoring the common variants against the truth.

Used to calibrate the advisor's expected R² (:mod:`fedimpute.advise.expected`) and by its
validation test.  The imputation here is the engine's default path run directly (eagle, then
minimac4 with the panel's ``.msav``), which takes a second on the simulations' sizes; the test
also runs the engine's CWL workflow.

The score is over the cohort's common variants: every site whose minor allele frequency among the
targets' true genotypes is at least 5%, except the typed (array) sites.  Each site's r² is the
squared correlation between the imputed dosage and the true allele count; a site the panel does
not impute at all (the panel lacks it) scores 0, because the user does not get it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["WELL", "CommonScore", "impute_direct", "score_common"]

WELL = 0.8  # r² from which a variant counts as imputed well


@dataclass(frozen=True)
class CommonScore:
    """``mean_r2`` and ``well_imputed`` (the share with r² >= 0.8) over all common sites (a site not imputed
    counts as r² 0); the rest over the imputed ones."""

    sites: int
    imputed: int
    mean_r2: float
    well_imputed: float
    aggregate_r2: float | None
    mean_estimated_r2: float | None


def _run(*cmd: str, cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{cmd[0]} failed: {(proc.stderr or proc.stdout)[-600:]}")


def impute_direct(work: Path, panel: Path, array: Path, *, map_eagle: Path, map_minimac: Path) -> Path:
    """Phase ``array`` against ``panel`` with eagle and impute with minimac4; returns the dose VCF."""
    import shutil

    work.mkdir(parents=True, exist_ok=True)
    eagle = shutil.which("bio-eagle") or shutil.which("eagle") or "eagle"
    _run(eagle, "--vcfRef", str(panel), "--vcfTarget", str(array), "--geneticMapFile", str(map_eagle),
         "--outPrefix", "phased", "--numThreads", "1", cwd=work)
    _run("tabix", "-f", "-p", "vcf", "phased.vcf.gz", cwd=work)
    _run("minimac4", "--compress-reference", str(panel), "-o", "panel.msav", cwd=work)
    _run("minimac4", "--map", str(map_minimac), "panel.msav", "phased.vcf.gz", "-o", "dose.vcf.gz", "-O", "vcf.gz",
         "-f", "GT,DS", "-t", "1", cwd=work)
    return work / "dose.vcf.gz"


def _query(path: Path, fmt: str) -> list[list[str]]:
    out = subprocess.run(["bcftools", "query", "-f", fmt, str(path)], capture_output=True, text=True, check=True)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def score_common(dose: Path, truth: Path, array: Path, *, min_maf: float = 0.05,
                 excluded: tuple[tuple[int, int], ...] = ()) -> CommonScore:
    """Score ``dose`` on the targets' common, untyped variants (see the module docstring).  Sites in the
    ``excluded`` (start, end) ranges count as not imputed: the servers and the engine drop such chunks."""
    typed = {int(r[0]) for r in _query(array, "%POS\n")}
    truth_rows = {}
    for row in _query(truth, "%POS[\t%GT]\n"):
        pos = int(row[0])
        counts = np.array([g.count("1") for g in row[1:]], float)
        maf = counts.mean() / 2
        if pos not in typed and min(maf, 1 - maf) >= min_maf:
            truth_rows[pos] = counts
    r2s, est, dosages, truths = [], [], [], []
    for row in _query(dose, "%POS\t%INFO/R2[\t%DS]\n"):
        pos = int(row[0])
        if pos not in truth_rows or any(lo <= pos <= hi for lo, hi in excluded):
            continue
        ds, tr = np.array(row[2:], float), truth_rows[pos]
        r2s.append(float(np.corrcoef(ds, tr)[0, 1] ** 2) if ds.std() > 0 else 0.0)
        if row[1] not in (".", ""):
            est.append(float(row[1]))
        dosages.append(ds)
        truths.append(tr)
    n = len(truth_rows)
    aggregate = None
    if dosages:
        d, t = np.concatenate(dosages), np.concatenate(truths)
        aggregate = float(np.corrcoef(d, t)[0, 1] ** 2) if d.std() > 0 else 0.0
    return CommonScore(sites=n, imputed=len(r2s), mean_r2=float(np.sum(r2s) / n) if n else 0.0,
                       well_imputed=float(np.sum(np.array(r2s) >= WELL) / n) if n else 0.0,
                       aggregate_r2=aggregate, mean_estimated_r2=float(np.mean(est)) if est else None)
