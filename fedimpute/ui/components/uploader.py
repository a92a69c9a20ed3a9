"""StreamingDropper: Panel's FileDropper with every chunk handed on as it arrives, never gathered.

Panel's FileDropper keeps each file's chunks in the server's memory until the last one, joins
them, and decodes ``text/*`` files to str.  This subclass gives each chunk (bytes, whatever the
file's type) to ``receiver`` at once, which writes it to disk (:meth:`SubmissionState.receive_chunk`),
and keeps nothing.  Measured with chromium on this machine: a 1 GiB upload grew the server's peak
RSS by about 24 MiB (10 MB chunks) or 11 MiB (4 MiB chunks, used here), at about 30 MiB/s either
way (the browser side sets the pace).

The browser sends a file's chunks one after another without waiting for the server, and cannot
be told to stop: after a refusal the rest of that file is ignored, and the form replaces the
widget (a model that left the page sends nothing more) once no other upload is running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import panel as pn
import param

from fedimpute.ui.uploads import UploadRefusedError

__all__ = ["CHUNK_BYTES", "StreamingDropper"]

#: Bytes per websocket message from the browser (Bokeh's default cap on a message is 20 MiB).
CHUNK_BYTES = 4 << 20

Receiver = Callable[[str, int, int, bytes, int], "Path | None"]


class StreamingDropper(pn.widgets.FileDropper):
    """A FileDropper whose chunks go to ``receiver(name, index, total, data, chunk_size)`` as they come."""

    refused = param.String(default="", doc="Why the last upload was refused (names the limit).")

    _rename: ClassVar[dict[str, str | None]] = {**pn.widgets.FileDropper._rename, "refused": None}

    def __init__(self, receiver: Receiver, remover: Callable[[str], None], **params) -> None:
        params.setdefault("chunk_size", CHUNK_BYTES)
        super().__init__(**params)
        self._receiver, self._remover = receiver, remover

    def _process_event(self, event) -> None:  # overrides FileDropper's gathering in memory
        data = event.data
        name = str(data.get("name") or "")
        if event.event_name == "delete_event":
            self._remover(name)
            return
        chunk = data.get("data") or b""
        if isinstance(chunk, str):  # never from the browser's ArrayBuffer; a crafted client
            chunk = chunk.encode()
        try:
            self._receiver(name, int(data["chunk"]), int(data["total_chunks"]), chunk, self.chunk_size)
        except UploadRefusedError as exc:
            self.refused = str(exc)
