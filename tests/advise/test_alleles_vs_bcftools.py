"""Strand flips, allele switches and the other allele classes, planted in a cohort, are counted exactly.

The cohort is the simulation's targets at their polymorphic sites, with alleles rewritten at chosen
panel sites: REF/ALT swapped (allele switch), both complemented (strand flip), both (flip and
switch), ALT replaced (allele mismatch), and swapped at strand-ambiguous sites (A/T-C/G).  The count
to compare with is made with bcftools: ``bcftools isec -c all`` finds the cohort's sites the panel has,
and ``bcftools isec -c none`` (identical REF and ALT) finds which of the cohort's sites match the panel
as they are, swapped, complemented, or both; the server's order of precedence (match, A/T-C/G, switch,
flip, flip and switch, mismatch: imputationserver-utils GenomicTools) then assigns each site one class.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from fedimpute.advise.cohort import scan_cohort
from fedimpute.advise.compare import compare
from fedimpute.advise.sites import convert_sites

PLANTED = {"allele_switch": 12, "strand_flip": 9, "strand_flip_and_allele_switch": 5, "allele_mismatch": 4,
           "atcg": 3}
COMPLEMENT = str.maketrans("ACGT", "TGCA")


def sh(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def bgzip_vcf(text: str, path: Path) -> Path:
    plain = path.with_suffix("")
    plain.write_text(text)
    sh("bgzip", "-f", str(plain))
    sh("tabix", "-f", "-p", "vcf", str(path))
    return path


def ambiguous(ref: str, alt: str) -> bool:
    return {ref, alt} in ({"A", "T"}, {"C", "G"})


def plant(two_pops: Path, out: Path) -> Path:
    """The targets at their polymorphic sites, alleles rewritten at panel A sites picked with a fixed seed."""
    panel = {int(p) for p in sh("bcftools", "query", "-f", "%POS\n", str(two_pops / "panel-a.vcf.gz")).split()}
    text = sh("bcftools", "view", "--no-version", "-c", "1:minor", str(two_pops / "truth.vcf.gz"))
    lines = text.splitlines()
    body = [i for i, line in enumerate(lines) if not line.startswith("#")]
    fields = {i: lines[i].split("\t", 5) for i in body}
    plain = [i for i in body if int(fields[i][1]) in panel and not ambiguous(fields[i][3], fields[i][4])]
    amb = [i for i in body if int(fields[i][1]) in panel and ambiguous(fields[i][3], fields[i][4])]
    rng = np.random.default_rng(5)
    picked = iter(rng.permutation(plain).tolist())
    for label in ("allele_switch", "strand_flip", "strand_flip_and_allele_switch", "allele_mismatch"):
        for _ in range(PLANTED[label]):
            f = fields[next(picked)]
            ref, alt = f[3], f[4]
            f[3], f[4] = {"allele_switch": (alt, ref), "strand_flip": (ref.translate(COMPLEMENT), alt.translate(
                COMPLEMENT)), "strand_flip_and_allele_switch": (alt.translate(COMPLEMENT), ref.translate(COMPLEMENT)),
                "allele_mismatch": (ref, alt.translate(COMPLEMENT))}[label]
    for i in rng.permutation(amb)[:PLANTED["atcg"]].tolist():
        fields[i][3], fields[i][4] = fields[i][4], fields[i][3]
    for i in body:
        lines[i] = "\t".join(fields[i])
    return bgzip_vcf("\n".join(lines) + "\n", out / "planted.vcf.gz")


def isec_positions(cohort: Path, panel: Path, collapse: str) -> set[int]:
    """Positions of the cohort's records bcftools pairs with a panel record (``-c`` ``collapse``)."""
    found = sh("bcftools", "isec", "-c", collapse, "-n=2", "-w1", str(cohort), str(panel))
    return {int(line.split("\t")[1]) for line in found.splitlines() if line and not line.startswith("#")}


def transformed(cohort: Path, how: str, out: Path) -> Path:
    """The cohort's sites with REF/ALT swapped, complemented or both (bcftools view -G, then the two columns)."""
    lines = sh("bcftools", "view", "--no-version", "-G", str(cohort)).splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#"):
            continue
        f = line.split("\t")
        ref, alt = f[3], f[4]
        if "flip" in how:
            ref, alt = ref.translate(COMPLEMENT), alt.translate(COMPLEMENT)
        if "swap" in how:
            ref, alt = alt, ref
        f[3], f[4] = ref, alt
        lines[i] = "\t".join(f)
    return bgzip_vcf("\n".join(lines) + "\n", out / f"{how}.vcf.gz")


def bcftools_counts(cohort: Path, panel: Path, out: Path) -> dict[str, int]:
    found = isec_positions(cohort, panel, "all")
    same = {how: isec_positions(transformed(cohort, how, out), panel, "none")
            for how in ("none", "swap", "flip", "flipswap")}
    alleles = {int(p): (r, a) for p, r, a in (line.split("\t") for line in sh(
        "bcftools", "query", "-f", "%POS\t%REF\t%ALT\n", str(cohort)).splitlines())}
    match = same["none"]
    atcg = {p for p in same["swap"] if ambiguous(*alleles[p])} - match
    switch = same["swap"] - match - atcg
    flip = same["flip"] - match - atcg - switch
    flip_switch = same["flipswap"] - match - atcg - switch - flip
    mismatch = found - match - atcg - switch - flip - flip_switch
    return {"typed": len(alleles), "found": len(found), "match": len(match), "atcg": len(atcg),
            "allele_switch": len(switch), "strand_flip": len(flip), "strand_flip_and_allele_switch": len(flip_switch),
            "allele_mismatch": len(mismatch)}


def test_planted_flips_and_switches_match_the_bcftools_count(two_pops, tmp_path):
    cohort = plant(two_pops, tmp_path)
    expected = bcftools_counts(cohort, two_pops / "panel-a.vcf.gz", tmp_path)
    evidence = compare(scan_cohort([cohort]), convert_sites(two_pops / "panel-a.vcf.gz", tmp_path / "sites"))
    mine = {"typed": evidence.typed, "found": evidence.found, **evidence.alleles}
    print(f"\nbcftools: {expected}\nadvisor:  {mine}")
    assert mine == expected
    for label, planted in PLANTED.items():
        assert evidence.alleles[label] == planted, label
    assert evidence.strand_flips == 9 + 5 and evidence.allele_switches == 12 + 5
    assert evidence.found < evidence.typed  # some of the targets' variants are not in panel A
