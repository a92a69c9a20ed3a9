"""Fetching a job's results: each file once, verified, recorded, decrypted and extracted.

A file already downloaded and still matching its recorded SHA-256 is never fetched
again (services count every GET against a small quota).  ``.md5`` sidecars, where the
service lists them, are checked against the data file.  Archives are opened with the
password given, else ``FEDIMPUTE_PASSWORD_<JOBID>``, else the one in the secret store.
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
from fedimpute.services.base import RemoteFile

__all__ = ["download_results", "sha256_of"]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _already_have(record: ResultFile | None) -> bool:
    if record is None or not record.sha256 or not record.path:
        return False
    path = Path(record.path)
    return path.is_file() and path.stat().st_size == record.size and sha256_of(path) == record.sha256


def _all_local(jobs: JobLifecycle, job_id: str) -> bool:
    """True when the job finished and every listed file is on disk and verified: no request needed."""
    job = jobs.store.get_job(job_id)
    records = jobs.store.result_files(job_id)
    return job.status is JobStatus.COMPLETED and bool(records) and all(_already_have(r) for r in records)


async def _fetch(jobs: JobLifecycle, job_id: str, dest: Path, progress) -> dict[str, Path]:
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
    async with jobs.source.adapter(job.service) as adapter:
        for remote_file in remote.outputs:
            local[remote_file.name] = await _fetch_one(jobs, adapter, job_id, remote_file, dest,
                                                       known.get(remote_file.name), progress)
    return local


async def _fetch_one(jobs: JobLifecycle, adapter, job_id: str, remote: RemoteFile, dest: Path, record, progress) -> Path:
    if _already_have(record):
        return Path(record.path)
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
                           progress: Callable[[str, int, int], None] | None = None) -> list[dict[str, Any]]:
    """Download, verify, decrypt and extract; return ``{name, size, sha256, path, extracted}`` per file."""
    dest = (dest or results_dir(jobs.store.home, job_id)).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    if _all_local(jobs, job_id):
        local = {r.name: Path(r.path) for r in jobs.store.result_files(job_id)}
    else:
        local = await _fetch(jobs, job_id, dest, progress)
    _verify_sidecars(local)
    secret = _password(jobs, job_id, password)
    out = []
    for record in jobs.store.result_files(job_id):
        if record.name not in local:
            continue
        extracted: list[str] = []
        if record.name.endswith(".zip"):
            folder = safe_join(dest, record.name).parent
            extracted = [str(p) for p in extract_archive(Path(record.path), folder, secret)]
        out.append({"name": record.name, "size": record.size, "sha256": record.sha256, "path": record.path,
                    "extracted": extracted})
    return out
