"""Fetching a job's results: each file once, verified, recorded, decrypted and extracted.

A file already downloaded and still matching its recorded SHA-256 is never fetched
again (services count every GET against a small quota).  ``.md5`` sidecars, where the
service lists them, are checked against the data file.  Archives are opened with the
password given, else ``FEDIMPUTE_PASSWORD_<JOBID>``, else the one in the secret store.

An archive refused on extraction (unsafe or colliding member, over a size limit) stays on
disk as downloaded and still verified, and its folder is left as it was, so calling this
again raises the same error without a request to the service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fedimpute.archives import extract_archive, verify_md5_sidecar
from fedimpute.downloads import safe_join
from fedimpute.exceptions import ResultsExpiredError, UsageError
from fedimpute.jobs.lifecycle import JobLifecycle
from fedimpute.models import JobStatus, ResultFile, utcnow
from fedimpute.paths import results_dir
from fedimpute.services.base import ImputationService, RemoteFile

__all__ = ["download_results", "sha256_of"]

#: ``progress(file name, bytes done, bytes in all)`` while a file downloads.
FileProgress = Callable[[str, int, int], None]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _verified_copy(record: ResultFile | None) -> Path | None:
    """The file on disk when it still matches its recorded size and SHA-256, else None."""
    if record is None or not record.sha256 or not record.path:
        return None
    path = Path(record.path)
    same = path.is_file() and path.stat().st_size == record.size and sha256_of(path) == record.sha256
    return path if same else None


def _already_have(record: ResultFile | None) -> bool:
    return _verified_copy(record) is not None


def _all_local(jobs: JobLifecycle, job_id: str) -> bool:
    """True when the job finished and every listed file is on disk and verified: no request needed."""
    job = jobs.store.get_job(job_id)
    records = jobs.store.result_files(job_id)
    return job.status is JobStatus.COMPLETED and bool(records) and all(_already_have(r) for r in records)


async def _fetch(jobs: JobLifecycle, job_id: str, dest: Path, progress: FileProgress | None) -> dict[str, Path]:
    """Download what is missing; return name -> local path for every output file."""
    job, remote = await jobs.refresh(job_id)
    if remote is None:
        raise UsageError(f"job {job_id} has no remote id (it never reached the service); nothing to download")
    if remote.results_expired:
        raise ResultsExpiredError(f"the service deleted the results of job {job_id} (retired); they cannot be "
                                  "downloaded")
    if job.status is not JobStatus.COMPLETED:
        raise UsageError(f"job {job_id} is {job.status.value}; results can be downloaded once it is completed "
                         f"(`fedimpute jobs wait {job_id}`)")
    known = {r.name: r for r in jobs.store.result_files(job_id)}
    local: dict[str, Path] = {}
    async with jobs.source.adapter(job.service, owner=job.owner) as adapter:
        for remote_file in remote.outputs:
            local[remote_file.name] = await _fetch_one(jobs, adapter, job_id, remote_file, dest,
                                                       known.get(remote_file.name), progress)
    return local


async def _fetch_one(jobs: JobLifecycle, adapter: ImputationService, job_id: str, remote: RemoteFile, dest: Path,
                     record: ResultFile | None, progress: FileProgress | None) -> Path:
    have = _verified_copy(record)
    if have is not None:
        return have
    report = (lambda done, total: progress(remote.name, done, total)) if progress else None
    got = await adapter.download(remote, dest, progress=report)
    jobs.store.upsert_result_file(ResultFile(job_id=job_id, name=remote.name, size=got.size, sha256=got.sha256,
                                            path=str(got.path), downloaded_at=utcnow()))
    return got.path


def _verify_sidecars(local: dict[str, Path]) -> None:
    for name, path in local.items():
        if name.endswith(".md5") and name.removesuffix(".md5") in local:
            data = local[name.removesuffix(".md5")]
            md5 = hashlib.md5(usedforsecurity=False)
            with data.open("rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    md5.update(chunk)
            verify_md5_sidecar(md5.hexdigest(), path, data.name)


def _password(jobs: JobLifecycle, job_id: str, given: str | None) -> str | None:
    if given:
        return given
    stored = jobs.credentials.password(job_id)
    return stored.get_secret_value() if stored else None


async def download_results(jobs: JobLifecycle, job_id: str, dest: Path | None = None, *, password: str | None = None,
                           progress: FileProgress | None = None) -> list[dict[str, Any]]:
    """Download, verify, decrypt and extract; return ``{name, size, sha256, path, extracted}`` per file."""
    dest = (dest or results_dir(jobs.store.home, job_id)).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    if _all_local(jobs, job_id):
        local = {r.name: Path(r.path) for r in jobs.store.result_files(job_id) if r.path}  # all verified
    else:
        local = await _fetch(jobs, job_id, dest, progress)
    _verify_sidecars(local)
    secret = _password(jobs, job_id, password)
    records = jobs.store.result_files(job_id)
    downloaded = {*local.values(), *(Path(r.path) for r in records if r.path)}
    out = []
    for record in records:
        if record.name not in local:
            continue
        extracted: list[str] = []
        if record.name.endswith(".zip"):
            folder = safe_join(dest, record.name).parent
            # no member may replace a downloaded file: it would fail its hash check and be fetched again
            extracted = [str(p) for p in extract_archive(local[record.name], folder, secret, protected=downloaded)]
        out.append({"name": record.name, "size": record.size, "sha256": record.sha256, "path": record.path,
                    "extracted": extracted})
    return out
