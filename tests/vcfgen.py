"""Small bgzipped VCF files for tests."""

from __future__ import annotations

import random
from pathlib import Path

from fedimpute.bgzf import BgzfWriter

__all__ = ["write_vcf"]


def write_vcf(path: Path, *, samples: int = 25, sites: int = 30, chrom: str = "20", start: int = 60_000,
              seed: int = 1, phased: bool = False) -> Path:
    rng = random.Random(seed)
    sep = "|" if phased else "/"
    lines = ["##fileformat=VCFv4.2", f"##contig=<ID={chrom},length=64444167>",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
                       + [f"S{i:03d}" for i in range(samples)])]
    pos = start
    for i in range(sites):
        pos += rng.randint(500, 5000)
        ref, alt = rng.sample("ACGT", 2)
        gts = [f"{rng.randint(0, 1)}{sep}{rng.randint(0, 1)}" for _ in range(samples)]
        lines.append("\t".join([chrom, str(pos), f"rs{i + 1}", ref, alt, ".", "PASS", ".", "GT", *gts]))
    with BgzfWriter(path) as fh:
        fh.write("\n".join(lines) + "\n")
    return path
