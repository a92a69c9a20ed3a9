"""Calibrating the expected R² on simulations: advise, impute with each panel, score against the truth.

For each split time (how long ago the two populations parted), share of panel B's sites dropped
and seed, :func:`~fedimpute.advise.simulation.simulate_two_populations` makes two panels and a
cohort; the advisor's local evidence is computed for both panels and each panel is used to impute
the cohort (:func:`~fedimpute.advise.validation.impute_direct`); the achieved mean r² over the
cohort's common variants is recorded next to the evidence.  :func:`fit` then fits the two
constants of :mod:`fedimpute.advise.expected` by least squares.

``python -m fedimpute.advise.calibrate OUT.json [--work DIR]`` writes the table and the fit
(tests/data/advise/calibration.json was made this way; about a minute on two cores).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from fedimpute.advise.cohort import scan_cohort
from fedimpute.advise.compare import compare
from fedimpute.advise.expected import expected_r2
from fedimpute.advise.simulation import TwoPopulations, simulate_two_populations
from fedimpute.advise.sites import convert_sites
from fedimpute.advise.validation import impute_direct, score_common

__all__ = ["SPLITS", "calibrate", "fit"]

SPLITS = (250, 500, 1000, 2000, 4000, 8000)
DROPS = (0.0, 0.3, 0.6)
SEEDS = (11, 12)
SIMULATION = ("fedimpute.advise.simulation.TwoPopulations (100 + 100 panel diploids, 40 targets, 400 kb), eagle + "
              "minimac4; achieved_r2: mean r2 over the targets' common untyped variants, achieved_well: the share "
              "of them with r2 >= 0.8")


def calibrate(work: Path, *, splits: tuple[int, ...] = SPLITS, drops: tuple[float, ...] = DROPS,
              seeds: tuple[int, ...] = SEEDS) -> list[dict[str, Any]]:
    """One row per (simulation, panel): the evidence the heuristic uses and the achieved r²."""
    rows = []
    for split in splits:
        for drop in drops:
            for seed in seeds:
                spec = TwoPopulations(split=split, seed=seed, drop=drop)
                out = work / f"s{split}-d{drop}-r{seed}"
                simulate_two_populations(out, spec)
                cohort = scan_cohort([out / "array.vcf.gz"])
                for panel in ("a", "b"):
                    evidence = compare(cohort, convert_sites(out / f"panel-{panel}.vcf.gz", out / f"sites-{panel}"))
                    dose = impute_direct(out / f"imputed-{panel}", out / f"panel-{panel}.vcf.gz", out / "array.vcf.gz",
                                         map_eagle=out / "map.eagle.txt.gz", map_minimac=out / "map.minimac.txt")
                    dropped = tuple((c.start, c.end) for c in evidence.chunks if c.excluded)
                    score = score_common(dose, out / "truth.vcf.gz", out / "array.vcf.gz", excluded=dropped)
                    rows.append({"split": split, "drop": drop, "seed": seed, "panel": panel,
                                 "overlap": round(evidence.overlap, 4), "fst": round(evidence.fst or 0.0, 5),
                                 "common_kept": round(evidence.common_kept, 4),
                                 "af_correlation": round(evidence.af_correlation or 0.0, 4),
                                 "achieved_r2": round(score.mean_r2, 4),
                                 "achieved_well": round(score.well_imputed, 4),
                                 "estimated_r2": round(score.mean_estimated_r2 or 0.0, 4)})
    return rows


def fit(rows: list[dict[str, Any]], target: str = "achieved_r2") -> dict[str, float]:
    """Least-squares ``ceiling``, ``power`` and ``divergence`` (for the mean r², or ``target``) of
    ``ceiling * overlap ** power * kept * exp(-divergence * fst)`` over the rows whose chunk is kept (an
    excluded chunk is predicted and achieved 0 by the servers' rule), by a grid search (three constants,
    smooth surface), and the fit's error over every row."""
    kept = [r for r in rows if r["common_kept"] > 0]
    overlap = np.array([r["overlap"] for r in kept])
    fst = np.array([r["fst"] for r in kept])
    achieved = np.array([r[target] for r in kept])
    best = (np.inf, 0.0, 0.0, 0.0)
    for ceiling in np.arange(0.50, 1.0001, 0.005):
        for power in np.arange(1.0, 3.0001, 0.05):
            scaled = ceiling * overlap**power
            for divergence in np.arange(0.0, 8.0001, 0.05):
                err = float(((scaled * np.exp(-divergence * fst) - achieved) ** 2).mean())
                if err < best[0]:
                    best = (err, float(ceiling), float(power), float(divergence))
    _, ceiling, power, divergence = best
    predicted = np.array([expected_r2(r["overlap"], r["common_kept"], r["fst"], ceiling=ceiling, power=power,
                                      divergence=divergence) for r in rows])
    everything = np.array([r[target] for r in rows])
    return {"ceiling": round(ceiling, 3), "power": round(power, 2), "divergence": round(divergence, 2),
            "rmse": round(float(np.sqrt(((predicted - everything) ** 2).mean())), 4),
            "max_abs_error": round(float(np.abs(predicted - everything).max()), 4),
            "rank_agreement": _rank_agreement(rows, predicted, target)}


def _rank_agreement(rows: list[dict[str, Any]], predicted: np.ndarray, target: str) -> float:
    """Share of simulations where the predicted order of the two panels is the achieved order."""
    pairs: dict[tuple[Any, ...], dict[str, tuple[float, float]]] = {}
    for row, guess in zip(rows, predicted, strict=True):
        pairs.setdefault((row["split"], row["drop"], row["seed"]), {})[row["panel"]] = (guess, row[target])
    agree = [(p["a"][0] >= p["b"][0]) == (p["a"][1] >= p["b"][1]) for p in pairs.values() if len(p) == 2]
    return round(sum(agree) / len(agree), 4) if agree else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fedimpute-calibrate-") as tmp:
        rows = calibrate(args.work or Path(tmp))
    document = {"model": "expected = ceiling * overlap ** power * common_kept * exp(-divergence * fst)",
                "fit": fit(rows), "fit_well": fit(rows, "achieved_well"), "simulation": SIMULATION, "rows": rows}
    args.out.write_text(json.dumps(document, indent=1) + "\n")
    print(json.dumps({"fit": document["fit"], "fit_well": document["fit_well"]}))


if __name__ == "__main__":
    main()
