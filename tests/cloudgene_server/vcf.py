"""Input Validation: really opens the uploaded VCFs.

Why real parsing: a client under test must see the same failure texts a live
server produces for broken input (section 6.2 of the reference), so the
simulator reads the files instead of trusting their names. One pass per file
collects everything later phases need: samples, chromosome, QC categories and
a bounded sample of sites for the synthetic imputation output.
"""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

VALID_CHROMS = {str(i) for i in range(1, 24)} | {"X", "MT"}
CHUNK_SIZE = 20_000_000
MAX_KEPT_SITES = 1000  # bounds the size of the synthetic dose files
MALFORMED = "The provided VCF file is malformed."


class VcfError(Exception):
    """A validation failure; str(exc) is the exact user-facing message."""


@dataclass
class Site:
    pos: int
    id: str
    ref: str
    alt: str
    af: float


@dataclass
class VcfFile:
    name: str
    samples: list[str]
    chrom: str = ""
    phased: bool = True
    n_sites: int = 0
    last_pos: int = 0
    sites: list[Site] = field(default_factory=list)
    qc: Counter = field(default_factory=Counter)
    excluded: list[str] = field(default_factory=list)
    chunk_snps: Counter = field(default_factory=Counter)
    positions: set[int] = field(default_factory=set)

    @property
    def bare_chrom(self) -> str:
        return self.chrom[3:] if self.chrom.startswith("chr") else self.chrom


def scan_vcf(path: Path, name: str) -> VcfFile:
    """Read one uploaded file; raises VcfError with the server's wording."""
    with open(path, "rb") as raw:
        if raw.read(2) != b"\x1f\x8b":
            raise VcfError(f"{MALFORMED}\nError: the compression of '{name}' is not BGZF")
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as lines:
            vcf = _scan_lines(lines, name)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise VcfError(f"{MALFORMED}\nError: {exc}") from None
    if vcf.n_sites == 0:
        raise VcfError("No genotypes found in the VCF file. It appears the file contains only the header.")
    return vcf


def _scan_lines(lines, name: str) -> VcfFile:
    vcf = None
    for line in lines:
        line = line.rstrip("\r\n")
        if not line or line.startswith("##"):
            continue
        if line.startswith("#"):
            vcf = _parse_header(line, name)
        elif vcf is None:
            raise VcfError(f"{MALFORMED}\nError: [tabix] the file has no #CHROM header line")
        else:
            _add_site(vcf, line)
    if vcf is None:
        raise VcfError(f"{MALFORMED}\nError: [tabix] the file has no #CHROM header line")
    return vcf


def _parse_header(line: str, name: str) -> VcfFile:
    fields = line.split("\t")
    if len(fields) < 8:
        raise VcfError("The provided VCF file is not tab-delimited")
    samples = fields[9:]
    seen: set[str] = set()
    for sample in samples:
        if sample in seen:
            raise VcfError(f"Two individuals or more have the following ID: {sample}")
        seen.add(sample)
    return VcfFile(name=name, samples=samples)


def _add_site(vcf: VcfFile, line: str) -> None:
    fields = line.split("\t")
    if len(fields) < 8:
        raise VcfError("The provided VCF file is not tab-delimited")
    chrom, pos_text, vid, ref, alt, _qual, flt = fields[:7]
    _check_chrom(vcf, chrom)
    pos = int(pos_text)
    if pos < vcf.last_pos:
        raise VcfError(
            f"{MALFORMED}\nError: Unsorted positions on sequence #1: {vcf.last_pos} followed by {pos}"
        )
    if ref == alt:
        raise VcfError(
            f"The provided VCF file is malformed at variation {vid}: reference allele ({ref}) "
            f"and alternate allele  ({alt}) are the same."
        )
    genotypes = [g.split(":", 1)[0] for g in fields[9:]]
    if len(genotypes) != len(vcf.samples):
        raise VcfError(f"{MALFORMED}\nError: wrong number of genotypes at {chrom}:{pos}")
    af, phased = allele_frequency(genotypes)
    vcf.phased = vcf.phased and phased
    vcf.last_pos, vcf.n_sites = pos, vcf.n_sites + 1
    _classify(vcf, Site(pos, vid, ref, alt, af), flt)


def _check_chrom(vcf: VcfFile, chrom: str) -> None:
    bare = chrom[3:] if chrom.startswith("chr") else chrom
    if bare not in VALID_CHROMS:
        raise VcfError(f"Invalid chromosome found: {chrom}")
    if vcf.chrom and chrom != vcf.chrom:
        raise VcfError(
            "The provided VCF file contains more than one chromosome. "
            "Please split your input VCF file by chromosome"
        )
    vcf.chrom = chrom


def allele_frequency(genotypes: list[str]) -> tuple[float, bool]:
    """Alternate allele frequency over called alleles, and whether every genotype is phased."""
    alt = called = 0
    phased = True
    for gt in genotypes:
        if "/" in gt:
            phased = False
        for allele in gt.replace("|", "/").split("/"):
            if allele not in (".", ""):
                called += 1
                alt += allele != "0"
    return (alt / called if called else 0.0), phased


def _classify(vcf: VcfFile, site: Site, flt: str) -> None:
    """Apply the QC site filters in order; the first one that matches excludes the site."""
    reason = None
    if flt not in ("PASS", "."):
        reason = "Filter flag set"
    elif "," in site.alt:
        reason = "Multiallelic sites"
    elif len(site.ref) != 1 or len(site.alt) != 1:
        reason = "NonSNP sites"
    elif site.ref not in "ACGT" or site.alt not in "ACGT":
        reason = "Invalid alleles"
    elif site.pos in vcf.positions:
        reason = "Duplicated sites"
    elif site.af in (0.0, 1.0):
        reason = "Monomorphic sites"
    vcf.positions.add(site.pos)
    vcf.chunk_snps[site.pos // CHUNK_SIZE] += 0  # the chunk exists even if all its sites go
    if reason:
        vcf.qc[reason] += 1
        if len(vcf.excluded) < 10_000:
            vcf.excluded.append(f"{vcf.chrom}:{site.pos}:{site.ref}:{site.alt}\t{reason}\t")
        return
    vcf.qc["Match"] += 1
    vcf.qc["Alternative allele frequency > 0.5 sites"] += site.af > 0.5
    vcf.qc["A/T, C/G genotypes"] += {site.ref, site.alt} in ({"A", "T"}, {"C", "G"})
    vcf.chunk_snps[site.pos // CHUNK_SIZE] += 1
    if len(vcf.sites) < MAX_KEPT_SITES:
        vcf.sites.append(site)


def check_build(vcf: VcfFile, build: str) -> None:
    """hg19 data must name chromosomes '20', hg38 data 'chr20'."""
    if build == "hg19" and vcf.chrom.startswith("chr"):
        raise VcfError(
            f"Your upload data contains chromosome '{vcf.chrom}'. This is not a valid hg19 encoding. "
            f"Please ensure that your input data is build hg19 and chromosome is encoded as "
            f"'{vcf.bare_chrom}'."
        )
    if build == "hg38" and not vcf.chrom.startswith("chr"):
        raise VcfError(
            f"Your upload data contains chromosome '{vcf.chrom}'. This is not a valid hg38 encoding. "
            f"Please ensure that your input data is build hg38 and chromosome is encoded as "
            f"'chr{vcf.chrom}'."
        )


def synthetic_vcf(name: str, n_samples: int, build: str, chunks: int = 1) -> VcfFile:
    """Stand-in for a discarded upload: 30 polymorphic SNPs on chromosome 20, spread over ``chunks``
    20 Mb chunks (at least 10 SNPs each, so none is excluded for having too few)."""
    vcf = VcfFile(name=name, samples=[f"SAMPLE{i + 1}" for i in range(n_samples)])
    vcf.chrom = "chr20" if build == "hg38" else "20"
    n = max(30, 10 * chunks)
    for i in range(n):
        pos = 60_000 + (i * chunks // n) * CHUNK_SIZE + 1_000 * i
        _classify(vcf, Site(pos, f"rs{9000 + i}", "ACGT"[i % 4], "CGTA"[i % 4], 0.05 + 0.01 * i), "PASS")
        vcf.n_sites, vcf.last_pos = vcf.n_sites + 1, pos
    return vcf
