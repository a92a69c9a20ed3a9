"""Verdicts: turning the counts of one file (and of a set of files) into pass/warn/fail checks.

Every rule and threshold is the server's (Cloudgene imputationserver-utils, reference §6.2), and
every failing message quotes the server's own words where it has them, so a user who has seen
the server's error recognises it.  A ``fix`` is a command line wherever one helps.
"""

from __future__ import annotations

import shlex

from fedimpute.preflight.build import (
    LENGTHS,
    BuildEvidence,
    canonical,
    expected_name,
    is_valid_chromosome,
    reference_build,
)
from fedimpute.preflight.facts import (
    FAIL,
    PASS,
    WARN,
    FileFacts,
    Options,
    _examples,
    _n,
)
from fedimpute.preflight.report import FileReport
from fedimpute.preflight.scan import FileScan
from fedimpute.preflight.variant_checks import (
    chr_x_checks,
    chunk_checks,
    genotype_checks,
    panel_checks,
    variant_checks,
)

__all__ = ["FileFacts", "Options", "file_checks"]


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
    naming_check(report, scan, facts, build, options)


def naming_check(report: FileReport, scan: FileScan, facts: FileFacts, build: str | None, options: Options) -> None:
    """hg19 wants ``20``, hg38 wants ``chr20`` (the server's InputValidation)."""
    name, stem = facts.name, facts.stem()
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
