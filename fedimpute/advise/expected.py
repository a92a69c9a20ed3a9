"""The expected mean R² of the cohort's common variants with a panel, and the expected share of them
imputed well (r² >= 0.8): a heuristic, calibrated.

    expected_r2 = CEILING * overlap ** POWER * common_kept * exp(-DIVERGENCE * fst)

and the same form with the ``WELL_*`` constants for the share imputed well, where

- ``overlap``: the share of the cohort's typed SNPs the server finds in the panel and keeps (as a
  match, A/T-C/G or allele switch: it drops strand flips and mismatches).  Typed SNPs are common
  variants of the cohort, so this also estimates the share of its *untyped* common variants the
  panel holds at all; a variant the panel lacks is not imputed (r² 0 for the user).  ``POWER`` > 1
  because the typed SNPs the panel lacks are also lost as a scaffold for phasing and imputation.
- ``common_kept``: the share of the panel's common sites (5% <= AF <= 95%) in the cohort's chunks
  that lie in chunks the server keeps (a chunk with < 50% overlap is not imputed).
- ``fst``: Hudson's Fst between the cohort's and the panel's (or the chosen population's) allele
  frequencies at the SNPs they share, sampling noise removed.  Haplotypes of a diverged panel
  match the cohort's less well, so the variants it does impute are imputed worse; the decay is
  exponential in the divergence.
- ``CEILING``: what a matching panel achieves on the calibration simulations (it is below 1 for
  panels of 100 diploids; larger panels do better, which lifts all candidates alike).

Calibration (``python -m fedimpute.advise.calibrate``, tests/data/advise/calibration.json): 36
two-population simulations (:mod:`fedimpute.advise.simulation`; split 250 to 8,000 generations
ago, 0-60% of the foreign panel's sites removed, two seeds), each cohort imputed with both panels
(eagle + minimac4) and scored against the truth (a chunk the servers would exclude counts as not
imputed).  The least-squares constants are below: over the 72 (simulation, panel) pairs the mean R²
is predicted with an RMSE of 0.045 (largest error 0.13) and the share imputed well with 0.070 (0.18),
and both order the two panels of every simulation as the imputation did.  Panel size, the typed
density and the phasing are not modelled: they move every candidate alike, or are not known
before imputation.  Without allele frequencies (``fst`` unknown) the divergence term
is left out and the reasons say so.
"""

from __future__ import annotations

import math

__all__ = ["CEILING", "DIVERGENCE", "POWER", "WELL_CEILING", "WELL_DIVERGENCE", "WELL_POWER", "expected_r2",
           "expected_well_imputed"]

CEILING = 0.88
POWER = 1.5
DIVERGENCE = 3.1
WELL_CEILING = 0.805
WELL_POWER = 1.8
WELL_DIVERGENCE = 5.05


def expected_r2(overlap: float, common_kept: float, fst: float | None, *, ceiling: float = CEILING,
                power: float = POWER, divergence: float = DIVERGENCE) -> float:
    """The expected mean R² of common variants (0-1); see the module docstring."""
    decay = math.exp(-divergence * max(fst, 0.0)) if fst is not None else 1.0
    return max(0.0, min(1.0, ceiling * math.pow(max(overlap, 0.0), power) * common_kept * decay))


def expected_well_imputed(overlap: float, common_kept: float, fst: float | None) -> float:
    """The expected share of common variants imputed with r² >= 0.8 (0-1)."""
    return expected_r2(overlap, common_kept, fst, ceiling=WELL_CEILING, power=WELL_POWER, divergence=WELL_DIVERGENCE)
