"""Writing BGZF, the blocked gzip that tabix and imputation servers require.

A BGZF file is a series of gzip members of at most 64 KiB of input each, every member
carrying its own compressed size in a ``BC`` extra field, followed by an empty EOF
block.  Any gzip reader can read it; plain gzip output is *not* BGZF and servers
reject it ("the compression of 'x.vcf.gz' is not BGZF").
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

__all__ = ["BGZF_EOF", "BgzfWriter", "is_bgzf"]

#: The 28-byte empty block that ends every BGZF file.
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_BLOCK_INPUT = 0xFF00  # leaves room for incompressible data within the 64 KiB block limit
_MAGIC = b"\x1f\x8b\x08\x04"


def _block(data: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    payload = compressor.compress(data) + compressor.flush()
    bsize = len(payload) + 25  # header 18 + payload + crc 4 + isize 4, minus 1
    header = _MAGIC + b"\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00" + struct.pack("<H", bsize)
    return header + payload + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data))


class BgzfWriter:
    """``with BgzfWriter(path) as w: w.write(b"...")`` writes a valid BGZF file."""

    def __init__(self, target: str | Path | BinaryIO, *, level: int = 6) -> None:
        self._own = isinstance(target, (str, os.PathLike))
        self._fh: BinaryIO = open(target, "wb") if isinstance(target, (str, os.PathLike)) else target  # noqa: SIM115
        self._buf = bytearray()
        self._level = level

    def write(self, data: bytes | str) -> int:
        if isinstance(data, str):
            data = data.encode()
        self._buf += data
        while len(self._buf) >= _BLOCK_INPUT:
            self._fh.write(_block(bytes(self._buf[:_BLOCK_INPUT]), self._level))
            del self._buf[:_BLOCK_INPUT]
        return len(data)

    def close(self) -> None:
        if self._buf:
            self._fh.write(_block(bytes(self._buf), self._level))
            self._buf.clear()
        self._fh.write(BGZF_EOF)
        if self._own:
            self._fh.close()

    def __enter__(self) -> BgzfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_bgzf(path: str | Path) -> bool:
    """True when the file starts with a BGZF block header (gzip with the ``BC`` extra field)."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    return len(head) == 18 and head[:4] == _MAGIC and head[12:14] == b"BC"
