"""A BGZF file inflated into files of whole lines, each block decompressed straight into the file.

The streamed info-VCF reader (:mod:`fedimpute.quality.info_stream`) hands DuckDB the text of a
10 M-site file as a series of files on tmpfs.  Memory traffic is what such a pass costs on a small
machine (copying 64 MB takes 14 ms into memory already mapped, 40 ms into fresh pages), so each
block is inflated by libdeflate directly into a shared mapping of the chunk's file: no buffer in
between, no ``write`` copy, and a file's pages are kept for the next chunk it holds.  Every block's
CRC32 is checked.  Measured on 10 M minimac4 sites (976 MB of text): 0.95 s of CPU against 1.4 s
for :class:`~fedimpute.preflight.inflate.ParallelBgzf` plus ``write``.
"""

from __future__ import annotations

import ctypes
import io
import mmap
import os
import struct
from pathlib import Path

from fedimpute.preflight.inflate import libdeflate

__all__ = ["BgzfChunks"]

_MAGIC = b"\x1f\x8b\x08\x04"
_READ = 8 << 20  # compressed bytes read at a time
_MAX_BLOCK = 65536  # a BGZF block never inflates to more


class BgzfChunks:
    """``fill(path)`` writes the next chunk of whole lines (at most ``chunk_bytes``) into ``path`` and
    returns its size, 0 at the end; the first ``skip_lines`` lines (a header) are left out.  Any
    problem (not BGZF, damaged, truncated, a line longer than a chunk) raises ``error``."""

    def __init__(self, path: Path, error: type[Exception], chunk_bytes: int, skip_lines: int = 0) -> None:
        lib = libdeflate()
        if lib is None:
            raise error("libdeflate is not installed")
        self._lib, self._error, self._skip = lib, error, skip_lines
        self._room = max(chunk_bytes, 4 * _MAX_BLOCK)
        self._decompressor: int = lib.libdeflate_alloc_decompressor()
        self._fh: io.BufferedReader = path.open("rb")
        # compressed bytes: a fixed buffer (never resized, so its address stays valid for libdeflate)
        self._comp = bytearray(_READ + 2 * _MAX_BLOCK)
        self._comp_pin = (ctypes.c_char * len(self._comp)).from_buffer(self._comp)
        self._comp_address = ctypes.addressof(self._comp_pin)
        self._len = self._pos = 0  # bytes read into _comp, and where the next block starts
        self._carry = b""  # the start of a line the previous chunk ended in
        self._eof = False
        self.head = b""  # the first bytes of the last chunk filled
        self.commas = self.returns = False  # whether the last chunk filled holds a ',' / a '\r'


    def fill(self, path: Path) -> int:
        """The next chunk into ``path`` (created, or rewritten in place); its size, 0 when done."""
        while True:
            if self._eof and not self._carry:
                return 0
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                size = self._fill_fd(fd)
            finally:
                os.close(fd)
            if size:
                return size

    def _fill_fd(self, fd: int) -> int:
        capacity = self._room + len(self._carry)
        os.ftruncate(fd, capacity)
        with mmap.mmap(fd, capacity) as mm:
            pin = (ctypes.c_char * capacity).from_buffer(mm)
            try:
                end = self._inflate_into(mm, ctypes.addressof(pin), capacity)
            finally:
                del pin  # a mapping with a live pointer into it cannot be closed
            cut = end if self._eof else mm.rfind(b"\n", 0, end) + 1
            if cut == 0 and end:
                raise self._error(f"a line is longer than {self._room:,} bytes")
            self._carry = mm[cut:end]
            start = self._skip_header(mm, cut)
            if start:
                mm.move(0, start, cut - start)
                cut -= start
            self.head = mm[: min(cut, 4096)]
            self.commas = mm.find(b",", 0, cut) >= 0
            self.returns = mm.find(b"\r", 0, cut) >= 0
        os.ftruncate(fd, cut)
        return cut

    def _skip_header(self, mm: mmap.mmap, end: int) -> int:
        """Where the text after the header's remaining lines starts in ``mm[:end]``."""
        start = 0
        while self._skip and start < end:
            newline = mm.find(b"\n", start, end)
            if newline < 0:  # cannot happen: a chunk ends at a newline
                raise self._error("the header does not end in a newline")
            start, self._skip = newline + 1, self._skip - 1
        return start

    def _inflate_into(self, mm: mmap.mmap, address: int, capacity: int) -> int:
        """Decompress whole blocks after the carried bytes while they fit; the end of the text."""
        mm[: len(self._carry)] = self._carry
        end = len(self._carry)
        lib, actual = self._lib, ctypes.c_size_t()
        while not self._eof and end + _MAX_BLOCK <= capacity:
            block = self._next_block()
            if block is None:
                break
            offset, clen, isize, crc = block
            if not isize:
                continue
            rc = lib.libdeflate_deflate_decompress(
                self._decompressor, self._comp_address + offset, clen, address + end, isize, ctypes.byref(actual)
            )
            if rc != 0 or actual.value != isize or lib.libdeflate_crc32(0, address + end, isize) != crc:
                raise self._error("a compressed block is corrupt (it does not decompress to what its checksum says)")
            end += isize
        return end

    def _next_block(self) -> tuple[int, int, int, int] | None:
        """(payload offset in the buffer, payload size, text size, CRC32) of the next block; None at the end."""
        if self._len - self._pos < 18 and not self._read_more(18):
            return None
        start, comp = self._pos, self._comp
        if comp[start : start + 4] != _MAGIC or comp[start + 12 : start + 14] != b"BC":
            raise self._error("the data is not BGZF blocks (or a block is damaged)")
        size = struct.unpack_from("<H", comp, start + 16)[0] + 1
        if self._len - start < size:
            if not self._read_more(size):
                raise self._error("the file ends inside a compressed block: it is truncated")
            start = self._pos
        xlen = struct.unpack_from("<H", comp, start + 10)[0]
        crc, isize = struct.unpack_from("<II", comp, start + size - 8)
        if isize > _MAX_BLOCK or size < 12 + xlen + 8:
            raise self._error("a BGZF block header is damaged")
        self._pos = start + size
        return start + 12 + xlen, size - 12 - xlen - 8, isize, crc

    def _read_more(self, need: int) -> bool:
        """At least ``need`` unread bytes in the buffer (moved to its start); False at the end of the
        file with nothing left, an error when the file ends inside a block."""
        while self._len - self._pos < need:
            left = self._len - self._pos
            self._comp[:left] = self._comp[self._pos : self._len]  # same length: the buffer keeps its place
            self._len, self._pos = left, 0
            got = self._fh.readinto(memoryview(self._comp)[left : left + _READ])
            if not got:
                if left:
                    raise self._error("the file ends inside a compressed block: it is truncated")
                self._eof = True
                return False
            self._len += got
        return True

    def close(self) -> None:
        del self._comp_pin
        if self._decompressor:
            self._lib.libdeflate_free_decompressor(self._decompressor)
            self._decompressor = 0
        self._fh.close()
