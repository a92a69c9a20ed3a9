"""Two populations that split long ago, a panel from each and a cohort from the first (msprime).

The advisor's validation: the panel from the cohort's own population must be ranked first, and
imputing the cohort with each panel must show it is right.  The model is the engine fixture's
(:mod:`fedimpute.engine.simulate`: recent growth, hotspot recombination map, HKY mutations, one
biallelic SNV per position), with two populations: each grows from 10,000 to 50,000 over the
last 200 generations, and both descend from one ancestral population of 10,000 that split
``split`` generations ago (4,000 gives an Fst of about 0.15, as between continents).

Outputs in ``out``: ``panel-a.vcf.gz`` and ``panel-b.vcf.gz`` (phased, sites polymorphic in each
panel, with AC/AN), ``truth.vcf.gz`` (the targets at every site polymorphic anywhere), and
``array.vcf.gz`` (the targets, unphased, at "array" sites: MAF >= 5% over all samples, >= 4 kb
apart), the genetic map files and ``simulation.json``.

``python -m fedimpute.advise.simulation OUT --panel 100 --targets 40 --length 400000 --split 4000``
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fedimpute.engine.simulate import MU, OFFSET, _array_sites, _biallelic_sites, _rate_map, _write_vcf, write_maps

if TYPE_CHECKING:  # msprime is an optional extra (``engine``)
    import msprime

__all__ = ["TwoPopulations", "simulate_two_populations"]


@dataclass(frozen=True)
class TwoPopulations:
    """Sizes in diploid individuals; ``split`` in generations; ``drop`` removes that share of panel B's
    sites at random (a panel built on another array or with stricter site filters)."""

    n_panel: int = 100
    n_targets: int = 40
    length: int = 400_000
    split: int = 4000
    seed: int = 1
    chrom: str = "chr20"
    drop: float = 0.0


def _demography(split: int) -> msprime.Demography:
    import msprime

    demography = msprime.Demography()
    for name in ("A", "B"):
        demography.add_population(name=name, initial_size=50_000, growth_rate=math.log(5) / 200)
    demography.add_population(name="ancestral", initial_size=10_000)
    for name in ("A", "B"):
        demography.add_population_parameters_change(time=200, initial_size=10_000, growth_rate=0, population=name)
    demography.add_population_split(time=split, derived=["A", "B"], ancestral="ancestral")
    return demography


def simulate_two_populations(out: Path, spec: TwoPopulations = TwoPopulations()) -> dict[str, object]:
    """Simulate and write both panels, the cohort's truth and array genotypes, and the maps."""
    import msprime

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    rate_map = _rate_map(spec.length, rng)
    ts = msprime.sim_ancestry(samples={"A": spec.n_panel + spec.n_targets, "B": spec.n_panel},
                              demography=_demography(spec.split), sequence_length=spec.length,
                              recombination_rate=rate_map, random_seed=spec.seed)
    ts = msprime.sim_mutations(ts, rate=MU, model=msprime.HKY(kappa=4), random_seed=spec.seed)
    positions, refs, alts, haps = _biallelic_sites(ts)  # haplotypes: A's individuals first, then B's
    a_end = 2 * spec.n_panel
    groups = {"a": haps[:, :a_end], "targets": haps[:, a_end:a_end + 2 * spec.n_targets],
              "b": haps[:, a_end + 2 * spec.n_targets:]}
    counts = {}
    for name in ("a", "b"):
        h = groups[name]
        keep = (h.sum(1) > 0) & (h.sum(1) < h.shape[1])
        if name == "b" and spec.drop:
            keep &= np.random.default_rng(spec.seed + 7).random(len(keep)) >= spec.drop
        names = [f"{name.upper()}{i:04d}" for i in range(h.shape[1] // 2)]
        _write_vcf(out / f"panel-{name}.vcf.gz", spec.chrom, spec.length, names, positions[keep], refs[keep],
                   alts[keep], h[keep], phased=True)
        counts[f"panel_{name}_sites"] = int(keep.sum())
    tgt = groups["targets"]
    tgt_names = [f"TGT{i:04d}" for i in range(spec.n_targets)]
    _write_vcf(out / "truth.vcf.gz", spec.chrom, spec.length, tgt_names, positions, refs, alts, tgt, phased=True)
    array = _array_sites(positions, haps.mean(axis=1))
    array = array[(tgt[array].sum(1) > 0) & (tgt[array].sum(1) < tgt.shape[1])]  # polymorphic in the cohort
    _write_vcf(out / "array.vcf.gz", spec.chrom, spec.length, tgt_names, positions[array], refs[array], alts[array],
               tgt[array], phased=False)
    write_maps(out, spec.chrom, positions, rate_map.get_cumulative_mass(positions - OFFSET) * 100)
    manifest = {**asdict(spec), **counts, "sites": int(len(positions)), "array_sites": int(len(array)),
                "fst_a_b": _fst(groups["a"], groups["b"]),
                "model": "two populations 10k->50k over 200 generations, split from a 10k ancestor; HKY kappa=4; "
                         "hotspot map; msprime " + msprime.__version__}
    (out / "simulation.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _fst(a: np.ndarray, b: np.ndarray) -> float:
    """Hudson's Fst between the two panels (ratio of averages), for the record."""
    pa, pb = a.mean(1), b.mean(1)
    num = (pa - pb) ** 2 - pa * (1 - pa) / (a.shape[1] - 1) - pb * (1 - pb) / (b.shape[1] - 1)
    den = pa * (1 - pb) + pb * (1 - pa)
    return round(float(num.sum() / den.sum()), 4)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path)
    parser.add_argument("--panel", type=int, default=100)
    parser.add_argument("--targets", type=int, default=40)
    parser.add_argument("--length", type=int, default=400_000)
    parser.add_argument("--split", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drop", type=float, default=0.0)
    args = parser.parse_args(argv)
    spec = TwoPopulations(args.panel, args.targets, args.length, args.split, args.seed, drop=args.drop)
    print(json.dumps(simulate_two_populations(args.out, spec)))


if __name__ == "__main__":
    main()
