"""``check_files``: one streaming pass per file, then the per-file and cross-file verdicts.

Bad input never raises: a missing file, a folder, random bytes or a truncated gzip become
failing checks.  Only bad *arguments* (an unknown build, an unusable panel sites file) raise
:class:`~fedimpute.exceptions.UsageError`.
"""

from __future__ import annotations

import gzip
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from fedimpute.exceptions import UsageError
from fedimpute.models import ReferencePanel, ServiceConfig
from fedimpute.preflight.build import BUILDS, LENGTHS, BuildEvidence, canonical, reference_build
from fedimpute.preflight.checks import FileFacts, Options, file_checks
from fedimpute.preflight.header import Header
from fedimpute.preflight.inflate import ParallelBgzf, find_block_boundary, libdeflate
from fedimpute.preflight.panel import PanelSites, load_panel_sites
from fedimpute.preflight.reader import FileKind, ReadError, Source, line_blocks, open_source, sniff
from fedimpute.preflight.report import CheckStatus, FileReport, PreflightReport
from fedimpute.preflight.scan import FileScan

__all__ = ["check_files", "run_preflight_for_submit"]

log = logging.getLogger(__name__)

#: Compressed size from which a BGZF file is scanned by two processes, one per half.
PARALLEL_MIN_BYTES = 32 << 20
_FORKED: tuple[Options, PanelSites | None] | None = None  # what the forked workers inherit


def check_files(paths: Iterable[str | os.PathLike[str]], *, build: str = "auto", service: ServiceConfig | None = None,
                panel_sites: str | os.PathLike[str] | None = None, phasing: str | None = None,
                panel: ReferencePanel | None = None) -> PreflightReport:
    """Check VCF files as the imputation server would, before anything is uploaded.

    ``build`` is ``hg19``, ``hg38`` or ``auto`` (detected per file); ``service`` brings the sample and
    upload limits and the accepted builds; ``panel_sites`` (a VCF/VCF.gz of the panel's sites, or a
    tab-separated CHROM POS REF ALT file) adds the strand, allele-switch and overlap checks;
    ``phasing`` is the phasing option that will be submitted (``no_phasing`` needs phased data);
    ``panel`` (a cached panel entry) adds a note when its build differs from the data's.
    """
    if build not in ("auto", *BUILDS):
        raise UsageError(f"build must be hg19, hg38 or auto, got {build!r}")
    files = [Path(p) for p in paths]
    if not files:
        raise UsageError("no files to check: give one or more VCF files")
    sites = load_panel_sites(Path(panel_sites)) if panel_sites is not None else None
    options = Options(build=build, service=service, phasing=phasing, panel=panel)
    facts, reports = [], []
    for path in files:
        fact, report = _check_one(path, options, sites)
        facts.append(fact)
        reports.append(report)
    cross_file_checks(reports, facts, options)
    return PreflightReport(ok=all(r.ok for r in reports), files=reports)


def run_preflight_for_submit(files: Iterable[str | os.PathLike[str]], service: ServiceConfig, *, build: str | None,
                             phasing: str | None) -> PreflightReport:
    """The check ``submit`` runs first: the build defaults to hg19 as on the server."""
    return check_files(files, build=build or "hg19", service=service, phasing=phasing)


def _check_one(path: Path, options: Options, panel: PanelSites | None) -> tuple[FileFacts, FileReport]:
    try:
        facts = scan_file(path, options, panel)
        return facts, file_checks(facts, options)
    except Exception as exc:  # a last line of defence: a verdict, never a traceback
        log.debug("pre-flight check of %s failed", path, exc_info=True)
        report = FileReport(path=str(path))
        report.add("file", CheckStatus.FAIL, f"internal error while checking {path.name}: "
                   f"{type(exc).__name__}: {exc}", "Please report this with the file's first lines "
                   "(`zcat FILE | head -50`); `bcftools view FILE -Ov -o /dev/null` may name the problem.")
        return FileFacts(path=path), report


def scan_file(path: Path, options: Options, panel: PanelSites | None, *,
              scan_class: type[FileScan] = FileScan, parallel: bool = True) -> FileFacts:
    """One pass over ``path``: the header, then every record through :class:`FileScan` (or a subclass
    that keeps more, as the panel advisor's does: then in one process, ``parallel=False``)."""
    facts = FileFacts(path=path)
    try:
        facts.kind = sniff(path)
    except ReadError as exc:
        facts.kind = FileKind(None, 0, problem=str(exc))
        return facts
    if facts.kind.compression is None:
        return facts
    if parallel and _parallel(facts.kind) and _scan_parallel(facts, options, panel):
        return facts
    try:
        source = open_source(path, facts.kind)
    except (ReadError, OSError) as exc:
        facts.read_error = str(exc)
        return facts
    try:
        _read(source, facts, options, panel, scan_class)
    except ReadError as exc:
        facts.read_error = str(exc)
    finally:
        source.close()
    if facts.scan is None and facts.header.complete:
        facts.scan = scan_class(len(facts.header.samples), par_build=_par_build(facts, options, b""), panel=panel)
    return facts


def _read(source: Source, facts: FileFacts, options: Options, panel: PanelSites | None,
          scan_class: type[FileScan] = FileScan) -> None:
    header = facts.header
    first = True
    for buf, end in line_blocks(source):
        if first and bytes(buf[:4]) == b"BCF\x02":
            size = facts.kind.size if facts.kind else 0  # always sniffed before reading
            facts.kind = FileKind(None, size, problem="it is a BCF (binary VCF) file; convert it with "
                                  "`bcftools view FILE.bcf -Oz -o FILE.vcf.gz`")
            return
        first = False
        start = 0
        if facts.scan is None:
            start = _consume_header(buf, end, header)
            if start == end:
                continue
            line_end = buf.find(b"\n", start, end)
            tab = buf.find(b"\t", start, line_end)
            first_chrom = bytes(buf[start:tab]) if tab > start else b""
            n = len(header.samples) if header.complete else 0
            facts.scan = scan_class(n, par_build=_par_build(facts, options, first_chrom), panel=panel)
        facts.scan.scan_block(buf, start, end)


def _parallel(kind: FileKind) -> bool:
    """Two processes pay off for large BGZF files on a machine with two or more cores.

    Also on a busy machine: the scheduler shares the cores per process.  Only from a
    single-threaded process: workers are forked, and a fork taken while another thread holds a lock
    can hang the child, so a server with threads scans in one process instead.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return (kind.compression == "bgzf" and kind.size >= PARALLEL_MIN_BYTES and cpus >= 2
            and threading.active_count() == 1
            and os.environ.get("FEDIMPUTE_PREFLIGHT_WORKERS", "2") != "1"
            and os.environ.get("FEDIMPUTE_PREFLIGHT_READER", "") in ("", "libdeflate") and libdeflate() is not None
            and "fork" in multiprocessing.get_all_start_methods())


def _scan_parallel(facts: FileFacts, options: Options, panel: PanelSites | None) -> bool:
    """Scan the two halves of a BGZF file in two forked processes and merge; False to scan in one."""
    global _FORKED
    if facts.kind is None:  # sniffed by the caller: a file that could not be sniffed is not split
        return False
    header = _plain_header(facts.path)
    split = find_block_boundary(facts.path, facts.kind.size // 2)
    if header is None or not header.complete or split is None:
        return False
    n, par_build = len(header.samples), _par_build(FileFacts(path=facts.path, header=header), options, b"")
    _FORKED = (options, panel)
    try:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            first = pool.submit(_scan_part, facts.path, 0, split, None)
            second = pool.submit(_scan_part, facts.path, split, None, (n, par_build))
            (kind, head, scan, error), (_, _, rest, error2) = first.result(), second.result()
    except Exception:  # a broken pool, a killed worker: scan in this process instead
        log.debug("parallel pre-flight scan of %s failed; scanning in one process", facts.path, exc_info=True)
        return False
    finally:
        _FORKED = None
    facts.kind, facts.header, facts.read_error = kind, head, error or error2
    if scan is not None and rest is not None:
        scan = scan.merge(rest)
    if scan is not None:
        scan.panel = panel
    facts.scan = scan
    return True


def _scan_part(path: Path, start: int, stop: int | None,
               known: tuple[int, str] | None) -> tuple[FileKind | None, Header, FileScan | None, str | None]:
    """In a worker: scan one range of a BGZF file; the first range reads the header too."""
    assert _FORKED is not None  # set by _scan_parallel before the workers are forked
    options, panel = _FORKED
    facts = FileFacts(path=path, kind=sniff(path))
    source = ParallelBgzf(path, ReadError, threads=0, start=start, stop=stop)  # the other half has the other core
    try:
        if known is None:
            _read(source, facts, options, panel)
        else:
            facts.scan = FileScan(known[0], par_build=known[1], panel=panel)
            for i, (buf, end) in enumerate(line_blocks(source)):
                begin = buf.find(b"\n", 0, end) + 1 if i == 0 else 0  # the line the first range finishes
                facts.scan.scan_block(buf, begin, end)
    except ReadError as exc:
        facts.read_error = str(exc)
    finally:
        source.close()
    return facts.kind, facts.header, facts.scan.release() if facts.scan else None, facts.read_error


def _plain_header(path: Path) -> Header | None:
    """The header read with Python's gzip (small and quick; no threads before the fork)."""
    header = Header()
    try:
        with gzip.open(path, "rb") as fh:
            for line in fh:
                if not line.startswith(b"#"):
                    break
                header.add_line(line.rstrip(b"\n"))
                if header.complete:
                    break
    except (OSError, EOFError):
        return None
    return header


def _consume_header(buf: bytearray, end: int, header: Header) -> int:
    """Feed the ``#`` lines at the start of ``buf`` to ``header``; returns where the records start."""
    pos = 0
    while pos < end and buf[pos] == 35:  # '#'
        stop = buf.find(b"\n", pos, end)
        header.add_line(bytes(buf[pos:stop]))
        pos = stop + 1
        if header.complete:
            break
    if pos < end and not header.complete and buf[pos] != 35:
        header.problems.append("a record appears before the #CHROM header line")
        header.complete = False
    return pos if (header.complete or pos < end) else end


def _par_build(facts: FileFacts, options: Options, first_chrom: bytes) -> str:
    """The build whose chrX PAR bounds apply: given, else from the header, else from the naming."""
    if options.build in BUILDS:
        return options.build
    evidence = BuildEvidence()
    for contig, length in facts.header.contigs.items():
        for b, table in LENGTHS.items():
            if length and table.get(canonical(contig)) == length:
                evidence.contigs.setdefault(b, []).append(contig)
    evidence.reference = reference_build(facts.header.reference) if facts.header.reference else None
    evidence.prefixed = first_chrom.startswith(b"chr") if first_chrom else None
    return evidence.verdict()[0] or "hg19"


# -- across files -------------------------------------------------------------------------------


def cross_file_checks(reports: list[FileReport], facts: list[FileFacts], options: Options) -> None:
    """Same samples in every file, one file per chromosome, one build, and the upload size."""
    readable = [(r, f) for r, f in zip(reports, facts, strict=True) if f.header.complete]
    for i, (report, fact) in enumerate(readable[1:], start=1):
        first_report, first = readable[0]
        _same_samples(report, fact, first)
        _same_chromosome(report, readable[:i])
        if report.build and first_report.build and report.build != first_report.build:
            report.add("same_build", CheckStatus.FAIL, f"{fact.path.name} is {report.build} but "
                       f"{first.path.name} is {first_report.build}: one job has one build.",
                       "Lift one of them over, or submit them as separate jobs.")
    _upload_size(reports, facts, options)


def _same_samples(report: FileReport, fact: FileFacts, first: FileFacts) -> None:
    mine, theirs = fact.header.samples, first.header.samples
    if len(mine) != len(theirs):
        report.add("same_samples", CheckStatus.FAIL, "Please double check, if all uploaded VCF files include the "
                   f"same amount of samples ({len(mine):,} vs {len(theirs):,}): {fact.path.name} has {len(mine):,}, "
                   f"{first.path.name} has {len(theirs):,}.",
                   f"Keep the same samples in every file: `bcftools query -l {first.path.name} > samples.txt` and "
                   f"`bcftools view -S samples.txt {fact.path.name} -Oz -o OUT.vcf.gz`.")
    elif mine != theirs:
        k = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)
        same_set = set(mine) == set(theirs)
        report.add("same_samples", CheckStatus.WARN, f"the samples differ from {first.path.name}"
                   f"{' in order' if same_set else ''}: column {k + 10} is {mine[k]!r} here and {theirs[k]!r} there; "
                   "results of the chromosomes would not line up.",
                   f"Reorder with `bcftools view -S samples.txt {fact.path.name} -Oz -o OUT.vcf.gz`, where "
                   f"samples.txt is `bcftools query -l {first.path.name}`.")
    else:
        report.add("same_samples", CheckStatus.PASS, f"the same {len(mine):,} samples as {first.path.name}.")


def _same_chromosome(report: FileReport, earlier: list[tuple[FileReport, FileFacts]]) -> None:
    mine = {canonical(c) for c in report.chromosomes}
    for other, fact in earlier:
        shared = mine & {canonical(c) for c in other.chromosomes}
        if shared:
            chrom = sorted(shared)[0]
            report.add("one_file_per_chromosome", CheckStatus.FAIL, f"Only one file per chromosome allowed. "
                       f"Chromosome {chrom} found in files '{fact.path.name}' and '{Path(report.path).name}'.",
                       "Merge them first (`bcftools concat` for different regions, `bcftools merge` for different "
                       "samples), or submit them as separate jobs.")
            return


def _upload_size(reports: list[FileReport], facts: list[FileFacts], options: Options) -> None:
    service = options.service
    if service is None or not service.max_upload_mb or not reports:
        return
    total = sum(f.kind.size for f in facts if f.kind is not None)
    limit = service.max_upload_mb * 1_000_000
    status = CheckStatus.FAIL if total > limit else CheckStatus.PASS
    reports[-1].add("upload_size", status, f"the upload is {total / 1e6:,.1f} MB in {len(reports)} file(s); "
                    f"service {service.name} takes at most {service.max_upload_mb:,} MB per job.",
                    None if status is CheckStatus.PASS else "Submit the chromosomes in several jobs, or shrink the "
                    "files: `bcftools annotate -x INFO,^FORMAT/GT FILE -Oz -o OUT.vcf.gz` keeps only genotypes.")
