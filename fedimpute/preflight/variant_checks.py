"""Verdicts on a file's variants: genotypes, phasing, chunks, chromosome X, density and the panel.

The counts come from the scan (:mod:`fedimpute.preflight.scan`); each rule and message is the
server's, as in :mod:`fedimpute.preflight.checks`.
"""

from __future__ import annotations

import shlex

import numpy as np

from fedimpute.preflight.build import (
    is_chr_x,
)
from fedimpute.preflight.facts import (
    ALLELE_SWITCHES,
    FAIL,
    MAX_CHUNK_SNPS,
    MIN_CHUNK_SNPS,
    MIXED_CHR_X,
    OVERLAP,
    PASS,
    PHASING,
    SAMPLE_CALL_RATE,
    STRAND_FLIPS,
    WARN,
    FileFacts,
    Options,
    _eg,
    _examples,
    _n,
)
from fedimpute.preflight.genotypes import INVALID, MULTI, NONSNP, REFALT
from fedimpute.preflight.report import FileReport
from fedimpute.preflight.scan import CHUNK, DENSITY_CHUNK, FileScan

__all__ = ["chr_x_checks", "chunk_checks", "genotype_checks", "panel_checks", "variant_checks"]


# -- variants ---------------------------------------------------------------------------------


def variant_checks(report: FileReport, facts: FileFacts) -> None:
    scan, name, stem = facts.scan, facts.name, facts.stem()
    if not scan or not scan.records:
        return
    total = scan.records
    if scan.first_refalt is not None:
        vid, ref, alt = scan.first_refalt
        report.add("ref_alt", FAIL, f"The provided VCF file is malformed at variation {vid}: reference allele "
                   f"({ref}) and alternate allele  ({alt}) are the same. ({_n(scan.kinds[REFALT])} such record(s).)",
                   f"`bcftools view -e 'REF==ALT' {name} -Oz -o {stem}.refalt.vcf.gz`")
    else:
        report.add("ref_alt", PASS, "no record has REF equal to ALT.")
    _excluded(report, "multiallelic", scan.kinds[MULTI], total, "multi-allelic sites (ALT with a comma)",
              _examples(scan, "multiallelic"), f"`bcftools norm -m -any {name} -Oz -o {stem}.split.vcf.gz` splits "
              "them into biallelic records (the server drops them otherwise).")
    nonsnp = scan.kinds[NONSNP] + scan.kinds[INVALID]
    _excluded(report, "non_snp", nonsnp, total, "non-SNP records (indels, MNPs, symbolic or N alleles)",
              _examples(scan, "nonsnp") or _examples(scan, "invalid"),
              f"Nothing to do if they may go; to upload only what is used: `bcftools view -v snps -m2 -M2 {name} -Oz "
              f"-o {stem}.snps.vcf.gz`")
    _excluded(report, "filter_flag", scan.filtered, total, "SNPs with a FILTER flag other than PASS or '.'", "",
              f"Check why they were filtered; `bcftools view -f PASS,. {name} -Oz -o {stem}.pass.vcf.gz` keeps the "
              "others.")
    _excluded(report, "duplicates", scan.duplicates, total, "duplicate sites (same position as the previous SNP)",
              _examples(scan, "duplicates"), f"`bcftools norm -d all {name} -Oz -o {stem}.dedup.vcf.gz`")
    _excluded(report, "monomorphic", scan.monomorphic, total, "monomorphic SNPs (no sample carries ALT)",
              _examples(scan, "monomorphic"), f"`bcftools view -c 1 {name} -Oz -o {stem}.poly.vcf.gz` (they carry no "
              "information for imputation).")
    _excluded(report, "site_call_rate", scan.low_call_rate, total, "SNPs with call rate < 90%",
              _examples(scan, "low_call_rate"),
              f"`bcftools view -i 'F_MISSING<0.1' {name} -Oz -o {stem}.cr90.vcf.gz`")


def _excluded(report: FileReport, check_id: str, count: int, total: int, what: str, examples: str, fix: str) -> None:
    """The server drops these records; many of them can empty a chunk, so it is a warning."""
    if count:
        report.add(check_id, WARN, f"{_n(count)} of {_n(total)} records are {what}{examples}; the server excludes "
                   "them (listed in snps-excluded.txt).", fix)
    else:
        report.add(check_id, PASS, f"no {what}.")


def genotype_checks(report: FileReport, facts: FileFacts, options: Options) -> None:
    scan, h = facts.scan, facts.header
    if not scan or not scan.records or not h.samples:
        return
    if scan.no_gt:
        report.add("genotypes", FAIL, f"{_n(scan.no_gt)} of {_n(scan.records)} records have no GT field in FORMAT: "
                   "there are no genotypes to impute from.", "Export hard calls (GT), e.g. with `plink2 --export "
                   "vcf bgz`; dosage-only files cannot be imputed.")
    phasing_check(report, scan, options)
    chunk_sample_check(report, scan, facts)


def phasing_check(report: FileReport, scan: FileScan, options: Options) -> None:
    phasing = options.phasing
    unphased = scan.unphased_rows > 0
    if phasing is not None and phasing not in PHASING:
        report.add("phasing", FAIL, "For phasing, only options 'eagle', 'beagle' or 'no_phasing' are allowed "
                   f"(got {phasing!r}).", "Use --phasing eagle, beagle or no_phasing.")
    elif unphased and phasing == "no_phasing":
        report.add("phasing", FAIL, "Your input data is unphased. Please select an algorithm for phasing. "
                   f"({_n(scan.unphased_rows)} of {_n(scan.records)} records have unphased '/' calls"
                   f"{_examples(scan, 'unphased')}.)",
                   "Submit with --phasing eagle (or beagle), or phase the data first (e.g. with SHAPEIT or Eagle).")
    elif unphased and scan.phased_rows:
        report.add("phasing", WARN, f"mixed phasing: {_n(scan.phased_rows)} records phased ('|') and "
                   f"{_n(scan.unphased_rows)} unphased ('/'); the server treats the file as unphased and phases all.",
                   "Nothing to do unless you meant it to be phased; then phase it again as a whole.")
    elif unphased:
        report.add("phasing", PASS, f"unphased ('/') genotypes: the service will phase them ({phasing or 'eagle'}).")
    else:
        report.add("phasing", PASS, "phased ('|') genotypes" + (" (no_phasing is fine)." if phasing else "."))


def chunk_sample_check(report: FileReport, scan: FileScan, facts: FileFacts) -> None:
    """Any sample under 50% call rate in a 20 Mb chunk drops the whole chunk."""
    h, name, stem = facts.header, facts.name, facts.stem()
    bad_chunks: list[tuple[int, int]] = []
    worst: dict[int, float] = {}
    for key, nocall in sorted(scan.chunk_nocall.items()):
        sites = scan.chunk_valid.get(key, 0)
        if not sites:
            continue
        rate = 1 - nocall / sites
        low = np.flatnonzero(rate < SAMPLE_CALL_RATE)
        if len(low):
            bad_chunks.append(key)
            for i in low:
                worst[int(i)] = min(worst.get(int(i), 1.0), float(rate[i]))
    if not worst:
        if scan.chunk_nocall:
            report.add("sample_call_rate", PASS, "every sample has a call rate of at least 50% in every 20 Mb chunk.")
        return
    chunks = len([k for k in scan.chunk_valid if scan.chunk_valid[k]])
    names = [f"{h.samples[i]} ({r:.0%})" for i, r in sorted(worst.items(), key=lambda x: x[1])[:3]]
    status = FAIL if len(bad_chunks) >= chunks else WARN
    tail = (" No chunks passed the QC step. Imputation cannot be started!" if status is FAIL else
            f" {len(bad_chunks)} of {chunks} chunk(s) will be excluded.")
    drop = ",".join(h.samples[i] for i in sorted(worst, key=lambda i: worst[i])[:20])
    report.add("sample_call_rate", status, f"{len(worst)} of {len(h.samples)} samples have a call rate < 50% in "
               f"at least one 20 Mb chunk: {', '.join(names)}; the server excludes every chunk where any sample is "
               f"below 50%.{tail}", f"Remove those samples: `bcftools view -s ^{shlex.quote(drop)} {name} -Oz -o "
               f"{stem}.samples.vcf.gz`")


def chr_x_checks(report: FileReport, facts: FileFacts) -> None:
    scan, h, name = facts.scan, facts.header, facts.name
    if not scan or not any(is_chr_x(c) for c in scan.chroms) or not h.samples or not scan.x_rows:
        return
    both = np.flatnonzero((scan.x_haploid > 0) & (scan.x_diploid > 0))
    if len(both):
        examples = ", ".join(f"{h.samples[i]} ({scan.x_haploid[i]:,} haploid, {scan.x_diploid[i]:,} diploid)"
                             for i in both[:3])
        report.add("chrx_ploidy", FAIL, f"ChrX nonPAR region includes ambiguous samples (haploid and diploid "
                   f"positions): {len(both)} of {len(h.samples)} sample(s) ({len(both) / len(h.samples):.0%}), "
                   f"e.g. {examples}. Imputation cannot be started!",
                   f"Make males haploid and females diploid in the nonPAR region: `bcftools +fixploidy {name} -Oz "
                   f"-o {facts.stem()}.ploidy.vcf.gz -- -s sexes.txt` (sexes.txt: 'SAMPLE M' or 'SAMPLE F' per line).")
    else:
        haploid = int((scan.x_haploid > 0).sum())
        report.add("chrx_ploidy", PASS, f"chrX nonPAR: {haploid} haploid and {len(h.samples) - haploid} diploid "
                   "samples, none mixed.")
    rate = scan.x_mixed / max(scan.x_rows, 1)
    over = np.flatnonzero(rate > MIXED_CHR_X)
    if len(over):
        examples = ", ".join(f"{h.samples[i]} ({rate[i]:.0%})" for i in over[:3])
        report.add("chrx_mixed", FAIL, f"Chromosome X nonPAR region includes > 10 % mixed genotypes (one allele "
                   f"missing, e.g. './1'): {len(over)} sample(s), e.g. {examples}. Imputation cannot be started!",
                   "Set half-missing calls to missing: `bcftools +setGT FILE -- -t q -n . -i 'GT~\"\\.\"'`, or call "
                   "chrX again with the right ploidy.")
    else:
        report.add("chrx_mixed", PASS, "chrX nonPAR: no sample has more than 10% half-missing calls.")


def chunk_checks(report: FileReport, facts: FileFacts, options: Options) -> None:
    scan = facts.scan
    if not scan or not scan.records:
        return
    chunks = sorted(scan.chunk_all)
    few = [k for k in chunks if scan.chunk_valid.get(k, 0) < MIN_CHUNK_SNPS]
    label = ", ".join(f"{scan.chroms[c]}:{k * CHUNK + 1:,}-{(k + 1) * CHUNK:,} ({scan.chunk_valid.get((c, k), 0)} "
                      "SNPs)" for c, k in few[:3])
    if few and len(few) == len(chunks):
        report.add("chunks", FAIL, f"every 20 Mb chunk has fewer than {MIN_CHUNK_SNPS} usable SNPs: {label}. "
                   "No chunks passed the QC step. Imputation cannot be started!",
                   "Check that the right file was chosen: the server needs at least 3 usable SNPs per 20 Mb "
                   "(some panels ask for 20).")
    elif few:
        report.add("chunks", WARN, f"{len(few)} of {len(chunks)} 20 Mb chunk(s) have fewer than {MIN_CHUNK_SNPS} "
                   f"usable SNPs and will be excluded: {label}.", "Nothing to fix unless that region matters; then "
                   "genotype more markers there.")
    else:
        report.add("chunks", PASS, f"{len(chunks)} chunk(s) of 20 Mb, each with at least {MIN_CHUNK_SNPS} usable SNPs.")
    density_check(report, scan, facts, options)


def density_check(report: FileReport, scan: FileScan, facts: FileFacts, options: Options) -> None:
    """TOPMed rejects uploads averaging more than 20,000 records per 10 Mb: WGS or imputed data."""
    name, stem = facts.name, facts.stem()
    dense = sorted(((v, k) for k, v in scan.density.items() if v > MAX_CHUNK_SNPS), reverse=True)
    total, chunks = sum(scan.density.values()), len(scan.density)
    average = total / max(chunks, 1)
    if not dense:
        report.add("wgs_density", PASS, f"array-like density: at most {_n(max(scan.density.values(), default=0))} "
                   "records per 10 Mb (TOPMed allows 20,000).")
        return
    service = options.service
    topmed = service is not None and "topmed" in f"{service.name} {service.url} {service.app or ''}".lower()
    status = FAIL if topmed and average > MAX_CHUNK_SNPS else WARN
    v, (c, k) = dense[0]
    report.add("wgs_density", status, f"{len(dense)} of {chunks} 10 Mb chunk(s) hold more than {_n(MAX_CHUNK_SNPS)} "
               f"records (densest {scan.chroms[c]}:{k * DENSITY_CHUNK + 1:,}-{(k + 1) * DENSITY_CHUNK:,} with {_n(v)}; "
               f"average {_n(round(average))}): sequencing or already-imputed data. TOPMed answers \"Your upload data "
               f"contains {_n(total)} SNPs in {_n(chunks)} chunks. Input genotypes are expect to come from array "
               f"genotypes with no more than {_n(MAX_CHUNK_SNPS)} SNPs expected per chunk.\" when the average is "
               "above the limit.",
               f"Upload the genotyped (array) sites only, e.g. `bcftools view -i 'INFO/TYPED=1' {name} -Oz -o "
               f"{stem}.typed.vcf.gz` for imputed files, or `-R array_sites.tsv` to keep a chip's sites.")


# -- panel ------------------------------------------------------------------------------------


def panel_checks(report: FileReport, facts: FileFacts) -> None:
    scan, name, stem = facts.scan, facts.name, facts.stem()
    if not scan or not scan.records or scan.panel is None:
        return
    counts = scan.panel_counts
    flips = counts["strand_flip"] + counts["strand_flip_and_allele_switch"]
    switches = counts["allele_switch"] + counts["strand_flip_and_allele_switch"]
    found = sum(scan.chunk_found.values())
    summary = (f"{_n(found)} SNPs in the panel: {_n(counts['match'])} match, {_n(counts['allele_switch'])} allele "
               f"switch, {_n(counts['strand_flip'])} strand flip, {_n(counts['strand_flip_and_allele_switch'])} strand "
               f"flip and allele switch, {_n(counts['atcg'])} A/T or C/G, {_n(counts['allele_mismatch'])} allele "
               "mismatch")
    fixref = (f"`bcftools +fixref {name} -Oz -o {stem}.flipped.vcf.gz -- -f ref.fa -m flip -d` turns strands "
              "(and drops A/T, C/G sites); check the result with `bcftools +fixref FILE -- -f ref.fa`.")
    examples = _eg(scan, "strand_flip") or _eg(scan, "strand_flip_and_allele_switch")
    if flips > STRAND_FLIPS:
        report.add("strand_flips", FAIL, f"More than {STRAND_FLIPS} obvious strand flips have been detected "
                   f"({_n(flips)}{examples}). Please check strand. Imputation cannot be started! [{summary}]", fixref)
    elif flips:
        report.add("strand_flips", WARN, f"{_n(flips)} strand flip(s){_examples(scan, 'strand_flip')}: the server "
                   f"drops them (limit {STRAND_FLIPS}). [{summary}]", fixref)
    else:
        report.add("strand_flips", PASS, f"no strand flips. [{summary}]")
    examples = _eg(scan, "allele_switch")
    swap = (f"`bcftools norm -c s -f ref.fa {name} -Oz -o {stem}.swapped.vcf.gz` swaps REF/ALT and recodes the "
            "genotypes.")
    if switches > ALLELE_SWITCHES:
        report.add("allele_switches", FAIL, f"More than {ALLELE_SWITCHES} allele switches have been detected "
                   f"({_n(switches)}{examples}). Imputation cannot be started! (MIS2 panels; other servers may only "
                   "count them.)", swap)
    elif switches:
        report.add("allele_switches", WARN, f"{_n(switches)} allele switch(es){_examples(scan, 'allele_switch')} "
                   f"(limit {ALLELE_SWITCHES} on MIS2 panels).", swap)
    else:
        report.add("allele_switches", PASS, "no allele switches.")
    overlap_check(report, scan)


def overlap_check(report: FileReport, scan: FileScan) -> None:
    keys = sorted(set(scan.chunk_found) | set(scan.chunk_missing_panel))
    low = []
    for c, k in keys:
        found, missing = scan.chunk_found.get((c, k), 0), scan.chunk_missing_panel.get((c, k), 0)
        if found / max(found + missing, 1) < OVERLAP:
            share = found / max(found + missing, 1)
            low.append(f"{scan.chroms[c]}:{k * CHUNK + 1:,}-{(k + 1) * CHUNK:,} ({share:.0%})")
    found, missing = sum(scan.chunk_found.values()), sum(scan.chunk_missing_panel.values())
    overall = found / max(found + missing, 1)
    if not keys:
        return
    if low:
        status = FAIL if len(low) == len(keys) else WARN
        report.add("panel_overlap", status, f"reference overlap {overall:.1%} overall; {len(low)} of {len(keys)} "
                   f"chunk(s) below 50% will be excluded: {', '.join(low[:3])}."
                   + (" No chunks passed the QC step. Imputation cannot be started!" if status is FAIL else ""),
                   "Check the build (hg19 vs hg38) and the chromosome naming against the panel; a low overlap "
                   "usually means the wrong build or a different marker set.")
    else:
        report.add("panel_overlap", PASS, f"reference overlap {overall:.1%} ({_n(found)} of {_n(found + missing)} "
                   "SNPs), every chunk at least 50%.")


