"""The block scanner's counts equal a plain per-call Python reading of the same text.

The fast path (numpy over whole blocks of ``a/b`` lines) and the careful path (one line at a
time) must agree with each other and with this reference, whatever the mix of line shapes and
wherever the block boundaries fall.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedimpute.preflight import runner
from fedimpute.preflight.checks import Options
from fedimpute.preflight.reader import line_blocks
from tests.preflight.conftest import CORPUS, vcf_text, write

DIPLOID = ["0/0", "0/1", "1/1", "./.", "0|1", "1|0", "./1", ".|."]
HAPLOID = ["0", "1", "."]


@st.composite
def vcfs(draw):
    """Small VCF texts mixing fixed-width lines, haploid calls, GT:DP, long INFO, indels and duplicates."""
    n = draw(st.integers(1, 9))
    chrom = draw(st.sampled_from(["20", "X"]))
    pos, lines = 2_700_000, []
    for i in range(draw(st.integers(1, 30))):
        pos += draw(st.sampled_from([0, 1, 500, 20_000_000]))
        ref, alt = draw(st.sampled_from([("A", "C"), ("G", "T"), ("A", "A"), ("A", "C,G"), ("AT", "A"), ("C", "N")]))
        haploid = draw(st.booleans()) and draw(st.booleans())
        calls = [draw(st.sampled_from(HAPLOID if haploid and draw(st.booleans()) else DIPLOID)) for _ in range(n)]
        fmt = draw(st.sampled_from(["GT", "GT", "GT:DP"]))
        if fmt == "GT:DP":
            calls = [f"{c}:7" for c in calls]
        info = draw(st.sampled_from([".", "AF=0.1", "X=" + "y" * draw(st.integers(60, 1500))]))
        lines.append("\t".join([chrom, str(pos), f"rs{i}", ref, alt, ".", "PASS", info, fmt, *calls]))
    return vcf_text(lines, n, contig=None), n


def reference(text: str, n: int) -> dict:
    out = dict(records=0, duplicates=0, monomorphic=0, low=0, unphased=False, multi=0, nonsnp=0, refalt=0)
    nocall, last = np.zeros(n, np.int64), None
    hap, dip, mixed, x_rows = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64), 0
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        pos, ref, alt = int(f[1]), f[3], f[4]
        gts = [c.split(":")[0] for c in f[9:]]
        alleles = [re.split("[/|]", g) for g in gts]
        out["records"] += 1
        out["unphased"] |= any("/" in g for g in gts)
        if f[0] == "X" and 2_699_520 <= pos <= 154_931_044:
            x_rows += 1
            for i, a in enumerate(alleles):
                hap[i] += len(a) == 1
                dip[i] += len(a) == 2
                mixed[i] += len(a) == 2 and (a[0] == ".") != (a[1] == ".")
        if "," in alt:
            out["multi"] += 1
            continue
        if ref == alt:
            out["refalt"] += 1
            continue
        if not (len(ref) == len(alt) == 1 and ref in "ACGT" and alt in "ACGT"):
            out["nonsnp"] += 1
            continue
        if pos == last:
            out["duplicates"] += 1
            continue
        last = pos
        if n > 1 and not any(x not in (".", "0") for a in alleles for x in a):
            out["monomorphic"] += 1
            continue
        missing = [i for i, a in enumerate(alleles) if all(x == "." for x in a)]
        if len(missing) > 0.1 * n:
            out["low"] += 1
            continue
        nocall[missing] += 1
    return dict(out, nocall=nocall.tolist(), x=(x_rows, hap.tolist(), dip.tolist(), mixed.tolist()))


def scanned(path: Path, monkeypatch, block_size: int):
    monkeypatch.setattr(runner, "line_blocks", partial(line_blocks, block_size=block_size))
    scan = runner.scan_file(path, Options(build="hg19"), None).scan
    nocall = sum(scan.chunk_nocall.values(), np.zeros(scan.n, np.int64))
    x = (scan.x_rows, scan.x_haploid.tolist(), scan.x_diploid.tolist(), scan.x_mixed.tolist()) if scan.x_rows else None
    return dict(records=scan.records, duplicates=scan.duplicates, monomorphic=scan.monomorphic,
                low=scan.low_call_rate, unphased=scan.unphased_rows > 0, multi=scan.kinds[1], nonsnp=scan.kinds[2]
                + scan.kinds[3], refalt=scan.kinds[4], nocall=nocall.tolist(), x=x)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=vcfs(), block_size=st.sampled_from([64, 300, 4096, 1 << 20]), how=st.sampled_from(["bgzf", "plain"]))
def test_scan__counts_match_a_per_call_reading(tmp_path, monkeypatch, case, block_size, how):
    text, n = case
    path = write(tmp_path / "case.vcf.gz", text, how)
    expected = reference(text, n)
    got = scanned(path, monkeypatch, block_size)
    if got["x"] is None:
        expected["x"] = None if expected["x"][0] == 0 else expected["x"]
    assert got == expected


@pytest.mark.parametrize("reader", ["libdeflate", "hts", "bgzip", "zlib", "gzip"])
def test_scan__every_decoder_gives_the_same_report(tmp_path, monkeypatch, reader):
    """Decoders differ in speed only; the small block size makes each of them cross many blocks."""
    monkeypatch.setattr(runner, "line_blocks", partial(line_blocks, block_size=4096))
    baseline = runner.check_files([CORPUS / "wgs_density.vcf.gz"]).to_json()
    monkeypatch.setenv("FEDIMPUTE_PREFLIGHT_READER", reader)
    assert runner.check_files([CORPUS / "wgs_density.vcf.gz"]).to_json() == baseline


@pytest.mark.parametrize("chrom_split", [False, True])
def test_scan__two_processes_give_the_same_report(tmp_path, monkeypatch, chrom_split):
    """Large files are scanned in two halves by forked workers; the merged report equals one pass."""
    import random

    from tests.preflight.conftest import random_vcf

    text = random_vcf(random.Random(5), samples=40, records=4000, missing=0.05)
    if chrom_split:  # a second chromosome after the middle, and an out-of-order record
        lines = text.splitlines()
        lines[2500:] = [line.replace("20\t", "21\t", 1) for line in lines[2500:]]
        lines[3000], lines[3001] = lines[3001], lines[3000]
        text = "\n".join(lines) + "\n"
    path = write(tmp_path / "big.vcf.gz", text)
    monkeypatch.setenv("FEDIMPUTE_PREFLIGHT_WORKERS", "1")
    single = runner.check_files([path], build="hg19").to_json()
    monkeypatch.setenv("FEDIMPUTE_PREFLIGHT_WORKERS", "2")
    monkeypatch.setattr(runner, "_parallel", lambda kind: kind.compression == "bgzf")  # whatever the load
    calls = []
    real = runner._scan_parallel
    monkeypatch.setattr(runner, "_scan_parallel", lambda *a: calls.append(real(*a)) or calls[-1])
    assert runner.check_files([path], build="hg19").to_json() == single
    assert calls == [True], "the parallel path was not taken"


def test_parallel__only_for_large_bgzf_files_with_two_cores(monkeypatch):
    from fedimpute.preflight.reader import FileKind

    monkeypatch.delenv("FEDIMPUTE_PREFLIGHT_WORKERS", raising=False)
    monkeypatch.delenv("FEDIMPUTE_PREFLIGHT_READER", raising=False)
    monkeypatch.setattr(runner.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    threads = [1]  # a single-threaded process (the suite's own process may run helper threads by now)
    monkeypatch.setattr(runner.threading, "active_count", lambda: threads[0])
    big = FileKind("bgzf", runner.PARALLEL_MIN_BYTES, bgzf_eof=True)
    assert runner._parallel(big)
    threads[0] = 2  # a process with threads never forks workers
    assert not runner._parallel(big)
    threads[0] = 1
    assert not runner._parallel(FileKind("bgzf", 1000, bgzf_eof=True))
    assert not runner._parallel(FileKind("gzip", runner.PARALLEL_MIN_BYTES))
    monkeypatch.setenv("FEDIMPUTE_PREFLIGHT_WORKERS", "1")
    assert not runner._parallel(big)
    monkeypatch.delenv("FEDIMPUTE_PREFLIGHT_WORKERS")
    monkeypatch.setattr(runner.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert not runner._parallel(big)
