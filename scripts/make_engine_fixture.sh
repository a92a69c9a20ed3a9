#!/usr/bin/env bash
# Regenerate the committed CI fixture of the local engine (200 reference / 50 target diploids, 1 Mb).
# Seeds are reproducible only within one msprime version: the fixture was made with msprime 1.4.4.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/data/engine
rm -rf "$out"
.venv/bin/python -m fedimpute.engine.simulate "$out" --ref 200 --targets 50 --length 1000000 --seed 1
gzip -n -9 "$out/ref.fa" && rm -f "$out/ref.fa.fai"
cat > "$out/README.md" <<'TXT'
# Local-engine CI fixture

Simulated with `scripts/make_engine_fixture.sh` (msprime 1.4.4, tskit 1.0.3, seed 1): 200 reference and
50 target diploids over 1 Mb of `chr20` (positions offset by 100,000), growth demography, HKY (kappa 4),
a hotspot recombination map, one SNV per position.  No real genotypes.

- `ref.vcf.gz` the phased panel; `truth.vcf.gz` the targets' true genotypes at every panel site;
  `array.vcf.gz` the targets at array-like sites (panel MAF >= 5 %, >= 4 kb apart), unphased
- `map.*` the simulation's genetic map for beagle (PLINK), eagle and minimac4; `ref.fa.gz` a FASTA
  consistent with every REF allele; `simulation.json` the parameters and counts
TXT
