"""``/results/{job_id}/{file_name}`` and ``/results/{job_id}.zip``: a job's result files for its owner.

Files are found by job id and the name recorded in the store, never by a path from the request,
and served by Tornado's own static-file machinery (``Range``, ``ETag``, streaming in chunks).  The
zip is built while it is sent (stored, not recompressed: results are gzip already), from a worker
thread that waits for the network, so neither a copy on disk nor the whole archive in memory.
Anyone but the owner (or an admin) gets the same 404 as for a job that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from tornado.web import HTTPError, RequestHandler, StaticFileHandler

from fedimpute.exceptions import JobNotFoundError, StoreError
from fedimpute.models import ResultFile
from fedimpute.store import Store

__all__ = ["Viewer", "result_routes"]

CHUNK = 1 << 20  # bytes per write of the zip stream
QUEUE = 8  # chunks the zip may run ahead of the network


class Viewer:
    """Who asks (from the request's signed session), and which jobs that lets them read."""

    def __init__(self, store: Store, user_of: Callable[[RequestHandler], tuple[str, bool] | None]) -> None:
        self.store, self.user_of = store, user_of

    def files(self, job_id: str, user: str, admin: bool) -> list[ResultFile]:
        """The job's downloaded files, or JobNotFoundError when the job is not the viewer's to see."""
        job = self.store.get_job(job_id)
        if not admin and job.owner != user:
            raise JobNotFoundError(job_id)
        return [f for f in self.store.result_files(job_id) if f.path and Path(f.path).is_file()]


class _Guarded(RequestHandler):
    viewer: ClassVar[Viewer]

    def get_current_user(self) -> Any:
        return self.viewer.user_of(self)

    async def _files(self, job_id: str) -> list[ResultFile]:
        who = self.current_user
        if who is None:
            self.redirect("/login?next=" + quote(self.request.uri or "/", safe=""))
            raise _Redirected
        try:
            return await asyncio.to_thread(self.viewer.files, job_id, *who)
        except (JobNotFoundError, StoreError):  # a store that stays locked reads as "try again", not leaks
            raise HTTPError(404) from None


class _Redirected(Exception):
    """The answer (a redirect to /login) has been written."""


class ResultFileHandler(_Guarded, StaticFileHandler):
    """One recorded result file, with Range support; ``Content-Disposition: attachment``."""

    async def get(self, job_id: str, name: str, include_body: bool = True) -> None:  # type: ignore[override]
        try:
            files = await self._files(job_id)
        except _Redirected:
            return
        match = next((f for f in files if f.name == name), None)
        if match is None:
            raise HTTPError(404)
        self._resolved = str(Path(match.path or "").resolve())
        self._name = name
        await super().get(self._resolved, include_body)

    async def head(self, job_id: str, name: str) -> None:  # type: ignore[override]
        await self.get(job_id, name, include_body=False)

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        return path  # already resolved from the store in get()

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        if absolute_path != getattr(self, "_resolved", None):
            raise HTTPError(404)
        return absolute_path

    def get_content_type(self) -> str:
        return "application/octet-stream"

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(self._name)}")
        self.set_header("Cache-Control", "private, no-store")


class ResultZipHandler(_Guarded):
    """Every downloaded file of a job as one zip, written while it is sent."""

    async def get(self, job_id: str) -> None:
        try:
            files = await self._files(job_id)
        except _Redirected:
            return
        if not files:
            raise HTTPError(404)
        self.set_header("Content-Type", "application/zip")
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(job_id)}.zip")
        self.set_header("Cache-Control", "private, no-store")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE)
        writer = _QueueWriter(loop, queue)
        work = asyncio.ensure_future(asyncio.to_thread(_write_zip, files, writer))
        try:
            while (chunk := await queue.get()) is not None:
                self.write(chunk)
                await self.flush()
        finally:
            writer.cancelled = True
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:  # unblock the writer thread if the client went away
                    queue.get_nowait()
            await work


class _QueueWriter:
    """A write-only, unseekable file whose chunks go to the event loop's queue (with back-pressure)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[bytes | None]) -> None:
        self.loop, self.queue, self.buffer, self.cancelled = loop, queue, bytearray(), False

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK:
            self._send(bytes(self.buffer))
            self.buffer.clear()
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        if self.buffer:
            self._send(bytes(self.buffer))
            self.buffer.clear()
        self._send(None)

    def _send(self, item: bytes | None) -> None:
        if self.cancelled:
            raise OSError("the client went away")
        asyncio.run_coroutine_threadsafe(self.queue.put(item), self.loop).result()


def _write_zip(files: list[ResultFile], writer: _QueueWriter) -> None:
    try:
        with zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:  # type: ignore[arg-type]
            for record in files:
                archive.write(record.path or "", arcname=record.name)
    finally:
        with contextlib.suppress(OSError):
            writer.close()


def result_routes(viewer: Viewer) -> list[tuple[str, type, dict]]:
    """Tornado routes for ``pn.serve(extra_patterns=...)``."""
    file_handler = type("ResultFileHandler", (ResultFileHandler,), {"viewer": viewer})
    zip_handler = type("ResultZipHandler", (ResultZipHandler,), {"viewer": viewer})
    return [(r"/results/([^/]+)\.zip", zip_handler, {}),
            (r"/results/([^/]+)/([^/]+)", file_handler, {"path": "/"})]
