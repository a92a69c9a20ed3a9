"""The input facts of a job, taken when the job is recorded (before anything is uploaded).

A provenance record must describe the file that was sent.  Read later, the path may hold another
file or nothing, so name, size, SHA-256 and what the pre-flight check read in it (chromosomes,
samples, variants, build, verdict) are taken here, once, and stored with the job
(:class:`~fedimpute.store.inputs.JobInput`).  The counts come from the pre-flight report the
submission already has; only a submission that skipped the check (``--skip-check``) pays for a scan,
and its verdict says ``not checked``.  A fan-out records the same files for every service: a file
unchanged since it was last read here (same size, inode, modification and change times) is not read
again.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from fedimpute.preflight import CheckStatus, FileReport, PreflightReport, check_files
from fedimpute.store.inputs import JobInput

__all__ = ["NOT_CHECKED", "input_facts", "sha256_file"]

_K = TypeVar("_K")
_T = TypeVar("_T")

#: The verdict of a file whose submission skipped the pre-flight check.
NOT_CHECKED = "not checked"
_BLOCK = 1 << 20  # 1 MiB: the hash streams, whatever the file's size
_MAX_CACHED = 256
_Key = tuple[str, int, int, int, int]
_hashes: dict[_Key, str] = {}
_scans: dict[tuple[_Key, str], FileReport] = {}  # by file and build option
_lock = threading.Lock()


def sha256_file(path: Path) -> str:
    """The SHA-256 of ``path``, read in 1 MiB blocks (never the whole file in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _key(path: Path) -> _Key:
    """Who a file is now: a file written since (another size, inode, modification or change time, the
    last of which no program can set back) is read again."""
    info = path.stat()
    return str(path), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino


def _remember(cache: dict[_K, _T], key: _K, value: _T) -> _T:
    with _lock:
        if len(cache) >= _MAX_CACHED:
            cache.clear()
        cache[key] = value
    return value


def _digest(path: Path) -> str:
    key = _key(path)
    with _lock:
        hit = _hashes.get(key)
    return hit if hit is not None else _remember(_hashes, key, sha256_file(path))


def _scanned(paths: list[Path], build: str | None) -> dict[Path, FileReport]:
    """Chromosomes and counts of files no pre-flight report covers (one scan per unchanged file and build)."""
    option = build if build in ("hg19", "hg38") else "auto"
    with _lock:
        found = {p: _scans[k] for p in paths if (k := (_key(p), option)) in _scans}
    todo = [p for p in paths if p not in found]
    if todo:
        report = check_files(todo, build=option)
        for path, file_report in zip(todo, report.files, strict=True):
            found[path] = _remember(_scans, (_key(path), option), file_report)
    return found


def _worst(reports: list[FileReport]) -> str:
    statuses = {c.status for r in reports for c in r.checks}
    for status in (CheckStatus.FAIL, CheckStatus.WARN):
        if status in statuses:
            return status.value
    return CheckStatus.PASS.value


def _not_passed(reports: list[FileReport]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    for report in reports:
        for c in report.checks:
            if c.status is not CheckStatus.PASS:
                seen.setdefault((c.id, c.status.value, c.message), {"id": c.id, "status": c.status.value,
                                                                    "message": c.message})
    return list(seen.values())


def input_facts(job_id: str, files: Sequence[Path], reports: Sequence[PreflightReport] = (), *,
                build: str | None = None) -> list[JobInput]:
    """The facts of ``files`` for ``job_id``: from ``reports`` (the pre-flight reports of this
    submission, one per service) where they cover a file, else from a scan (verdict ``not checked``)."""
    from fedimpute import __version__  # at call time: this module loads while the package still does

    paths = [Path(f).resolve() for f in files]
    by_path: dict[Path, list[FileReport]] = {}
    for report in reports:
        for file_report in report.files:
            by_path.setdefault(Path(file_report.path).resolve(), []).append(file_report)
    scans = _scanned([p for p in paths if p not in by_path], build)
    facts = []
    for position, path in enumerate(paths):
        checked = by_path.get(path, [])
        first = checked[0] if checked else scans[path]
        facts.append(JobInput(
            job_id=job_id, position=position, path=str(path), name=path.name, size=path.stat().st_size,
            sha256=_digest(path), chromosomes=list(first.chromosomes), samples=first.samples,
            variants=first.variants, build=first.build, verdict=_worst(checked) if checked else NOT_CHECKED,
            checks=_not_passed(checked), fedimpute_version=__version__))
    return facts
