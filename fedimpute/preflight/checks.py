"""Verdicts: turning the counts of one file (and of a set of files) into pass/warn/fail checks.

Every rule and threshold is the server's (Cloudgene imputationserver-utils, reference §6.2), and
every failing message quotes the server's own words where it has them, so a user who has seen
the server's error recognises it.  A ``fix`` is a command line wherever one helps.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fedimpute.models import ReferencePanel, ServiceConfig
from fedimpute.preflight.build import (
    LENGTHS,
    BuildEvidence,
    canonical,
    expected_name,
    is_chr_x,
    is_valid_chromosome,
    reference_build,
)
from fedimpute.preflight.genotypes import INVALID, MULTI, NONSNP, REFALT
from fedimpute.preflight.header import Header
from fedimpute.preflight.reader import FileKind
from fedimpute.preflight.report import CheckStatus, FileReport
from fedimpute.preflight.scan import CHUNK, DENSITY_CHUNK, FileScan

__all__ = ["FileFacts", "Options", "file_checks"]

PASS, WARN, FAIL = CheckStatus.PASS, CheckStatus.WARN, CheckStatus.FAIL
MIN_CHUNK_SNPS = 3  # minSnps: the server's default; some panels ask for more (HRC 20)
SAMPLE_CALL_RATE = 0.5
SITE_CALL_RATE = 0.9
OVERLAP = 0.5
STRAND_FLIPS = 100
ALLELE_SWITCHES = 100
MAX_CHUNK_SNPS = 20_000  # TOPMed: average records per 10 Mb chunk
MIXED_CHR_X = 0.10
PHASING = ("eagle", "beagle", "no_phasing")


@dataclass
class Options:
    """What the user asked for: ``build`` is hg19, hg38 or auto."""

    build: str = "auto"
    service: ServiceConfig | None = None
    phasing: str | None = None
    panel: ReferencePanel | None = None


@dataclass
class FileFacts:
    """What one pass over a file found; ``scan`` is None when the records could not be read."""

    path: Path
    kind: FileKind | None = None
    header: Header = field(default_factory=Header)
    scan: FileScan | None = None
    read_error: str | None = None
    evidence: BuildEvidence = field(default_factory=BuildEvidence)

    @property
    def name(self) -> str:
        return shlex.quote(self.path.name)

    def stem(self) -> str:
        name = self.path.name
        for suffix in (".vcf.gz", ".vcf.bgz", ".vcf", ".gz"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name


def _n(value: float) -> str:
    return f"{value:,}"


def _examples(scan: FileScan, key: str) -> str:
    found = scan.examples.get(key)
    return f" (e.g. {'; '.join(found)})" if found else ""


def _eg(scan: FileScan, key: str) -> str:
    """Examples to follow a number inside parentheses: ``(150, e.g. 20:1,234 A/G)``."""
    found = scan.examples.get(key)
    return f", e.g. {'; '.join(found)}" if found else ""


# -- the file itself --------------------------------------------------------------------------


def compression_check(report: FileReport, facts: FileFacts) -> bool:
    """BGZF is required (the server runs tabix first); returns False when nothing more can be read."""
    kind, name, stem = facts.kind, facts.name, facts.stem()
    if kind is None or kind.compression is None:
        report.add("file", FAIL, f"{facts.path.name} cannot be checked: "
                   f"{kind.problem if kind else 'unreadable'}. The server answers: \"The provided VCF file is "
                   "malformed.\"", "Upload a VCF file compressed with bgzip (`bcftools view FILE -Oz -o "
                   "FILE.vcf.gz`).")
        return False
    if kind.compression == "bgzf" and kind.bgzf_eof:
        report.add("compression", PASS, "bgzip-compressed (BGZF) with its end-of-file block, so tabix can index it.")
    elif kind.compression == "bgzf":
        report.add("compression", WARN, "BGZF-compressed but the 28-byte end-of-file block is missing: the file "
                   "may be truncated or written by a tool that omits it.",
                   f"Recompress it: `bgzip -dc {name} | bgzip -c > {stem}.fixed.vcf.gz && tabix -p vcf "
                   f"{stem}.fixed.vcf.gz`, or copy the file again if it was cut short.")
    elif kind.compression == "gzip":
        report.add("compression", FAIL, "compressed with plain gzip, not bgzip (BGZF): tabix refuses it (\"the "
                   "compression of '...' is not BGZF\") and the server says \"The provided VCF file is malformed.\"",
                   f"`zcat {name} | bgzip -c > {stem}.bgz.vcf.gz && tabix -p vcf {stem}.bgz.vcf.gz` "
                   "(or `fedimpute check --fix OUT_DIR`).")
    else:
        report.add("compression", FAIL, "not compressed: the server only takes bgzip-compressed *.vcf.gz files "
                   "(others are silently ignored: \"No vcf.gz input files detected.\").",
                   f"`bgzip -c {name} > {stem}.vcf.gz && tabix -p vcf {stem}.vcf.gz` "
                   "(or `fedimpute check --fix OUT_DIR`).")
    return True


def integrity_check(report: FileReport, facts: FileFacts) -> None:
    if facts.read_error:
        read = f" after {_n(facts.scan.records)} records" if facts.scan and facts.scan.records else ""
        report.add("integrity", FAIL, f"reading stopped{read}: {facts.read_error}.",
                   f"Copy or download {facts.path.name} again; `bgzip -t {facts.name}` tests a copy without "
                   "unpacking it.")
    elif facts.kind and facts.kind.compression in ("bgzf", "gzip"):
        report.add("integrity", PASS, "the compressed data decompresses to the end without error.")


def header_check(report: FileReport, facts: FileFacts) -> bool:
    """Returns False when the header is too broken to read records against."""
    h, name, stem = facts.header, facts.name, facts.stem()
    problems = list(h.problems)
    if not h.complete:
        problems.append("there is no #CHROM header line" + (" before the first record" if h.meta_lines else ""))
    if h.fileformat is None:
        problems.append("the first line is not ##fileformat=VCFv4.x")
    if h.crlf:
        problems.append("lines end in Windows line breaks (\\r\\n)")
    if not problems:
        report.add("header", PASS, f"{h.fileformat} header with {_n(h.meta_lines)} meta lines and "
                   f"{_n(len(h.samples))} samples.")
        return True
    fix = (f"`zcat {name} | tr -d '\\r' | bgzip -c > {stem}.unix.vcf.gz`" if h.crlf and len(problems) == 1 else
           "Export the file again as VCF (e.g. `plink2 --export vcf bgz`, or `bcftools view -Oz`); a spreadsheet "
           "or text editor may have changed tabs or line ends.")
    spaced = any("spaces" in p for p in problems)
    message = "; ".join(problems) + "." + (" The server says: \"The provided VCF file is not tab-delimited\"."
                                          if spaced else " The server says: \"The provided VCF file is malformed.\"")
    report.add("header", FAIL, message[0].upper() + message[1:], fix)
    return h.complete


def records_check(report: FileReport, facts: FileFacts) -> None:
    scan, name = facts.scan, facts.name
    if scan is None:
        return
    if scan.records == 0:
        report.add("records", FAIL, "No genotypes found in the VCF file. It appears the file contains only the "
                   "header.", "Export the data again: the file has a header and no variant records.")
        return
    bad = sum(scan.malformed.values())
    if not bad:
        report.add("records", PASS, f"{_n(scan.records)} records, all well formed.")
        return
    kinds = ", ".join(f"{k} ({_n(v)})" for k, v in scan.malformed.most_common(3))
    tabbed = "not tab-delimited" in scan.malformed
    message = (f"{_n(bad)} of {_n(scan.records)} records are malformed: {kinds}{_examples(scan, 'malformed')}."
               + (" The server says: \"The provided VCF file is not tab-delimited\"." if tabbed else ""))
    report.add("records", FAIL, message,
               f"Columns must be separated by single tabs; `bcftools view {name} -Ov -o /dev/null` names the first "
               "bad line. Export the file again rather than editing it by hand.")


def sorted_check(report: FileReport, facts: FileFacts) -> None:
    scan, name, stem = facts.scan, facts.name, facts.stem()
    if not scan or not scan.records:
        return
    if scan.unsorted:
        report.add("sorted", FAIL, f"records are not sorted by position: {_n(scan.unsorted)} step(s) back"
                   f"{_examples(scan, 'unsorted')}. tabix refuses to index it (\"Unsorted positions on sequence "
                   "#1\") and the server says \"The provided VCF file is malformed.\"",
                   f"`bcftools sort {name} -Oz -o {stem}.sorted.vcf.gz && tabix -p vcf {stem}.sorted.vcf.gz`")
    else:
        report.add("sorted", PASS, "records are sorted by position, so the file can be indexed with tabix.")


# -- chromosomes and build --------------------------------------------------------------------


def chromosome_checks(report: FileReport, facts: FileFacts, build: str | None, options: Options) -> None:
    scan, name, stem = facts.scan, facts.name, facts.stem()
    if not scan or not scan.chroms:
        return
    counts = ", ".join(f"{c} ({_n(scan.per_chrom[c])})" for c in scan.chroms[:6])
    if len(scan.chroms) > 1:
        loop = " ".join(shlex.quote(c) for c in scan.chroms[:6])
        report.add("one_chromosome", FAIL, f"{len(scan.chroms)} chromosomes in one file: {counts}. The server says: "
                   "\"The provided VCF file contains more than one chromosome. Please split your input VCF file by "
                   "chromosome\".",
                   f"`tabix -p vcf {name}; for c in {loop}; do bcftools view {name} -r $c -Oz -o {stem}.$c.vcf.gz; "
                   "done` (or `fedimpute check --fix OUT_DIR`).")
    else:
        report.add("one_chromosome", PASS, f"one chromosome: {counts}.")
    invalid = [c for c in scan.chroms if not is_valid_chromosome(c)]
    if invalid:
        suggestion = "; ".join(f"{c} -> {expected_name(canonical(c), build or 'hg19')}" for c in invalid
                               if is_valid_chromosome(canonical(c)))
        report.add("chromosome_names", FAIL, f"Invalid chromosome found: {invalid[0]}" + (
            f" (and {', '.join(invalid[1:4])})" if len(invalid) > 1 else "") + ". The server takes 1-22, 23, X "
            "and MT, with or without 'chr' (no Y, no contigs such as GL000192.1, no chrM).",
                   f"Rename with `bcftools annotate --rename-chrs map.txt` ({suggestion})" if suggestion else
                   f"Drop them: `bcftools view {name} -t ^{','.join(invalid[:4])} -Oz -o {stem}.valid.vcf.gz`")
    else:
        report.add("chromosome_names", PASS, f"valid chromosome name(s): {', '.join(scan.chroms[:6])}.")
    naming_check(report, facts, build, options)


def naming_check(report: FileReport, facts: FileFacts, build: str | None, options: Options) -> None:
    """hg19 wants ``20``, hg38 wants ``chr20`` (the server's InputValidation)."""
    scan, name, stem = facts.scan, facts.name, facts.stem()
    valid = [c for c in scan.chroms if is_valid_chromosome(c)]
    if not valid or build is None:
        return
    wrong = [c for c in valid if c != expected_name(c, build)]
    if not wrong:
        report.add("chromosome_naming", PASS, f"'{valid[0]}' is the {build} naming.")
        return
    c = wrong[0]
    want = expected_name(c, build)
    given = options.build in ("hg19", "hg38")
    status = FAIL if given or not facts.evidence.strong else WARN
    why = "" if given else f" (build {build} detected from {facts.evidence.verdict()[1]})"
    report.add("chromosome_naming", status,
               f"Your upload data contains chromosome '{c}'. This is not a valid {build} encoding. Please ensure "
               f"that your input data is build {build} and chromosome is encoded as '{want}'.{why}",
               f"`fedimpute check --fix OUT_DIR --build {build} {name}`, or `echo '{c} {want}' > rename.txt && echo "
               f"'##contig=<ID={c}>' > contigs.txt && bcftools annotate -h contigs.txt --rename-chrs rename.txt "
               f"{name} -Oz -o {stem}.{build}.vcf.gz`; if the data is really the other build, say so with --build.")


def gather_evidence(facts: FileFacts) -> BuildEvidence:
    """Contig lengths and ##reference from the header, positions and naming from the records."""
    evidence = BuildEvidence()
    h, scan = facts.header, facts.scan
    for contig, length in h.contigs.items():
        bare = canonical(contig)
        for b, table in LENGTHS.items():
            if length and table.get(bare) == length:
                evidence.contigs.setdefault(b, []).append(f"{contig} ({_n(length)})")
    if h.reference:
        evidence.reference, evidence.reference_line = reference_build(h.reference), h.reference.strip()
    if scan:
        for chrom, top in scan.max_pos.items():
            bare = canonical(chrom)
            for b, table in LENGTHS.items():
                if bare in table and top > table[bare]:
                    evidence.beyond_end[b] = f"{chrom}:{_n(top)} > {_n(table[bare])}"
        names = [c for c in scan.chroms if is_valid_chromosome(c)]
        if names:
            evidence.prefixed = names[0].startswith("chr")
    return evidence


def build_check(report: FileReport, facts: FileFacts, options: Options) -> str | None:
    """Returns the build the rest of the checks use: the one given, else the one detected."""
    evidence = facts.evidence
    detected, why = evidence.verdict()
    given = options.build if options.build in ("hg19", "hg38") else None
    build = given or detected
    service = options.service
    if given and detected and evidence.strong and detected != given:
        definitive = bool(evidence.beyond_end)
        report.add("build", FAIL if definitive else WARN,
                   f"--build {given} was given but the data looks like {detected}: {why}. Imputing {detected} "
                   f"coordinates as {given} gives allele mismatches and dropped chunks.",
                   f"Submit with --build {detected}, or lift the data over to {given} (e.g. `bcftools +liftover` or "
                   "CrossMap) first.")
    elif build is None:
        report.add("build", WARN, "the build cannot be told: no ##contig lengths, no ##reference line, and no "
                   "chromosome names to go by.", "Pass --build hg19 or --build hg38.")
    else:
        source = "given" if given else f"detected from {why}"
        report.add("build", PASS, f"{build} ({source}).")
    panel = options.panel
    if panel is not None and panel.build in ("hg19", "hg38") and build is not None and panel.build != build:
        report.add("panel_build", WARN, f"Uploaded data is {build} and reference is {panel.build} (panel "
                   f"{panel.panel_id}): the server lifts the data over first, and sites that do not lift over are "
                   "lost.", f"Nothing to do if that is acceptable; otherwise choose a {build} panel or lift over "
                   "yourself to control it.")
    if service is not None and build is not None and service.builds and build not in service.builds:
        report.add("service_build", FAIL, f"service {service.name} takes {', '.join(service.builds)} data, "
                   f"and this file is {build}.", f"Lift the data over to {service.builds[0]}, or choose a service "
                   f"that takes {build}.")
    return build


# -- samples ----------------------------------------------------------------------------------


def sample_checks(report: FileReport, facts: FileFacts, options: Options) -> None:
    h, name, stem = facts.header, facts.name, facts.stem()
    if not h.complete:
        return
    n = len(h.samples)
    service = options.service
    if n == 0:
        report.add("samples", FAIL, "the file has no samples (no genotype columns after FORMAT): a sites-only VCF "
                   "cannot be imputed.", "Export the genotypes too (e.g. `plink2 --export vcf bgz`).")
    elif service is not None and service.min_samples and n < service.min_samples:
        report.add("samples", FAIL, f"At least {service.min_samples} samples must be uploaded. Your submission "
                   f"contains {n} samples, which is below the allowed limit (service {service.name}).",
                   f"Add samples (`bcftools merge` with more files) to reach {service.min_samples}, or use a "
                   "service with a lower minimum.")
    elif service is not None and service.max_samples and n > service.max_samples:
        report.add("samples", FAIL, f"The maximum allowed number of samples is {_n(service.max_samples)}. Your "
                   f"submission contains {_n(n)} samples, which is above the limit (service {service.name}).",
                   f"Split the samples into batches: `bcftools query -l {name} | split -l {service.max_samples} - "
                   f"batch_` then `bcftools view -S batch_aa {name} -Oz -o {stem}.batch_aa.vcf.gz` per batch.")
    else:
        most = _n(service.max_samples) if service is not None and service.max_samples else "any number of"
        limits = (f" (service {service.name} takes {service.min_samples or 1} to {most} samples)"
                  if service is not None else "")
        report.add("samples", PASS, f"{_n(n)} samples{limits}.")
    dupes = h.duplicate_samples()
    if dupes:
        awk = ("BEGIN{FS=OFS=\"\\t\"} /^#CHROM/{for(i=10;i<=NF;i++) if(seen[$i]++) $i=$i\"_\"seen[$i]} {print}")
        report.add("sample_ids", FAIL, f"Two individuals or more have the following ID: {dupes[0]}"
                   + (f" ({len(dupes)} ids repeat: {', '.join(dupes[:4])})" if len(dupes) > 1 else "") + ".",
                   f"Make them unique (bcftools refuses such a header): `zcat {name} | awk '{awk}' | bgzip -c > "
                   f"{stem}.renamed.vcf.gz` appends _2, _3 ... to repeated ids.")
    elif n:
        report.add("sample_ids", PASS, f"all {_n(n)} sample ids are unique.")


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
    phasing_check(report, facts, options)
    chunk_sample_check(report, facts)


def phasing_check(report: FileReport, facts: FileFacts, options: Options) -> None:
    scan, phasing = facts.scan, options.phasing
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


def chunk_sample_check(report: FileReport, facts: FileFacts) -> None:
    """Any sample under 50% call rate in a 20 Mb chunk drops the whole chunk."""
    scan, h, name, stem = facts.scan, facts.header, facts.name, facts.stem()
    bad_chunks, worst = [], {}
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
    density_check(report, facts, options)


def density_check(report: FileReport, facts: FileFacts, options: Options) -> None:
    """TOPMed rejects uploads averaging more than 20,000 records per 10 Mb: WGS or imputed data."""
    scan, name, stem = facts.scan, facts.name, facts.stem()
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
        report.add("strand_flips", WARN, f"{_n(flips)} strand flip(s){_examples(scan, 'strand_flip')}: the server drops them (limit "
                   f"{STRAND_FLIPS}). [{summary}]", fixref)
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
    overlap_check(report, facts)


def overlap_check(report: FileReport, facts: FileFacts) -> None:
    scan = facts.scan
    keys = sorted(set(scan.chunk_found) | set(scan.chunk_missing_panel))
    low = []
    for c, k in keys:
        found, missing = scan.chunk_found.get((c, k), 0), scan.chunk_missing_panel.get((c, k), 0)
        if found / max(found + missing, 1) < OVERLAP:
            low.append(f"{scan.chroms[c]}:{k * CHUNK + 1:,}-{(k + 1) * CHUNK:,} ({found / max(found + missing, 1):.0%})")
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


# -- all together -----------------------------------------------------------------------------


def file_checks(facts: FileFacts, options: Options) -> FileReport:
    """Every single-file check, in the order a user should fix things."""
    report = FileReport(path=str(facts.path))
    if not compression_check(report, facts):
        return report
    integrity_check(report, facts)
    if not header_check(report, facts) and not facts.scan:
        return report
    scan = facts.scan
    if scan is not None:
        report.chromosomes = list(scan.chroms)
        report.variants = scan.records
    report.samples = len(facts.header.samples) if facts.header.complete else None
    records_check(report, facts)
    sorted_check(report, facts)
    facts.evidence = gather_evidence(facts)
    build = build_check(report, facts, options)
    report.build = build
    chromosome_checks(report, facts, build, options)
    sample_checks(report, facts, options)
    variant_checks(report, facts)
    genotype_checks(report, facts, options)
    chr_x_checks(report, facts)
    chunk_checks(report, facts, options)
    panel_checks(report, facts)
    return report
