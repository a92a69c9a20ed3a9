"""Downloading one result file: exactly one GET, streamed to disk, verified.

Cloudgene counts every GET against a small per-file quota, so a file is fetched with a
single streamed request (no HEAD, no ranged retries), written to ``name.part`` and
renamed only once it is complete and checked: the byte count must match
``Content-Length``, and a small JSON error envelope written in place of the data (what
a server sends when the quota is used up) is detected and turned into an error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import httpx
from pydantic import BaseModel, ConfigDict

from fedimpute._http import check_response, transport_errors
from fedimpute.exceptions import IntegrityError, UsageError

__all__ = ["DownloadedFile", "ProgressCallback", "looks_like_error_body", "safe_join", "stream_to_file"]

#: ``(bytes done, bytes in all)`` of a transfer, for progress bars.
ProgressCallback = Callable[[int, int], None]


class DownloadedFile(BaseModel):
    """A result file on disk, with the checksums computed while it streamed in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    path: Path
    size: int
    sha256: str
    md5: str

_ERROR_PROBE = 4096


def safe_join(root: Path, name: str) -> Path:
    """``root / name`` for a service-given relative name; refuse anything that escapes ``root``."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or name.startswith(("/", "\\")) \
            or (len(name) > 1 and name[1] == ":"):
        raise UsageError(f"refusing the unsafe file name {name!r}: it would be written outside {root}")
    target = (root / Path(*pure.parts)).resolve()
    if not target.is_relative_to(root.resolve()):
        raise UsageError(f"refusing the unsafe file name {name!r}: it would be written outside {root}")
    return target


def looks_like_error_body(head: bytes) -> str | None:
    """The message of a JSON error envelope (``{"message": ..., "success": false}``), else None."""
    stripped = head.lstrip()
    if not stripped.startswith(b"{"):
        return None
    try:
        body = json.loads(stripped.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(body, dict) and body.get("success") is False and isinstance(message, str):
        return message
    return None


async def stream_to_file(service: str, client: httpx.AsyncClient, url: str, dest: Path, *,
                         progress: ProgressCallback | None = None,
                         headers: dict[str, str] | None = None) -> DownloadedFile:
    """GET ``url`` once into ``dest``; return size and checksums of what landed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    head = b""
    with transport_errors(service, what=f"download of {dest.name}"):
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code >= 400:
                await response.aread()
                check_response(service, response, what=f"download of {dest.name}")
            expected = response.headers.get("Content-Length")
            total = int(expected) if expected and expected.isdigit() else 0
            with part.open("wb") as fh:
                async for chunk in response.aiter_bytes(1024 * 1024):
                    fh.write(chunk)
                    sha.update(chunk)
                    md5.update(chunk)
                    size += len(chunk)
                    if len(head) < _ERROR_PROBE:
                        head += chunk[: _ERROR_PROBE - len(head)]
                    if progress:
                        progress(size, total)
    if expected and expected.isdigit() and int(expected) != size:
        part.unlink(missing_ok=True)
        raise IntegrityError(f"{dest.name}: received {size:,} bytes but the service announced {int(expected):,}; "
                             "the transfer broke, download it again")
    if size < _ERROR_PROBE and (message := looks_like_error_body(head)) and not dest.name.endswith(".json"):
        part.unlink(missing_ok=True)
        raise IntegrityError(f"{dest.name}: the service sent an error instead of the file: {message}")
    os.replace(part, dest)
    return DownloadedFile(name=dest.name, path=dest, size=size, sha256=sha.hexdigest(), md5=md5.hexdigest())
