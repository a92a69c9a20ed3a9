"""Reading VCF text fast: what the file is, and its decompressed bytes in large blocks.

Site-level passes over a VCF are limited by decompression (shared/reference/local-engine.md §6),
so the text is produced by the fastest decoder on the machine, in this order:

1. libdeflate (:mod:`.inflate`, Debian's libdeflate0 comes with bcftools/tabix), decompressing
   BGZF blocks straight into the scanner's next buffer, in helper threads while a core is idle;
2. htslib's own reader (``libhts``), loaded with ctypes, single-threaded: its threaded mode
   (``bgzf_mt``) reports a file cut mid-block as a clean end of file, and a truncated upload is
   exactly what the check must catch;
3. a ``bgzip -dc -@2`` subprocess pipe (measured slowest of the three here: the pipe costs more
   kernel time than the decompression it moves to another process);
4. zlib in this process (always there).

Plain (non-BGZF) gzip always goes through zlib: such files fail the compression check anyway, and
zlib hands over the text up to a truncation, where htslib loses its last read.
``FEDIMPUTE_PREFLIGHT_READER=libdeflate|hts|bgzip|zlib|gzip`` forces one (benchmarks and tests use
it).  Blocks are handed out as ``(bytearray, end)`` holding whole lines, so the scanner can look at
them with numpy without copying them again.
"""

from __future__ import annotations

import ctypes
import gzip
import io
import os
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from fedimpute.bgzf import BGZF_EOF, is_bgzf
from fedimpute.preflight.inflate import ParallelBgzf, libdeflate
from fedimpute.preflight.native import load_library

__all__ = ["BLOCK_SIZE", "SLACK", "FileKind", "ReadError", "Source", "idle_cpus", "line_blocks", "open_source",
           "sniff"]

#: Bytes per block: large enough to amortise the numpy calls made per block (4 MiB measured best).
BLOCK_SIZE = 4 << 20
_MAGICS = (
    (b"PK\x03\x04", "a zip archive"),
    (b"BZh", "bzip2-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"(\xb5/\xfd", "zstd-compressed"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"BCF\x02", "an uncompressed BCF (binary VCF)"),
)


class ReadError(Exception):
    """The bytes cannot be read as text: ``message`` says why in words a user can act on."""


@dataclass(frozen=True)
class FileKind:
    """What the file is on disk: ``compression`` is bgzf, gzip, plain or None (not a VCF at all)."""

    compression: str | None
    size: int
    bgzf_eof: bool = False  # BGZF only: ends with the 28-byte EOF block
    problem: str | None = None  # why it cannot be read, when compression is None


def sniff(path: Path) -> FileKind:
    """Classify ``path`` from its first and last bytes; raises ReadError for a missing file or a folder."""
    if not path.exists():
        raise ReadError(f"{path} does not exist")
    if path.is_dir():
        raise ReadError(f"{path} is a folder, not a VCF file")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(64)
            if size >= len(BGZF_EOF):
                fh.seek(size - len(BGZF_EOF))
                tail = fh.read(len(BGZF_EOF))
            else:
                tail = b""
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0:
        return FileKind(None, 0, problem="the file is empty (0 bytes)")
    if head[:2] == b"\x1f\x8b":
        if is_bgzf(path):
            return FileKind("bgzf", size, bgzf_eof=tail == BGZF_EOF)
        return FileKind("gzip", size)
    for magic, what in _MAGICS:
        if head.startswith(magic):
            return FileKind(None, size, problem=f"the file is {what}, not a VCF")
    if head.startswith(b"#") or _looks_like_text(head):
        return FileKind("plain", size)
    return FileKind(None, size,
                    problem=f"the file is binary data, not a VCF (it starts with bytes {head[:8].hex(' ')})")


def _looks_like_text(head: bytes) -> bool:
    return all(b in b"\t\r\n" or 32 <= b < 127 for b in head)


# -- decoders ---------------------------------------------------------------------------------


class _Source:
    """Fills ``size`` bytes of a bytearray from ``offset``; returns the count, 0 at the end; raises ReadError."""

    name = "?"

    def read_into(self, buf: bytearray, offset: int, size: int) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _FileSource(_Source):
    """A plain file, or Python's gzip reader (the fallback decoder)."""

    def __init__(self, fh: io.BufferedIOBase, name: str) -> None:
        self._fh, self.name = fh, name

    def read_into(self, buf: bytearray, offset: int, size: int) -> int:
        view = memoryview(buf)
        try:
            with view[offset:offset + size] as window:
                return self._fh.readinto(window)
        except (EOFError, OSError, zlib.error) as exc:
            raise ReadError(_gzip_problem(exc)) from exc
        finally:
            view.release()

    def close(self) -> None:
        self._fh.close()


def _gzip_problem(exc: Exception) -> str:
    if isinstance(exc, EOFError):
        return "the compressed data ends early: the file is truncated (an interrupted copy or upload?)"
    return f"the compressed data is corrupt ({exc})"


class _ZlibSource(_Source):
    """zlib in this process, member after member: a truncated file still yields the text before the cut."""

    name = "zlib"

    def __init__(self, path: Path) -> None:
        self._fh = path.open("rb")
        self._inflater = zlib.decompressobj(31)
        self._pending = b""
        self._done = False

    def read_into(self, buf: bytearray, offset: int, size: int) -> int:
        while not self._pending and not self._done:
            self._pending = self._inflate_more()
        n = min(size, len(self._pending))
        buf[offset:offset + n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _inflate_more(self) -> bytes:
        data = self._inflater.unused_data or self._fh.read(1 << 20)
        if self._inflater.eof:  # the next gzip member, if any
            if not data:
                self._done = True
                return b""
            self._inflater = zlib.decompressobj(31)
        elif not data:
            self._done = True
            raise ReadError("the compressed data ends early: the file is truncated (an interrupted copy or upload?)")
        try:
            return self._inflater.decompress(data)
        except zlib.error as exc:
            self._done = True
            raise ReadError(f"the compressed data is corrupt ({exc})") from exc

    def close(self) -> None:
        self._fh.close()


class _PipeSource(_Source):
    """``bgzip -dc -@2 FILE``: decompression in another process."""

    name = "bgzip"

    def __init__(self, path: Path, threads: int) -> None:
        self._proc = subprocess.Popen(["bgzip", "-dc", f"-@{max(threads, 1)}", str(path)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, bufsize=0)
        assert self._proc.stdout is not None and self._proc.stderr is not None  # both are pipes
        self._stdout = cast(io.FileIO, self._proc.stdout)  # bufsize=0: an unbuffered FileIO, with readinto
        self._stderr = self._proc.stderr

    def read_into(self, buf: bytearray, offset: int, size: int) -> int:
        view = memoryview(buf)
        try:
            with view[offset:offset + size] as window:
                n = self._stdout.readinto(window)
        finally:
            view.release()
        if n == 0 and self._proc.wait() != 0:
            detail = self._stderr.read().decode(errors="replace").strip().splitlines()
            raise ReadError("the compressed data is truncated or corrupt (bgzip: "
                            f"{detail[-1] if detail else 'exit ' + str(self._proc.returncode)})")
        return n or 0

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._stdout.close()
        self._stderr.close()


def _bind_hts(lib: ctypes.CDLL) -> None:
    """The few libhts BGZF functions used."""
    lib.bgzf_open.restype, lib.bgzf_open.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
    lib.bgzf_read.restype = ctypes.c_ssize_t
    lib.bgzf_read.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    lib.bgzf_close.argtypes = [ctypes.c_void_p]
    lib.hts_set_log_level.argtypes = [ctypes.c_int]
    lib.hts_set_log_level(0)  # our messages replace htslib's stderr warnings


class _HtsSource(_Source):
    """htslib's BGZF reader in this process (single-threaded: see the module docstring)."""

    name = "hts"

    def __init__(self, lib: ctypes.CDLL, path: Path) -> None:
        self._lib = lib
        self._fp = lib.bgzf_open(os.fsencode(path), b"r")
        if not self._fp:
            raise ReadError(f"htslib cannot open {path}")

    def read_into(self, buf: bytearray, offset: int, size: int) -> int:
        size = min(size, 256 << 10)  # a failing read loses what it had decompressed: keep reads short
        window = (ctypes.c_char * size).from_buffer(buf, offset)
        n: int = self._lib.bgzf_read(self._fp, window, size)
        del window
        if n < 0:
            raise ReadError("the compressed data is truncated or corrupt (htslib could not decompress a block)")
        return n

    def close(self) -> None:
        if self._fp:
            self._lib.bgzf_close(self._fp)
            self._fp = None


def idle_cpus() -> float:
    """Cores not busy with other work, from the 1-minute load average (all of them if unknown)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return cpus - busy


#: What :func:`open_source` returns: a reader of raw bytes, or libdeflate's reader of whole-line blocks.
Source = _Source | ParallelBgzf


def open_source(path: Path, kind: FileKind, *, threads: int | None = None) -> Source:
    """The fastest available decoder for ``path`` (see the module docstring).

    ``threads`` (decompression helpers) defaults to 2, or 0 when no core is idle.
    """
    if threads is None:
        threads = 2 if idle_cpus() >= 1 else 0
    if kind.compression == "plain":
        return _FileSource(path.open("rb"), "plain")
    forced = os.environ.get("FEDIMPUTE_PREFLIGHT_READER", "")
    if kind.compression == "bgzf" and forced in ("", "libdeflate") and libdeflate() is not None:
        return ParallelBgzf(path, ReadError, threads)
    if kind.compression == "gzip" and forced in ("", "zlib"):
        return _ZlibSource(path)  # plain gzip: rejected anyway, so the clearest errors beat speed
    lib = load_library("hts", ("libhts.so.3", "libhts.so"), _bind_hts) if forced in ("", "hts") else None
    if lib is not None:
        return _HtsSource(lib, path)
    if forced in ("", "bgzip") and shutil.which("bgzip"):
        return _PipeSource(path, threads)
    if forced == "gzip":
        return _FileSource(gzip.open(path, "rb"), "gzip")
    return _ZlibSource(path)


#: Bytes left unused at the end of every block buffer, so numpy can look a little past a line end.
SLACK = 4096


def line_blocks(source: Source, block_size: int = BLOCK_SIZE) -> Iterator[tuple[bytearray, int]]:
    """Yield ``(buf, end)``: ``buf[:end]`` is one or more whole lines, each ending in ``\\n``.

    At least :data:`SLACK` bytes follow ``end`` in ``buf`` (their content is undefined).  The buffer
    is reused: the consumer must be done with it (and with numpy views of it) before asking for
    the next block.  Short reads (pipes) are gathered until the buffer is mostly full.  A last line
    without a newline gets one.
    """
    if isinstance(source, ParallelBgzf):
        yield from source.line_blocks(block_size)
        return
    buf, end = bytearray(block_size + SLACK), 0
    while True:
        room = len(buf) - SLACK
        if room - end < block_size // 2:  # a line longer than the buffer: grow it
            bigger = bytearray(2 * room + SLACK)
            bigger[:end] = buf[:end]
            buf, room = bigger, 2 * room
        eof, error = False, None
        while room - end > block_size // 4:
            try:
                n = source.read_into(buf, end, room - end)
            except ReadError as exc:  # hand over the whole lines read before the damage, then report it
                n, error = 0, exc
            if n == 0:
                eof = True
                break
            end += n
        cut = buf.rfind(b"\n", 0, end) + 1
        if error is not None:
            if cut:
                yield buf, cut
            raise error
        if eof:
            if end > cut:  # the last line has no newline
                final = bytearray(buf[:end]) + b"\n" + bytes(SLACK)
                yield final, end + 1
            elif end:
                yield buf, end
            return
        if cut == 0:
            continue
        yield buf, cut
        buf[: end - cut] = buf[cut:end]
        end -= cut
