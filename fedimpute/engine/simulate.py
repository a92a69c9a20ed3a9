"""Simulated reference panels and target cohorts (msprime), with the truth kept.

The model follows the local-engine reference: one population with recent exponential
growth (constant size makes imputation unrealistically easy), a recombination map with
hotspots, HKY mutations (Ts/Tv about 2), one biallelic SNV per position.  Outputs:

``ref.vcf.gz``     the panel: reference individuals, phased, sites polymorphic in them
``truth.vcf.gz``   the targets' true phased genotypes at every panel site
``array.vcf.gz``   the targets at "array" sites (panel MAF >= 5 %, >= 4 kb apart), unphased
``ref.fa``         a FASTA whose bases agree with every REF allele
``map.plink``      genetic map in PLINK .map layout (beagle), also written for eagle and minimac4

``python -m fedimpute.engine.simulate OUT --ref 200 --targets 50 --length 1000000 --seed 1``
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fedimpute.bgzf import BgzfWriter

if TYPE_CHECKING:  # msprime is an optional extra (``engine``), imported where it is used
    import msprime
    import tskit

__all__ = ["SimulationSpec", "simulate_dataset", "write_maps"]

OFFSET = 100_000
MU = 1.29e-8
CHROM = "chr20"
_GT_PHASED = np.array(["0|0", "0|1", "1|0", "1|1"])
_GT_UNPHASED = np.array(["0/0", "0/1", "0/1", "1/1"])


@dataclass(frozen=True)
class SimulationSpec:
    n_ref: int = 200
    n_targets: int = 50
    length: int = 1_000_000
    seed: int = 1
    chrom: str = CHROM


def _rate_map(length: int, rng: np.random.Generator) -> msprime.RateMap:
    import msprime

    edges = np.arange(0, length + 10_000, 10_000, dtype=float)
    edges[-1] = length
    rates = rng.gamma(shape=0.5, scale=2.0, size=len(edges) - 1)
    hot = rng.random(len(rates)) < 0.1  # about one 20x hotspot per 100 kb
    rates[hot] *= 20
    rates *= 1e-8 / np.average(rates, weights=np.diff(edges))
    return msprime.RateMap(position=edges, rate=rates)


def _demography() -> msprime.Demography:
    import msprime

    demography = msprime.Demography()
    demography.add_population(name="pop", initial_size=500_000, growth_rate=math.log(500_000 / 10_000) / 200)
    demography.add_population_parameters_change(time=200, initial_size=10_000, growth_rate=0)
    return demography


def _simulate(spec: SimulationSpec) -> tuple[tskit.TreeSequence, msprime.RateMap]:
    import msprime

    rng = np.random.default_rng(spec.seed)
    rate_map = _rate_map(spec.length, rng)
    ts = msprime.sim_ancestry(samples=spec.n_ref + spec.n_targets, demography=_demography(),
                              sequence_length=spec.length, recombination_rate=rate_map, random_seed=spec.seed)
    ts = msprime.sim_mutations(ts, rate=MU, model=msprime.HKY(kappa=4), random_seed=spec.seed)
    return ts, rate_map


def _biallelic_sites(ts: tskit.TreeSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions, REF and ALT of sites with exactly one mutation, and their genotype rows."""
    counts = np.bincount(ts.tables.mutations.site, minlength=ts.num_sites)
    keep = np.flatnonzero(counts == 1)
    positions = ts.tables.sites.position[keep].astype(np.int64) + OFFSET
    refs, alts = [], []
    for site_id in keep:
        site = ts.site(int(site_id))
        refs.append(site.ancestral_state)
        alts.append(site.mutations[0].derived_state)
    genotypes = ts.genotype_matrix()[keep]  # sites x haplotypes, 0/1
    return positions, np.array(refs), np.array(alts), genotypes


def _write_vcf(path: Path, chrom: str, length: int, names: list[str], positions: np.ndarray, refs: np.ndarray,
               alts: np.ndarray, haps: np.ndarray, *, phased: bool) -> None:
    codes = haps[:, 0::2] * 2 + haps[:, 1::2]
    table = _GT_PHASED if phased else _GT_UNPHASED
    header = ["##fileformat=VCFv4.2", f"##contig=<ID={chrom},length={length + OFFSET + 1000}>",
              "##source=fedimpute.engine.simulate (msprime)",
              '##INFO=<ID=AC,Number=A,Type=Integer,Description="Alternate allele count">',
              '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles">',
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(names)]
    an = haps.shape[1]
    with BgzfWriter(path) as out:
        out.write("\n".join(header) + "\n")
        for i in range(len(positions)):
            pos, ref, alt = int(positions[i]), refs[i], alts[i]
            gts = "\t".join(table[codes[i]])
            out.write(f"{chrom}\t{pos}\t{chrom}:{pos}:{ref}:{alt}\t{ref}\t{alt}\t.\tPASS\t"
                      f"AC={int(haps[i].sum())};AN={an}\tGT\t{gts}\n")
    subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)


def _array_sites(positions: np.ndarray, af: np.ndarray) -> np.ndarray:
    """Indices of common sites at least 4 kb apart, picked greedily (a genotyping-array-like set)."""
    maf = np.minimum(af, 1 - af)
    chosen, last = [], -10**9
    for i in np.flatnonzero(maf >= 0.05):
        if positions[i] - last >= 4000:
            chosen.append(i)
            last = positions[i]
    return np.array(chosen, dtype=np.int64)


def write_maps(out: Path, chrom: str, positions: np.ndarray, cm: np.ndarray) -> dict[str, Path]:
    """The genetic map in the layouts beagle (PLINK), eagle (numeric chr) and minimac4 accept."""
    numeric = chrom.removeprefix("chr").replace("X", "23")
    paths = {"plink": out / "map.plink", "eagle": out / "map.eagle.txt.gz", "minimac": out / "map.minimac.txt"}
    with paths["plink"].open("w") as fh:
        fh.writelines(f"{chrom} . {c:.6f} {p}\n" for p, c in zip(positions, cm, strict=True))
    rates = np.diff(cm, prepend=cm[0]) / np.maximum(np.diff(positions, prepend=positions[0]), 1) * 1e6
    with gzip.open(paths["eagle"], "wt") as fh:
        fh.write("chr position COMBINED_rate(cM/Mb) Genetic_Map(cM)\n")
        fh.writelines(f"{numeric} {p} {r:.6f} {c:.6f}\n" for p, r, c in zip(positions, rates, cm, strict=True))
    with paths["minimac"].open("w") as fh:
        fh.write("#chrom\tpos\tcM\n")
        fh.writelines(f"{chrom}\t{p}\t{c:.6f}\n" for p, c in zip(positions, cm, strict=True))
    return paths


def _write_fasta(path: Path, chrom: str, length: int, positions: np.ndarray, refs: np.ndarray,
                 rng: np.random.Generator) -> None:
    seq = np.array(list("ACGT"))[rng.integers(0, 4, size=length + OFFSET + 1000)]
    seq[positions - 1] = refs
    text = "".join(seq)
    with path.open("w") as fh:
        fh.write(f">{chrom}\n")
        for i in range(0, len(text), 60):
            fh.write(text[i:i + 60] + "\n")
    line_bytes = 61
    (path.with_name(path.name + ".fai")).write_text(
        f"{chrom}\t{len(text)}\t{len(chrom) + 2}\t60\t{line_bytes}\n")


def simulate_dataset(out: Path, spec: SimulationSpec = SimulationSpec()) -> dict[str, object]:
    """Simulate and write the panel, the targets (array and truth), FASTA and maps; return a manifest."""
    out.mkdir(parents=True, exist_ok=True)
    ts, rate_map = _simulate(spec)
    positions, refs, alts, genotypes = _biallelic_sites(ts)
    ref_haps = genotypes[:, : 2 * spec.n_ref]
    tgt_haps = genotypes[:, 2 * spec.n_ref:]
    in_ref = ref_haps.sum(axis=1) > 0
    in_ref &= ref_haps.sum(axis=1) < ref_haps.shape[1]
    positions, refs, alts = positions[in_ref], refs[in_ref], alts[in_ref]
    ref_haps, tgt_haps = ref_haps[in_ref], tgt_haps[in_ref]
    ref_names = [f"REF{i:05d}" for i in range(spec.n_ref)]
    tgt_names = [f"TGT{i:05d}" for i in range(spec.n_targets)]
    length = spec.length
    _write_vcf(out / "ref.vcf.gz", spec.chrom, length, ref_names, positions, refs, alts, ref_haps, phased=True)
    _write_vcf(out / "truth.vcf.gz", spec.chrom, length, tgt_names, positions, refs, alts, tgt_haps, phased=True)
    array = _array_sites(positions, ref_haps.mean(axis=1))
    _write_vcf(out / "array.vcf.gz", spec.chrom, length, tgt_names, positions[array], refs[array], alts[array],
               tgt_haps[array], phased=False)
    cm = rate_map.get_cumulative_mass(positions - OFFSET) * 100
    write_maps(out, spec.chrom, positions, cm)
    _write_fasta(out / "ref.fa", spec.chrom, length, positions, refs, np.random.default_rng(spec.seed + 1))
    manifest = {**asdict(spec), "panel_sites": int(len(positions)), "array_sites": int(len(array)),
                "msprime_model": "growth 10k->500k over 200 generations, HKY kappa=4, hotspot map"}
    (out / "simulation.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Simulate a reference panel and target cohort with msprime.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--ref", type=int, default=200)
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--length", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(simulate_dataset(args.out, SimulationSpec(args.ref, args.targets, args.length, args.seed))))


if __name__ == "__main__":
    main()
