"""Our BGZF writer produces files gzip reads back and that carry BGZF block headers."""

from __future__ import annotations

import gzip
import os

from fedimpute.bgzf import BGZF_EOF, BgzfWriter, is_bgzf


def test_bgzf__round_trip_over_many_blocks(tmp_path):
    data = os.urandom(50_000) * 5 + b"tail\n"
    path = tmp_path / "x.gz"
    with BgzfWriter(path) as w:
        w.write(data[:1000])
        w.write(data[1000:])
    assert gzip.decompress(path.read_bytes()) == data
    assert is_bgzf(path) and path.read_bytes().endswith(BGZF_EOF)


def test_bgzf__plain_gzip_is_not_bgzf(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(gzip.compress(b"hello"))
    assert not is_bgzf(path)
