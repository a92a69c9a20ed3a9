"""Which tools (and versions) made a job's results, from what the run or the service left behind.

Sources, best first:

* ``tool-versions.json`` among the job's downloaded results: the local engine's workflow writes it
  for every run (the versions of that run);
* for a job of the local engine without that file: the engine's state
  (``FEDIMPUTE_HOME/engine/engine.json``, the versions its tool check found when it started);
* the service's own words: step messages (Cloudgene: "Eagle v2.4: 1 chunk(s) phased", "Minimac4:
  ..."), its QC report and the ``##source=``/``##...Version=`` header lines of downloaded VCFs.

Only what a source names is recorded; a tool named without a version keeps ``version`` None.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedimpute.models import Job, ResultFile, StepMessage

__all__ = ["TOOL_VERSIONS_FILE", "ToolVersion", "job_tools", "tools_in_text", "version_in"]

log = logging.getLogger(__name__)

TOOL_VERSIONS_FILE = "tool-versions.json"
_HEADER_BYTES = 256 * 1024  # VCF header lines are read up to here, never the records
_MAX_VCFS = 8
_VERSION = r"v?(\d+(?:\.\d+)+[\w.+-]*)"
_BARE_VERSION = re.compile(r"(?<![\w.])v?(\d+(?:\.\d+)+[\w.+-]*)")
#: Tool names as services write them, and the canonical name fedimpute records.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("minimac4", re.compile(r"\bminimac4?(?:[ .:_-]+(?:version[ :]*)?" + _VERSION + r")?", re.I)),
    ("eagle", re.compile(r"\beagle(?:[ .:_-]+" + _VERSION + r")?", re.I)),
    ("beagle", re.compile(r"\bbeagle(?:[ .:_-]+" + _VERSION + r"|\.[\w.]+\.jar \(version (\d+\.\d+)\))?", re.I)),
    ("bcftools", re.compile(r"\bbcftools(?:[ _]?\w*?Version=|[ /-]+)?" + r"(\d+\.\d+[\w.+-]*)?", re.I)),
)


@dataclass(frozen=True)
class ToolVersion:
    """One tool that worked on the job; ``source`` says who named it (for a reader to weigh)."""

    name: str
    version: str | None
    source: str
    said: str | None = None  # the source's own words, when they were more than a version


def tools_in_text(text: str) -> dict[str, str | None]:
    """``{tool: version or None}`` for every known tool ``text`` names (the highest-detail mention wins)."""
    found: dict[str, str | None] = {}
    for name, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            version = next((g for g in match.groups() if g), None)
            if version is not None or name not in found:
                found[name] = version.rstrip(".,;:") if version else found.get(name)
    return found


def version_in(name: str, said: str) -> str | None:
    """The version number in a tool's own version line (``Eagle v2.4.1``, ``beagle.22Jul22.46e.jar
    (version 5.4)``, ``tabix (htslib) 1.16``)."""
    known = tools_in_text(said).get(name)
    if known:
        return known
    match = _BARE_VERSION.search(said)
    return match[1] if match else None


def _from_json(data: Any) -> dict[str, str | None]:
    """Read ``tool-versions.json`` liberally: ``{tool: version line}``, ``{tool: {version: ..}}``,
    ``{"tools": ...}`` or a list of ``{tool|name, version}``; null for a tool that is not there."""
    if isinstance(data, dict) and isinstance(data.get("tools"), dict | list):
        data = data["tools"]
    items: Iterable[tuple[Any, Any]]
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = [(d.get("tool") or d.get("name"), d) for d in data if isinstance(d, dict)]
    else:
        return {}
    out: dict[str, str | None] = {}
    for name, value in items:
        version = value.get("version") if isinstance(value, dict) else value
        if name:
            out[str(name)] = None if version in (None, "") else str(version)
    return out


def _downloaded(results: list[ResultFile]) -> list[Path]:
    """The job's downloaded files and what was extracted next to them (archives unpack in place)."""
    folders = {Path(r.path).parent for r in results if r.path}
    files = {Path(r.path) for r in results if r.path}
    for folder in folders:
        if folder.is_dir():
            files.update(p for p in folder.rglob("*")
                         if p.is_file() and "provenance" not in p.relative_to(folder).parts)
    return sorted(p for p in files if p.is_file())


def _run_file(files: list[Path]) -> list[ToolVersion]:
    for path in files:
        if path.name == TOOL_VERSIONS_FILE:
            try:
                tools = _from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                log.warning("%s is not readable JSON (%s); tool versions come from other sources", path, exc)
                continue
            return [ToolVersion(n, version_in(n, said) if said else None, f"{TOOL_VERSIONS_FILE} of the run", said)
                    for n, said in sorted(tools.items()) if said]
    return []


def _engine_state(home: Path) -> list[ToolVersion]:
    path = home / "engine" / "engine.json"
    try:
        tools = _from_json(json.loads(path.read_text()).get("tools") or {})
    except (OSError, ValueError, AttributeError):
        return []
    return [ToolVersion(n, version_in(n, v) if v else None, "local engine state (tool check at engine start)", v)
            for n, v in sorted(tools.items())]


def _vcf_header(path: Path) -> str:
    """The ``##`` header lines of a (b)gzipped VCF, at most :data:`_HEADER_BYTES` decompressed."""
    lines = []
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            size = 0
            for line in fh:
                if not line.startswith("##") or size > _HEADER_BYTES:
                    break
                size += len(line)
                lines.append(line)
    except (OSError, EOFError, zlib.error) as exc:
        log.debug("no header read from %s: %s", path, exc)
    return "".join(line for line in lines if re.match(r"##(source|\w*[Vv]ersion)", line))


def _service_words(steps: list[StepMessage], files: list[Path]) -> dict[str, dict[str, str | None]]:
    texts: dict[str, list[str]] = {"service step messages": [m.text for m in steps]}
    for path in files:
        if path.name.endswith(("qc_report.txt", "qcreport.txt")) and path.stat().st_size < 1 << 20:
            texts.setdefault("service QC report", []).append(path.read_text(encoding="utf-8", errors="replace"))
    vcfs = [p for p in files if p.name.endswith((".vcf.gz", ".info.gz"))][:_MAX_VCFS]
    texts["result VCF headers"] = [_vcf_header(p) for p in vcfs]
    return {source: tools_in_text("\n".join(parts)) for source, parts in texts.items()}


def job_tools(job: Job, protocol: str | None, steps: list[StepMessage], results: list[ResultFile],
              home: Path) -> list[ToolVersion]:
    """The tools of ``job``, each once, with the best-sourced version (see the module's docstring)."""
    files = _downloaded(results)
    run = _run_file(files)
    if run:
        return run
    if protocol == "local":
        state = _engine_state(home)
        if state:
            return state
    merged: dict[str, ToolVersion] = {}
    for source, tools in _service_words(steps, files).items():
        for name, version in tools.items():
            known = merged.get(name)
            if known is None or (known.version is None and version is not None):
                merged[name] = ToolVersion(name, version, source)
    return [merged[n] for n in sorted(merged)]
