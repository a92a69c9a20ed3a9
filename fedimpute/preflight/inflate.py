"""BGZF decompression in worker threads, straight into the scanner's buffers (libdeflate).

A BGZF file is a chain of independent deflate blocks, each announcing its compressed and
uncompressed size, so the text of the next buffer can be decompressed by two threads while the
scanner works on the current one, with no pipe and no extra copy.  libdeflate (the library
htslib itself uses; Debian's libdeflate0 comes with bcftools/tabix) is called through ctypes,
which releases the GIL for the duration of each call.  Every block's CRC32 is verified.
"""

from __future__ import annotations

import ctypes
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from fedimpute.preflight.native import load_library

__all__ = ["ParallelBgzf", "find_block_boundary", "libdeflate"]

_CHUNK = 4 << 20  # compressed bytes read at a time
_MAGIC = b"\x1f\x8b\x08\x04"
_SLACK = 4096  # must match reader.SLACK
_MIN_ROOM = 4 * 65536  # a BGZF block holds at most 64 KiB of text; a buffer takes several


def _bind_libdeflate(lib: ctypes.CDLL) -> None:
    lib.libdeflate_alloc_decompressor.restype = ctypes.c_void_p
    lib.libdeflate_alloc_decompressor.argtypes = []
    lib.libdeflate_free_decompressor.argtypes = [ctypes.c_void_p]
    lib.libdeflate_deflate_decompress.restype = ctypes.c_int
    lib.libdeflate_deflate_decompress.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                                  ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    lib.libdeflate_crc32.restype = ctypes.c_uint32
    lib.libdeflate_crc32.argtypes = [ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t]


def libdeflate() -> ctypes.CDLL | None:
    """The bound libdeflate library, or None when it is not installed."""
    return load_library("deflate", ("libdeflate.so.0", "libdeflate.so"), _bind_libdeflate)


class _Buffer:
    """A bytearray with its address pinned for C calls (it is never resized, only replaced)."""

    def __init__(self, size: int) -> None:
        self.data = bytearray(size + _SLACK)
        self.room = size
        self._pin = (ctypes.c_char * len(self.data)).from_buffer(self.data)
        self.address = ctypes.addressof(self._pin)


class ParallelBgzf:
    """Yields whole-line blocks of a BGZF file, decompressing the next block while one is used.

    ``threads`` helper threads decompress ahead; with 0 the blocks are decompressed in the calling
    thread, which is faster on a machine whose cores are all busy (no waiting on a descheduled helper).
    """

    name = "libdeflate"

    def __init__(self, path: Path, error: type[Exception], threads: int = 2, *, start: int = 0,
                 stop: int | None = None) -> None:
        lib = libdeflate()
        if lib is None:  # callers check libdeflate() first; this names the problem if one does not
            raise error("libdeflate is not installed: install libdeflate0 or set FEDIMPUTE_PREFLIGHT_READER=zlib")
        self._lib: ctypes.CDLL = lib
        self._fh = path.open("rb")
        self._fh.seek(start)
        self._error = error
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="bgzf") if threads > 0 else None
        self._threads = max(1, threads)
        self._local = threading.local()
        self._decompressors: list[int] = []
        self._lock = threading.Lock()
        self._comp = b""
        self._pos = 0
        self._file_offset = start  # file offset of self._comp[0]
        self._stop = stop  # a range ends at the block starting here, plus the rest of its line
        self._at_stop = False
        self._exhausted = False
        self._pending_error: Exception | None = None

    # -- the compressed side -------------------------------------------------------------------

    def _take(self, room: int) -> tuple[bytes, list[tuple[int, int, int, int, int]], int]:
        """Whole blocks whose text fits in ``room``: (compressed bytes, jobs, text size)."""
        if self._pending_error is not None:
            raise self._pending_error
        jobs: list[tuple[int, int, int, int, int]] = []
        total, begin = 0, self._pos
        while True:
            try:
                ready, begin = self._ensure_block(begin)
            except self._error as exc:  # truncated or corrupt further on: first hand over the blocks taken
                if not jobs:
                    raise
                self._pending_error = exc
                break
            if not ready:
                break
            if self._stop is not None and self._file_offset + self._pos >= self._stop:
                self._exhausted = self._at_stop = True
                break
            start = self._pos
            size = self._block_size()
            crc, isize = struct.unpack_from("<II", self._comp, start + size - 8)
            if total + isize > room:
                if not jobs:  # cannot happen with buffers of at least _MIN_ROOM; never write past one
                    raise self._error(f"a BGZF block of {isize:,} bytes does not fit the read buffer")
                break
            xlen = struct.unpack_from("<H", self._comp, start + 10)[0]
            jobs.append((start - begin + 12 + xlen, size - 12 - xlen - 8, total, isize, crc))
            total += isize
            self._pos = start + size
        chunk = self._comp[begin:self._pos]
        return chunk, jobs, total

    def _ensure_block(self, begin: int) -> tuple[bool, int]:
        """Make one whole block available at ``self._pos``; (False, begin) at the end of the file."""
        while len(self._comp) - self._pos < 18 or len(self._comp) - self._pos < self._block_size():
            if not self._refill(begin):
                return False, begin
            begin = 0
        return True, begin

    def _block_size(self) -> int:
        start = self._pos
        head = self._comp[start:start + 18]
        if len(head) < 18:
            return 18
        if head[:4] != _MAGIC or head[12:14] != b"BC":
            raise self._error(f"the data at byte {self._file_offset + start:,} is not a BGZF block: the file is "
                              "corrupt or was concatenated from other files")
        return int(struct.unpack_from("<H", head, 16)[0]) + 1

    def _refill(self, begin: int) -> bool:
        """Read more compressed bytes, keeping ``[begin:]``; False at the end of the file."""
        more = self._fh.read(_CHUNK)
        if not more:
            left = len(self._comp) - self._pos
            if left:
                raise self._error(f"the file ends inside a compressed block ({left:,} bytes of an incomplete "
                                  "block): it is truncated (an interrupted copy or upload?)")
            self._exhausted = True
            return False
        self._file_offset += begin
        self._comp = self._comp[begin:] + more
        self._pos -= begin
        return True

    # -- the text side -------------------------------------------------------------------------

    def _decompressor(self) -> int:
        d: int | None = getattr(self._local, "d", None)
        if d is None:
            fresh: int = self._lib.libdeflate_alloc_decompressor()
            d = self._local.d = fresh
            with self._lock:
                self._decompressors.append(d)
        return d

    def _inflate(self, chunk: bytes, out: int, jobs: list[tuple[int, int, int, int, int]]) -> None:
        lib, d = self._lib, self._decompressor()
        base = ctypes.cast(ctypes.c_char_p(chunk), ctypes.c_void_p).value
        if base is None:  # only an empty chunk has no address, and a chunk with jobs is never empty
            raise self._error("no compressed data to decompress")
        actual = ctypes.c_size_t()
        for offset, clen, target, isize, crc in jobs:
            if not isize:
                continue
            rc = lib.libdeflate_deflate_decompress(d, base + offset, clen, out + target, isize, ctypes.byref(actual))
            if rc != 0 or actual.value != isize or lib.libdeflate_crc32(0, out + target, isize) != crc:
                raise self._error("a compressed block is corrupt (it does not decompress to what its header "
                                  "and checksum say)")

    def _fill(self, buf: _Buffer, start: int) -> tuple[int, list[Future[None]]]:
        """Start decompressing the next blocks into ``buf`` from ``start``; returns (end, futures)."""
        chunk, jobs, total = self._take(buf.room - start)
        if not jobs:
            return start, []
        out = buf.address + start
        if self._pool is None:  # a busy machine: no helper threads to wait for
            self._inflate(chunk, out, jobs)
            return start + total, []
        share = -(-len(jobs) // self._threads)
        futures = [self._pool.submit(self._inflate, chunk, out, jobs[i:i + share])
                   for i in range(0, len(jobs), share)]
        return start + total, futures

    def line_blocks(self, block_size: int) -> Iterator[tuple[bytearray, int]]:
        """``(buf, end)`` with whole lines in ``buf[:end]``, as :func:`reader.line_blocks` yields."""
        block_size = max(block_size, _MIN_ROOM)
        bufs = [_Buffer(block_size), _Buffer(block_size)]
        k = 0
        end, pending = self._fill(bufs[0], 0)
        while True:
            for future in pending:
                future.result()
            buf = bufs[k]
            cut = buf.data.rfind(b"\n", 0, end) + 1
            if self._exhausted and not pending:
                if self._at_stop:  # a range: finish its last line from the blocks after the stop
                    extra = self._through_newline()
                    if end + len(extra) >= buf.room:
                        bigger = _Buffer(end + len(extra) + 1)
                        bigger.data[:end] = buf.data[:end]
                        buf = bufs[k] = bigger
                    buf.data[end:end + len(extra)] = extra
                    end += len(extra)
                if end and buf.data[end - 1] != 10:
                    buf.data[end] = 10
                    end += 1
                if end:
                    yield buf.data, end
                return
            if cut == 0 or end - cut > block_size // 2:  # a very long line: use a bigger buffer
                bigger = _Buffer(2 * buf.room)
                bigger.data[:end] = buf.data[:end]
                bufs[k] = bigger
                end, pending = self._fill(bigger, end)
                continue
            other = bufs[1 - k]
            tail = end - cut
            other.data[:tail] = buf.data[cut:end]
            try:
                next_end, next_pending = self._fill(other, tail)
            except Exception:  # damaged data ahead: first hand over the whole lines already read
                yield buf.data, cut
                raise
            yield buf.data, cut
            k, end, pending = 1 - k, next_end, next_pending

    def _through_newline(self) -> bytes:
        """The text after the stop, up to and including its first newline (or to the end of the file)."""
        self._stop, self._exhausted = None, False
        out, scratch = bytearray(), _Buffer(2 * 65536)
        while True:
            chunk, jobs, total = self._take(65536)
            if not jobs:
                return bytes(out)
            self._inflate(chunk, scratch.address, jobs)
            newline = scratch.data.find(b"\n", 0, total)
            if newline >= 0:
                out += scratch.data[:newline + 1]
                return bytes(out)
            out += scratch.data[:total]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for d in self._decompressors:
            self._lib.libdeflate_free_decompressor(d)
        self._decompressors.clear()
        self._fh.close()


def find_block_boundary(path: Path, near: int) -> int | None:
    """The offset of a BGZF block start at or after ``near``, checked by chaining to the next block."""
    with path.open("rb") as fh:
        fh.seek(near)
        window = fh.read(4 << 20)
    at = window.find(_MAGIC)
    while at >= 0 and at + 18 <= len(window):
        if window[at + 12:at + 14] == b"BC" and window[at + 10:at + 12] == b"\x06\x00":
            after = at + struct.unpack_from("<H", window, at + 16)[0] + 1
            chained = window[after:after + 4] == _MAGIC and window[after + 12:after + 14] == b"BC"
            if after + 18 <= len(window) and chained:
                return near + at
        at = window.find(_MAGIC, at + 1)
    return None
