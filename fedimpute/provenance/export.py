"""Writing a job's crate: a folder, a zip, or the metadata document alone; never a secret.

The crate is built from stored facts that hold no secret, and then, as a second guard, every string
in it is checked against every secret fedimpute could read for this job (service tokens from the
environment and the secret store, the job's result password and its fan-out relatives', the secret
parts of the owner's notification URLs, and any secret this process registered for log redaction):
each is replaced by ``***`` before a byte is written.  A folder is written in place (only the crate's
own files are replaced); a zip is written next to its final name and renamed into place, so a reader
never sees half a crate.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rocrate.rocrate import ROCrate

from fedimpute.credentials import Credentials
from fedimpute.exceptions import UsageError
from fedimpute.models import Job
from fedimpute.notify.channels import ChannelBook, url_secrets
from fedimpute.paths import results_dir
from fedimpute.provenance.collect import collect
from fedimpute.provenance.crate import QUALITY_FILE, build_crate
from fedimpute.redaction import MASK, redact
from fedimpute.store import Store

__all__ = ["METADATA_FILE", "crate_secrets", "default_out", "job_crate", "provenance_zip", "write_provenance"]

METADATA_FILE = "ro-crate-metadata.json"
_OWN_FILES = (METADATA_FILE, QUALITY_FILE)


def default_out(store: Store, job_id: str) -> Path:
    """``FEDIMPUTE_HOME/results/<job_id>/provenance/``."""
    return results_dir(Path(store.home), job_id) / "provenance"


def crate_secrets(store: Store, credentials: Credentials, job: Job, relatives: Iterable[str] = ()) -> list[str]:
    """Every secret that could have reached this job's records, longest first (with URL-quoted forms)."""
    found = {v for k, v in os.environ.items() if k.startswith(("FEDIMPUTE_TOKEN_", "FEDIMPUTE_PASSWORD_")) and v}
    for service in store.list_services():
        found.update(t.get_secret_value() for t in credentials.stored_tokens(service.name))
        token = credentials.token(service.name, job.owner)
        if token is not None:
            found.add(token.get_secret_value())
    for channel in ChannelBook(credentials).channels(job.owner):  # notification URLs carry credentials
        found.update(url_secrets(channel.url.get_secret_value()))
    related = {job.job_id, *relatives, *([job.parent_id] if job.parent_id else [])}
    for job_id in related:
        password = credentials.password(job_id)
        if password is not None:
            found.add(password.get_secret_value())
    found |= {quote(s, safe="") for s in found}
    return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)


def _scrub(value: Any, secrets: list[str]) -> Any:
    """``value`` (a JSON-LD value) with every secret masked, recursively."""
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return redact(value)
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    return value


def job_crate(store: Store, credentials: Credentials, job_id: str, *, include_paths: bool = True) -> ROCrate:
    """The crate of ``job_id`` with every known secret masked (JobNotFoundError for an unknown job)."""
    prov = collect(store, job_id)
    secrets = crate_secrets(store, credentials, prov.job, prov.children)
    if prov.quality is not None:
        prov.quality = _scrub(prov.quality, secrets)
    crate = build_crate(prov, include_paths=include_paths)
    for entity in crate.get_entities():
        props = entity.properties()  # the entity's own JSON-LD dict: scrubbed in place
        props.update(_scrub(dict(props), secrets))
    return crate


def _write_zip(crate: ROCrate, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fedimpute-crate-", dir=out.parent) as tmp:
        folder = Path(tmp) / "crate"
        crate.write(folder)
        partial = Path(tmp) / out.name
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
        os.replace(partial, out)


def write_provenance(store: Store, credentials: Credentials, job_id: str, out: Path | None = None, *,
                     include_paths: bool = True) -> tuple[dict[str, Any], Path]:
    """Write the crate of ``job_id`` to ``out`` (a folder, or a zip when it ends in ``.zip``; default
    :func:`default_out`); return the metadata document and the path written."""
    out = Path(out) if out is not None else default_out(store, job_id)
    crate = job_crate(store, credentials, job_id, include_paths=include_paths)
    if out.suffix.lower() != ".zip" and out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder for the crate, or a path ending in .zip")
    document = crate.metadata.generate()
    if out.suffix.lower() == ".zip":
        _write_zip(crate, out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for name in _OWN_FILES:  # a summary from an earlier run must not outlive the crate that listed it
            (out / name).unlink(missing_ok=True)
        crate.write(out)
    return document, out


def provenance_zip(store: Store, credentials: Credentials, job_id: str, *, include_paths: bool = False) -> bytes:
    """The crate of ``job_id`` as zip bytes (a dashboard download); nothing stays on disk."""
    with tempfile.TemporaryDirectory(prefix="fedimpute-crate-") as tmp:
        _, path = write_provenance(store, credentials, job_id, Path(tmp) / f"{job_id}-provenance.zip",
                                   include_paths=include_paths)
        return path.read_bytes()
