"""Streaming multipart/form-data reader for the submit endpoint.

Why not request.form(): Starlette spools file parts to temporary files, which
would double the disk traffic and keep a 1 GiB benchmark upload around. Here
each file part goes straight to the job's upload folder, or, when uploads are
discarded, only to a byte counter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from .errors import ApiError, FrameworkError
from .model import InputFile

MAX_FIELD_BYTES = 1 << 20


@dataclass
class _Part:
    name: str
    filename: str | None  # None for a text field
    handle: BinaryIO | None = None
    text: bytearray = field(default_factory=bytearray)
    size: int = 0


class FormSink:
    """python-multipart callbacks that collect text fields and stream file parts."""

    def __init__(self, upload_dir: Path | None, count_bytes):
        self.upload_dir, self.count_bytes = upload_dir, count_bytes
        self.fields: list[tuple[str, str]] = []
        self.files: list[tuple[str, InputFile]] = []
        self._headers: dict[str, str] = {}
        self._header_name = self._header_value = b""
        self._part: _Part | None = None
        self.complete = False

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._field,
            "on_header_value": self._value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._end,
            "on_end": self._finished,
        }

    def _begin(self) -> None:
        self._headers, self._part = {}, None

    def _field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").lower()] = self._header_value.decode(
            "utf-8", "replace"
        )
        self._header_name = self._header_value = b""

    def _headers_done(self) -> None:
        _kind, options = parse_options_header(self._headers.get("content-disposition", ""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            self._part = _Part(name, None)
            return
        base = PurePosixPath(filename.decode("utf-8", "replace").replace("\\", "/")).name
        handle = None  # closed in _end() or close(): a part outlives one callback
        if self.upload_dir is not None and base:
            handle = open(self.upload_dir / base, "wb")  # noqa: SIM115
        self._part = _Part(name, base, handle)

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.filename is None:
            if len(part.text) + end - start > MAX_FIELD_BYTES:
                raise ApiError(400, f"Field '{part.name}' is too large.")
            part.text += data[start:end]
            return
        if part.handle is not None:
            part.handle.write(data[start:end])
        part.size += end - start
        self.count_bytes(end - start)

    def _end(self) -> None:
        part = self._part
        if part.filename is None:
            self.fields.append((part.name, part.text.decode("utf-8", "replace")))
            return
        if part.handle is not None:
            part.handle.close()
        if part.filename:  # an empty file input of a browser form has no name: ignore it
            path = self.upload_dir / part.filename if self.upload_dir is not None else None
            self.files.append((part.name, InputFile(part.filename, path, part.size)))

    def _finished(self) -> None:
        self.complete = True

    def close(self) -> None:
        if self._part is not None and self._part.handle is not None:
            self._part.handle.close()


async def body_chunks(request) -> AsyncIterator[bytes]:
    """The raw request body; unlike request.stream() it can be resumed after a partial read."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def drain(chunks: AsyncIterator[bytes]) -> None:
    """Read and drop the rest of a body we reject, so the client sees our answer, not a broken pipe."""
    try:
        async for _chunk in chunks:
            pass
    except ClientDisconnect:  # nobody is left to read the answer
        pass


async def read_form(request, upload_dir: Path | None, count_bytes) -> FormSink:
    """Parse the request body; 415 when it is not multipart, 400 with the parser message on bad syntax."""
    chunks = body_chunks(request)
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or b"boundary" not in options:
        await drain(chunks)
        raise FrameworkError(415)
    sink = FormSink(upload_dir, count_bytes)
    parser = MultipartParser(options[b"boundary"], sink.callbacks())
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
        if not sink.complete:
            raise ApiError(400, "Multipart body ended before its closing boundary.")
    except ClientDisconnect:
        raise
    except Exception as exc:  # ApiError from the sink, or one of python-multipart's error types
        await drain(chunks)
        raise exc if isinstance(exc, ApiError) else ApiError(400, str(exc) or type(exc).__name__) from None
    finally:
        sink.close()
    return sink
