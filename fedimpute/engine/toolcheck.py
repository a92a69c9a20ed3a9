"""Is each command-line tool the engine runs the program, and the version, the workflow was tested with?

``shutil.which`` only says that *something* of the right name is on ``PATH``. That is not enough:
bioconda's package ``eagle`` is an unrelated web tool (versions 0.9.x) whose command is also called
``eagle``, and a beagle or minimac4 of another major/minor release changes options and output. So
before the engine is launched, each tool is found the way the workflow finds it, asked once for its
banner (with a timeout), and its identity and version compared with the tested ones. Anything else
is one clear error naming the tool, what was found, what is expected and how to install the right one.

The versions found are returned (``{tool: version}``) so that a run's provenance can name them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from fedimpute.exceptions import FedImputeError

__all__ = ["ALLOW_UNTESTED_ENV", "SPECS", "ToolCheckError", "ToolReport", "ToolSpec", "check_tools",
           "inspect_tool", "inspect_tools"]

log = logging.getLogger(__name__)

#: Set to 1 to run tools of an untested version anyway (a wrong or missing program still fails).
ALLOW_UNTESTED_ENV = "FEDIMPUTE_ALLOW_UNTESTED_TOOLS"
#: Banners are short; anything longer is not read further (a runaway program cannot fill memory).
_MAX_OUTPUT = 64 * 1024


@dataclass(frozen=True)
class ToolSpec:
    """What the workflow expects of one tool, and how to ask the tool who it is."""

    tool: str
    commands: tuple[str, ...]       # names looked up on PATH, in the workflow's order
    args: tuple[str, ...]           # arguments that make it print its banner and exit
    banner: re.Pattern[str]         # identity; groups: major, minor, then optional extra parts
    expected: str                   # the tested version, for people
    tested: tuple[int, int] | None  # exact major.minor tested, or
    minimum: tuple[int, int] | None  # the oldest accepted release of the same major
    debian: str                     # `apt-get install` package
    conda: str                      # bioconda/conda-forge spec, as environment.yml pins it
    clash: str = ""                 # another program known to use the same command name
    author: str = ""                # text the real program's banner always has (its author)

    def accepts(self, major: int, minor: int) -> bool:
        if self.tested is not None:
            return (major, minor) == self.tested
        assert self.minimum is not None
        return major == self.minimum[0] and minor >= self.minimum[1]

    def fix(self) -> str:
        return (f"install it with `apt-get install {self.debian}` (Debian/Ubuntu, as root) or "
                f"`conda install -c conda-forge -c bioconda '{self.conda}'` (or use environment.yml)")


def _htslib_tool(name: str) -> ToolSpec:
    return ToolSpec(name, (name,), ("--version",), re.compile(rf"^{name} \(htslib\) (\d+)\.(\d+)", re.M),
                    f"{name} 1.10 or newer (htslib 1.x)", None, (1, 10), "tabix", "htslib>=1.10,<2")


#: The tools of fedimpute/engine/workflow, with the versions it was tested with (Debian 12's).
SPECS: dict[str, ToolSpec] = {s.tool: s for s in (
    # The workflow runs `bio-eagle` (Debian's name) when present, else `eagle`; so does this check.
    ToolSpec("eagle", ("bio-eagle", "eagle"), ("--help",), re.compile(r"\bEagle v(\d+)\.(\d+)(?:\.(\d+))?"),
             "Eagle v2.4.x (Po-Ru Loh's haplotype phasing)", (2, 4), None, "bio-eagle", "eagle2=2.4",
             "bioconda's package `eagle` is an unrelated web tool (0.9.x) with the same command name: "
             "`conda remove eagle` first", author="Po-Ru Loh"),
    # Beagle prints its banner when run without arguments: "beagle.22Jul22.46e.jar (version 5.4)".
    ToolSpec("beagle", ("beagle",), (), re.compile(r"\bbeagle\.([\w.]+?)\.jar \(version (\d+)\.(\d+)\)"),
             "beagle 5.4 (Browning)", (5, 4), None, "beagle", "beagle=5.4", author="Browning"),
    ToolSpec("minimac4", ("minimac4",), ("--version",),
             re.compile(r"^minimac v(\d+)\.(\d+)(?:\.(\d+))?", re.M),
             "minimac4 4.1.x", (4, 1), None, "minimac4", "minimac4=4.1"),
    ToolSpec("bcftools", ("bcftools",), ("--version",), re.compile(r"^bcftools (\d+)\.(\d+)", re.M),
             "bcftools 1.10 or newer (1.x)", None, (1, 10), "bcftools", "bcftools>=1.10,<2"),
    _htslib_tool("tabix"),
    _htslib_tool("bgzip"),
)}


@dataclass(frozen=True)
class ToolReport:
    """What one tool turned out to be. ``problem`` is None when it is the tested program and version."""

    tool: str
    path: str | None
    version: str | None
    problem: str | None = None
    untested_version: bool = False
    other_program: bool = False

    def describe(self) -> str:
        spec = SPECS[self.tool]
        clash = f"; {spec.clash}" if self.other_program and spec.clash else ""
        return f"{self.tool}: {self.problem}; expected {spec.expected}; {spec.fix()}{clash}"


class ToolCheckError(FedImputeError):
    """A tool the engine runs is missing, a different program, or an untested version."""

    def __init__(self, reports: list[ToolReport]) -> None:
        self.reports = reports
        body = " | ".join(r.describe() for r in reports)
        hint = (f" (to run an untested version anyway, set {ALLOW_UNTESTED_ENV}=1)"
                if all(r.untested_version for r in reports) else "")
        super().__init__(f"the local engine cannot start: {body}{hint}")


def _run_banner(path: str, args: tuple[str, ...], timeout: float) -> tuple[str | None, str]:
    """Run ``path args`` once; return (output, "") or (None, why it failed).

    The tool runs in its own session so that a timeout ends every process it started (a wrapper
    script's java, say), not only the first one, and so no grandchild keeps the pipe open.
    """
    try:
        proc = subprocess.Popen([path, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        return None, f"{path} could not be run ({exc.strerror or exc})"
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return None, f"{path} {' '.join(args)} did not finish within {timeout:g} s"
    return output[:_MAX_OUTPUT].decode("utf-8", "replace"), ""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _first_line(output: str) -> str:
    """The first non-blank line, shortened: enough for a person to recognise the program."""
    for line in output.splitlines():
        text = " ".join(line.split()).strip("|+-= ")
        if text:
            return text if len(text) <= 100 else text[:97] + "..."
    return "nothing"


def _version(spec: ToolSpec, match: re.Match[str]) -> tuple[int, int, str]:
    """(major, minor, version text) from a banner match; beagle also carries its build name."""
    if spec.tool == "beagle":
        build, major, minor = match.group(1), match.group(2), match.group(3)
        return int(major), int(minor), f"{major}.{minor} ({build})"
    parts = [g for g in match.groups() if g is not None]
    return int(parts[0]), int(parts[1]), ".".join(parts)


def inspect_tool(spec: ToolSpec, path: str | None = None, timeout: float = 30) -> ToolReport:
    """Find ``spec``'s tool on ``path`` (default: ``PATH``), ask its banner, judge it. Never raises."""
    found = next((p for p in (shutil.which(c, path=path) for c in spec.commands) if p), None)
    if found is None:
        looked = " or ".join(spec.commands)
        return ToolReport(spec.tool, None, None, f"not found on PATH (looked for {looked})")
    output, failure = _run_banner(found, spec.args, timeout)
    if output is None:
        return ToolReport(spec.tool, found, None, failure)
    match = spec.banner.search(output)
    if match is None or spec.author not in output:
        return ToolReport(spec.tool, found, None, f"{found} is a different program (it printed: "
                                                  f"{_first_line(output)!r})", other_program=True)
    major, minor, version = _version(spec, match)
    if not spec.accepts(major, minor):
        return ToolReport(spec.tool, found, version, f"{found} is version {version}, which the workflow was "
                                                     "not tested with", untested_version=True)
    return ToolReport(spec.tool, found, version)


def inspect_tools(tools: Iterable[str] | None = None, path: str | None = None,
                  timeout: float = 30) -> list[ToolReport]:
    """One report per tool (default: every tool the workflow uses), in ``SPECS`` order."""
    names = list(SPECS) if tools is None else list(tools)
    unknown = [t for t in names if t not in SPECS]
    if unknown:
        raise ValueError(f"unknown tool(s) {unknown}; known: {', '.join(SPECS)}")
    return [inspect_tool(SPECS[t], path=path, timeout=timeout) for t in names]


def _allow_untested() -> bool:
    return os.environ.get(ALLOW_UNTESTED_ENV, "").strip().lower() in {"1", "true", "yes"}


def check_tools(tools: Iterable[str] | None = None, path: str | None = None,
                timeout: float = 30) -> dict[str, str]:
    """Check the engine's tools; return ``{tool: version}`` or raise :class:`ToolCheckError`.

    With ``FEDIMPUTE_ALLOW_UNTESTED_TOOLS=1`` an untested version is logged as a warning instead;
    a missing tool, or a different program under the tool's name, always fails.
    """
    reports = inspect_tools(tools, path=path, timeout=timeout)
    allow = _allow_untested()
    bad = [r for r in reports if r.problem and not (allow and r.untested_version)]
    if bad:
        raise ToolCheckError(bad)
    for r in reports:
        if r.problem:
            log.warning("%s (allowed by %s)", r.describe(), ALLOW_UNTESTED_ENV)
    return {r.tool: r.version for r in reports if r.version is not None}
