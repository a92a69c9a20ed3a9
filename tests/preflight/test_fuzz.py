"""Random corruption of a good VCF never crashes the checker: a report, or a UsageError with a message."""

from __future__ import annotations

import gzip

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedimpute.bgzf import BgzfWriter
from fedimpute.exceptions import UsageError
from fedimpute.preflight import check_files
from tests.preflight.conftest import CORPUS

GOOD = gzip.decompress((CORPUS / "good_hg19_chr20.vcf.gz").read_bytes())
LINES = GOOD.split(b"\n")

byte_edits = st.lists(st.tuples(st.integers(0, len(GOOD)), st.integers(0, 4), st.binary(max_size=6)), max_size=8)
line_edits = st.lists(st.tuples(st.sampled_from(["drop", "dup", "swap", "cut", "spaces", "junk", "field"]),
                                st.integers(0, len(LINES) - 1), st.binary(max_size=12)), max_size=6)


def _apply_bytes(data: bytes, edits) -> bytes:
    out = bytearray(data)
    for at, remove, insert in edits:
        at = min(at, len(out))
        out[at:at + remove] = insert
    return bytes(out)


def _apply_lines(edits) -> bytes:
    lines = list(LINES)
    for op, i, junk in edits:
        i %= max(len(lines), 1)
        if not lines:
            break
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = (i * 7 + 3) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cut":
            lines[i] = lines[i][: len(junk) * 3]
        elif op == "spaces":
            lines[i] = lines[i].replace(b"\t", b" ")
        elif op == "junk":
            lines.insert(i, junk)
        else:
            fields = lines[i].split(b"\t")
            fields[len(junk) % len(fields)] = junk
            lines[i] = b"\t".join(fields)
    return b"\n".join(lines)


def _assert_checked(path) -> None:
    try:
        report = check_files([path], build="auto")
    except UsageError as exc:
        assert str(exc)
        return
    (f,) = report.files
    assert f.checks, "no verdict at all"
    for c in f.checks:
        assert c.message and "internal error" not in c.message, c.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=byte_edits, how=st.sampled_from(["bgzf", "gzip", "plain"]))
def test_check_files__survives_byte_corruption(tmp_path, edits, how):
    path = tmp_path / "fuzz.vcf.gz"
    _write_bytes(path, _apply_bytes(GOOD, edits), how)
    _assert_checked(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=line_edits, how=st.sampled_from(["bgzf", "plain"]))
def test_check_files__survives_line_corruption(tmp_path, edits, how):
    path = tmp_path / "fuzz.vcf.gz"
    _write_bytes(path, _apply_lines(edits), how)
    _assert_checked(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len((CORPUS / "good_hg19_chr20.vcf.gz").read_bytes())),
       edits=st.lists(st.tuples(st.integers(0, 1200), st.integers(0, 255)), max_size=4))
def test_check_files__survives_compressed_corruption(tmp_path, cut, edits):
    data = bytearray((CORPUS / "good_hg19_chr20.vcf.gz").read_bytes()[:cut] or b"\x1f")
    for at, value in edits:
        data[at % len(data)] = value
    path = tmp_path / "fuzz.vcf.gz"
    path.write_bytes(bytes(data))
    _assert_checked(path)


def _write_bytes(path, data: bytes, how: str) -> None:
    if how == "plain":
        path.write_bytes(data)
    elif how == "gzip":
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        with BgzfWriter(path) as fh:
            fh.write(data)
