"""The local engine's panel registry: ``FEDIMPUTE_HOME/panels/<panel_id>/`` with a manifest.

Adding a panel indexes it, builds the minimac4 ``.msav``, counts samples and variants,
keeps an optional genetic map (written in the beagle, eagle and minimac4 layouts) and
FASTA (for allele alignment), and writes ``manifest.json``.  The ``local`` service lists
these panels, and a run of the workflow receives their files as ``file://`` inputs.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from fedimpute.engine.simulate import write_maps
from fedimpute.engine.tools import require_tools
from fedimpute.exceptions import UsageError
from fedimpute.models import Population, ReferencePanel, utcnow
from fedimpute.paths import home_dir

__all__ = ["add_panel", "panel_workflow_params", "panels_dir", "read_manifest", "registry_panels"]

_FILE_PARAMS = ("panel_vcf", "panel_sites", "panel_msav", "map_eagle", "map_plink", "map_minimac", "fasta")


def panels_dir(home: Path | None = None) -> Path:
    return home_dir(home) / "panels"


def _run(*cmd: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise UsageError(f"`{' '.join(cmd[:3])} ...` failed: {proc.stderr.strip()[-400:]}")
    return proc.stdout


def _fasta_index(path: Path) -> None:
    """Write ``path.fai`` (samtools layout) for a plain FASTA with fixed-width lines."""
    entries, name, length, offset, width, line_bytes = [], None, 0, 0, 0, 0
    pos = 0
    with path.open("rb") as fh:
        for line in fh:
            if line.startswith(b">"):
                if name:
                    entries.append(f"{name}\t{length}\t{offset}\t{width}\t{line_bytes}")
                name, length, offset, width, line_bytes = line[1:].split()[0].decode(), 0, pos + len(line), 0, 0
            elif line.strip():
                if not width:
                    width, line_bytes = len(line.rstrip(b"\r\n")), len(line)
                length += len(line.rstrip(b"\r\n"))
            pos += len(line)
    if name:
        entries.append(f"{name}\t{length}\t{offset}\t{width}\t{line_bytes}")
    path.with_name(path.name + ".fai").write_text("\n".join(entries) + "\n")


def _copy_fasta(src: Path, dest: Path) -> Path:
    opener = gzip.open if src.suffix == ".gz" else open
    with opener(src, "rb") as fin, dest.open("wb") as fout:
        shutil.copyfileobj(fin, fout, 1024 * 1024)
    _fasta_index(dest)
    return dest


def _copy_maps(plink_map: Path, folder: Path, chrom: str) -> dict[str, Path]:
    rows = [line.split() for line in plink_map.read_text().splitlines() if line.strip()]
    positions = np.array([int(r[3]) for r in rows], dtype=np.int64)
    cm = np.array([float(r[2]) for r in rows])
    return write_maps(folder, chrom, positions, cm)


def header_build(vcf: Path) -> str | None:
    """The build a panel's header names: its ``##reference`` line, else its ``##contig`` lengths
    (only where exactly one build matches); None when the header does not say."""
    from fedimpute.preflight.build import BUILDS, LENGTHS, canonical, reference_build

    header = _run("bcftools", "view", "-h", str(vcf)).splitlines()
    for line in header:
        if line.startswith(("##reference=", "##assembly=")) and (build := reference_build(line)):
            return build
    matches: set[str] = set()
    for line in header:
        if m := re.match(r"##contig=<ID=([^,>]+),.*length=(\d+)", line):
            matches |= {b for b in BUILDS if LENGTHS[b].get(canonical(m[1])) == int(m[2])}
    return matches.pop() if len(matches) == 1 else None


def add_panel(vcf: Path, *, panel_id: str, name: str | None = None, build: str | None = None,
              populations: list[str] | None = None, genetic_map: Path | None = None, fasta: Path | None = None,
              home: Path | None = None, replace: bool = False) -> dict[str, Any]:
    """Register a phased panel VCF; return its manifest."""
    require_tools("bcftools", "tabix", "minimac4")
    if not vcf.is_file():
        raise UsageError(f"panel file {vcf} does not exist")
    if build is None:
        build = header_build(vcf)
        if build is None:
            raise UsageError(f"the header of {vcf} names no genome build (no ##reference line or ##contig lengths); "
                             "give it with --build hg19 or --build hg38")
    if build not in ("hg19", "hg38"):
        raise UsageError(f"--build must be hg19 or hg38, got {build!r}")
    name = name or panel_id
    folder = panels_dir(home) / panel_id
    if folder.exists() and not replace:
        raise UsageError(f"a panel with id {panel_id!r} exists; choose another id or pass --replace")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    panel_vcf = folder / "panel.vcf.gz"
    _run("bcftools", "view", "--no-version", "-Oz", "-o", str(panel_vcf), str(vcf))
    _run("tabix", "-f", "-p", "vcf", str(panel_vcf))
    _run("bcftools", "view", "--no-version", "-G", "-Oz", "-o", str(folder / "panel.sites.vcf.gz"), str(panel_vcf))
    _run("tabix", "-f", "-p", "vcf", str(folder / "panel.sites.vcf.gz"))
    _run("minimac4", "--compress-reference", str(panel_vcf), "-o", str(folder / "panel.msav"))
    samples = len(_run("bcftools", "query", "-l", str(panel_vcf)).split())
    variants = sum(int(line.split("\t")[-1]) for line in _run("bcftools", "index", "-s", str(panel_vcf)).splitlines()
                   if line.strip())
    chroms = [c for c in _run("tabix", "-l", str(panel_vcf)).split() if c]
    files: dict[str, str] = {"panel_vcf": "panel.vcf.gz", "panel_sites": "panel.sites.vcf.gz",
                             "panel_msav": "panel.msav"}
    if genetic_map is not None:
        maps = _copy_maps(genetic_map, folder, chroms[0] if chroms else "chr20")
        files |= {"map_plink": maps["plink"].name, "map_eagle": maps["eagle"].name,
                  "map_minimac": maps["minimac"].name}
    if fasta is not None:
        files["fasta"] = _copy_fasta(fasta, folder / "reference.fa").name
    manifest = {"panel_id": panel_id, "name": name, "build": build, "populations": populations or ["off"],
                "samples": samples, "variants": variants, "chromosomes": chroms, "files": files,
                "added_at": utcnow().isoformat()}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def read_manifest(panel_id: str, home: Path | None = None) -> dict[str, Any]:
    path = panels_dir(home) / panel_id / "manifest.json"
    if not path.is_file():
        known = ", ".join(m["panel_id"] for m in _manifests(home)) or "none yet"
        raise UsageError(f"unknown local panel {panel_id!r} (known: {known}); add one with "
                         "`fedimpute engine add-panel VCF --id ID ...`")
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def _manifests(home: Path | None = None) -> list[dict[str, Any]]:
    root = panels_dir(home)
    return [json.loads(p.read_text()) for p in sorted(root.glob("*/manifest.json"))] if root.is_dir() else []


def registry_panels(service: str, home: Path | None = None) -> list[ReferencePanel]:
    return [ReferencePanel(service=service, panel_id=m["panel_id"], name=m["name"], build=m["build"],
                           populations=[Population(id=p, label=p) for p in m["populations"]],
                           samples=m["samples"], variants=m["variants"]) for m in _manifests(home)]


def panel_workflow_params(panel_id: str, home: Path | None = None) -> dict[str, Any]:
    """The workflow inputs for a registered panel: its files as absolute ``file://`` locations."""
    manifest = read_manifest(panel_id, home)
    folder = panels_dir(home) / panel_id
    return {key: {"class": "File", "location": (folder / name).resolve().as_uri()}
            for key, name in manifest["files"].items() if key in _FILE_PARAMS}
