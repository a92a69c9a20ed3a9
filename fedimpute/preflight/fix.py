"""Writing corrected copies of input files: the mechanical fixes the server's errors ask for.

``fix_files`` never edits an input.  For each file it runs the pre-flight check, then only the
steps that file needs, with the standard tools: rename chromosomes to the build's convention
(``bcftools annotate --rename-chrs``), sort (``bcftools sort``), compress with ``bgzip``, index
with ``tabix`` and split by chromosome (``bcftools view -r``).  Each step is returned as a
:class:`FixAction` that says what changed and the command that did it, so the user can repeat it.
Problems that need a decision (strand, samples, ploidy) are left to the user, as the check says.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from fedimpute.exceptions import FedImputeError, UsageError
from fedimpute.preflight.build import BUILDS, expected_name, is_valid_chromosome
from fedimpute.preflight.report import FileReport
from fedimpute.preflight.runner import check_files

__all__ = ["FixAction", "MissingToolError", "fix_files", "require_tools"]

#: tool -> (Debian package, conda package)
TOOLS = {"bcftools": ("bcftools", "bioconda::bcftools"), "bgzip": ("tabix", "bioconda::htslib"),
         "tabix": ("tabix", "bioconda::htslib")}


class MissingToolError(FedImputeError):
    """A command-line tool the fix needs is not on PATH; the message says how to install it."""


class FixAction(BaseModel):
    """One step taken on one input: ``output`` is the file written (None for a skipped input)."""

    model_config = ConfigDict(extra="forbid")

    source: str
    step: str  # rename, sort, compress, write, copy, index, split, skip
    detail: str
    output: str | None = None
    command: str | None = None


def require_tools(*names: str) -> dict[str, str]:
    """Paths of the named tools; raises MissingToolError naming the Debian and conda packages."""
    found, missing = {}, []
    for name in names:
        path = shutil.which(name)
        if path is None:
            missing.append(name)
        else:
            found[name] = path
    if missing:
        debian = sorted({TOOLS.get(m, (m, m))[0] for m in missing})
        conda = sorted({TOOLS.get(m, (m, m))[1] for m in missing})
        raise MissingToolError(f"{', '.join(missing)} not found on PATH: install with `apt-get install "
                               f"{' '.join(debian)}` (Debian/Ubuntu) or `conda install {' '.join(conda)}`")
    return found


def fix_files(paths: Iterable[str | os.PathLike[str]], out_dir: str | os.PathLike[str], *,
              build: str = "auto") -> list[FixAction]:
    """Write fixed copies of ``paths`` into ``out_dir`` and say what was changed, step by step."""
    if build not in ("auto", *BUILDS):
        raise UsageError(f"build must be hg19, hg38 or auto, got {build!r}")
    tools = require_tools("bcftools", "bgzip", "tabix")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    actions: list[FixAction] = []
    for path in map(Path, paths):
        report = check_files([path], build=build).files[0]
        actions.extend(_fix_one(path, report, out, tools))
    return actions


def _fix_one(path: Path, report: FileReport, out: Path, tools: dict[str, str]) -> list[FixAction]:
    fatal = [r for c in ("file", "integrity", "header", "records") if (r := report.check(c)) and r.failed]
    if fatal:
        reason = fatal[0].message
        return [FixAction(source=str(path), step="skip", detail=f"not fixed: {reason}")]
    actions: list[FixAction] = []
    stem = _stem(path)
    with tempfile.TemporaryDirectory(dir=out, prefix=".fix-") as tmp:
        current = path
        rename = _rename_map(report)
        if rename:
            current = _rename(current, rename, Path(tmp), tools, actions, path)
        sorted_check = report.check("sorted")
        if sorted_check is not None and sorted_check.failed:
            current = _run_step(actions, path, "sort", "sorted the records by position",
                                [tools["bcftools"], "sort", "-T", tmp, "-Oz", "-o", str(Path(tmp) / "sorted.vcf.gz"),
                                 str(current)], Path(tmp) / "sorted.vcf.gz")
        target = out / f"{stem}.vcf.gz"
        current = _compress(current, path, target, report, tools, actions)
        _run_step(actions, path, "index", f"indexed {target.name} with tabix",
                  [tools["tabix"], "-f", "-p", "vcf", str(target)], target)
        if len(report.chromosomes) > 1:
            actions.extend(_split(target, report.chromosomes, out, stem, tools, path))
    return actions


def _rename_map(report: FileReport) -> dict[str, str]:
    if report.build not in BUILDS:
        return {}
    return {c: expected_name(c, report.build) for c in report.chromosomes
            if is_valid_chromosome(c) and c != expected_name(c, report.build)}


def _rename(current: Path, mapping: dict[str, str], tmp: Path, tools: dict[str, str], actions: list[FixAction],
            source: Path) -> Path:
    table = tmp / "rename.txt"
    table.write_text("".join(f"{old}\t{new}\n" for old, new in mapping.items()))
    contigs = tmp / "contigs.txt"  # bcftools refuses records whose contig the header does not declare
    contigs.write_text("".join(f"##contig=<ID={old}>\n" for old in mapping))
    target = tmp / "renamed.vcf.gz"
    change = ", ".join(f"{old} -> {new}" for old, new in mapping.items())
    return _run_step(actions, source, "rename", f"renamed chromosomes ({change})",
                     [tools["bcftools"], "annotate", "-h", str(contigs), "--rename-chrs", str(table), "-Oz", "-o",
                      str(target), str(current)], target)


def _compress(current: Path, source: Path, target: Path, report: FileReport, tools: dict[str, str],
              actions: list[FixAction]) -> Path:
    """The file written by an earlier step is BGZF already; otherwise bgzip it (or copy a good one)."""
    if current != source:
        shutil.move(current, target)
        actions.append(FixAction(source=str(source), step="write", detail=f"wrote {target.name}", output=str(target)))
        return target
    compression = report.check("compression")
    if compression is not None and not compression.failed:
        shutil.copyfile(source, target)
        actions.append(FixAction(source=str(source), step="copy", detail="already bgzip-compressed; copied",
                                 output=str(target)))
        return target
    decompress = "gzip" if _is_gzip(source) else None
    with target.open("wb") as sink:
        if decompress:
            reader = subprocess.Popen([tools["bgzip"], "-dc", str(source)], stdout=subprocess.PIPE)
            proc = subprocess.run([tools["bgzip"], "-c"], stdin=reader.stdout, stdout=sink, stderr=subprocess.PIPE,
                                  check=False)
            if reader.stdout is not None:  # always: it is a pipe
                reader.stdout.close()
            reader.wait()
            command = f"bgzip -dc {shlex.quote(str(source))} | bgzip -c > {shlex.quote(str(target))}"
            detail = "recompressed from plain gzip to bgzip (BGZF)"
        else:
            proc = subprocess.run([tools["bgzip"], "-c", str(source)], stdout=sink, stderr=subprocess.PIPE, check=False)
            command = f"bgzip -c {shlex.quote(str(source))} > {shlex.quote(str(target))}"
            detail = "compressed with bgzip (BGZF)"
    if proc.returncode:
        raise FedImputeError(f"bgzip failed on {source}: {proc.stderr.decode(errors='replace').strip()}")
    actions.append(FixAction(source=str(source), step="compress", detail=detail, output=str(target), command=command))
    return target


def _split(target: Path, chromosomes: list[str], out: Path, stem: str, tools: dict[str, str],
           source: Path) -> list[FixAction]:
    actions: list[FixAction] = []
    for chrom in chromosomes:
        part = out / f"{stem}.{chrom}.vcf.gz"
        _run_step(actions, source, "split", f"wrote chromosome {chrom} to {part.name}",
                  [tools["bcftools"], "view", "-r", chrom, "-Oz", "-o", str(part), str(target)], part)
        subprocess.run([tools["tabix"], "-f", "-p", "vcf", str(part)], check=True, capture_output=True)
    target.unlink()
    Path(f"{target}.tbi").unlink(missing_ok=True)
    actions.append(FixAction(source=str(source), step="split", detail=f"removed the combined {target.name}; "
                             f"one file per chromosome instead ({len(chromosomes)} files)"))
    return actions


def _run_step(actions: list[FixAction], source: Path, step: str, detail: str, argv: list[str], output: Path) -> Path:
    proc = subprocess.run(argv, capture_output=True, check=False)
    if proc.returncode:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise FedImputeError(f"{step} of {source} failed ({Path(argv[0]).name} exit {proc.returncode}): "
                             f"{message[-1] if message else 'no message'}")
    shown = [Path(argv[0]).name, *argv[1:]]
    actions.append(FixAction(source=str(source), step=step, detail=detail, output=str(output),
                             command=shlex.join(shown)))
    return output


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".vcf.gz", ".vcf.bgz", ".vcf", ".gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
