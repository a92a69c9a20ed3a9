"""A streaming multipart/form-data body with a known length and upload progress.

Cloudgene uploads are one long POST of possibly many gigabytes.  The body is produced
chunk by chunk from disk (memory does not grow with file size), its total length is
computed up front (so ``Content-Length`` is exact and progress has a denominator), and
every chunk handed to the transport is reported to ``progress(sent, total)``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

__all__ = ["MultipartBody", "ProgressCallback"]

ProgressCallback = Callable[[int, int], None]
CHUNK = 1024 * 1024


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


@dataclass
class MultipartBody:
    """Text fields and file parts, rendered lazily.  Parts keep the order they were added in."""

    boundary: str = field(default_factory=lambda: "fedimpute-" + secrets.token_hex(16))
    _parts: list[tuple[bytes, Path | bytes | BinaryIO]] = field(default_factory=list)

    def add_field(self, name: str, value: str) -> None:
        head = f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
        self._parts.append((head.encode(), value.encode()))

    def add_file(self, name: str, path: Path | BinaryIO, *, filename: str | None = None,
                 content_type: str = "application/octet-stream") -> None:
        """A file part from ``path``, or from an open seekable binary file (sent from its start: an
        upload the engine's gateway received, forwarded without another copy on disk)."""
        fname = filename or (path.name if isinstance(path, Path) else "file")
        head = (f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"; '
                f'filename="{_quote(fname)}"\r\nContent-Type: {content_type}\r\n\r\n')
        self._parts.append((head.encode(), path))

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def _tail(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    def __len__(self) -> int:
        total = len(self._tail)
        for head, body in self._parts:
            total += len(head) + _size(body) + 2
        return total

    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, "Content-Length": str(len(self))}

    async def stream(self, progress: ProgressCallback | None = None) -> AsyncIterator[bytes]:
        """Yield the body; file reads run in a worker thread so the event loop stays responsive."""
        total, sent = len(self), 0

        def report(n: int) -> None:
            nonlocal sent
            sent += n
            if progress:
                progress(sent, total)

        for head, body in self._parts:
            yield head
            report(len(head))
            if isinstance(body, Path):
                with body.open("rb") as fh:
                    async for chunk in _chunks(fh):
                        yield chunk
                        report(len(chunk))
            elif not isinstance(body, bytes):
                body.seek(0)
                async for chunk in _chunks(body):
                    yield chunk
                    report(len(chunk))
            else:
                yield body
                report(len(body))
            yield b"\r\n"
            report(2)
        yield self._tail
        report(len(self._tail))


def _size(body: Path | bytes | BinaryIO) -> int:
    if isinstance(body, Path):
        return os.path.getsize(body)
    if isinstance(body, bytes):
        return len(body)
    return body.seek(0, os.SEEK_END)


async def _chunks(fh: BinaryIO) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(fh.read, CHUNK):
        yield chunk
