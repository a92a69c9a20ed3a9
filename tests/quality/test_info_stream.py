"""The streamed reader of large info VCFs (inflated in process, split at ';') gives the general reader's
numbers for every file: chunk boundaries, headers longer than a chunk, rows in other shapes, damaged data."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedimpute.bgzf import BgzfWriter
from fedimpute.exceptions import UsageError
from fedimpute.quality import describe_file, info_stream, native_scan, quality_details, summarize_info_files
from tests.quality.expected import assert_same_as_bcftools
from tests.quality.files import MINIMAC4_HEADER, MIS2_HEADER

CHUNK = 256 * 1024  # the smallest chunk ParallelBgzf fills: a few thousand lines, so files span many


@pytest.fixture(params=["C", "DuckDB"])
def streamed(request, monkeypatch):
    """Small files and small chunks take the streamed reader, its chunks read by the C scanner or by DuckDB
    split at ';'; ``calls`` counts files streamed and chunks read the general way."""
    if request.param == "C":
        assert native_scan.scanner() is not None, "no C compiler: install gcc (build-essential)"
    else:
        monkeypatch.setenv("FEDIMPUTE_NATIVE", "0")
    monkeypatch.setattr(info_stream, "MIN_BYTES", 0)
    monkeypatch.setattr(info_stream, "CHUNK_BYTES", CHUNK)
    calls = {"general": 0, "stream": 0}
    general, stream = info_stream._general_sql, info_stream.stream_partials

    def counting_general(*args, **kwargs):
        calls["general"] += 1
        return general(*args, **kwargs)

    def counting_stream(*args, **kwargs):
        done = stream(*args, **kwargs)
        calls["stream"] += done
        return done

    monkeypatch.setattr(info_stream, "_general_sql", counting_general)
    monkeypatch.setattr("fedimpute.quality.summary.stream_partials", counting_stream)
    calls["reader"] = request.param
    return calls


def _info(i: int) -> str:
    """minimac4 4.x INFO with varied values: exact R² (multiples of 1/64), MAF in every bin, some missing."""
    af = [0.0004, 0.002, 0.007, 0.03, 0.2, 0.5, 0.93, 0.99995][i % 8]
    maf = "." if i % 97 == 0 else repr(min(af, 1 - af))
    r2 = "." if i % 89 == 0 else repr((i * 37 % 65) / 64)
    entries = [f"AF={af}", f"MAF={maf}", f"AVG_CS=0.9{i % 10}", f"R2={r2}"]
    if i % 50 == 7:
        return ";".join([*entries, "ER2=0.5", "TYPED", "IMPUTED"])
    return ";".join([*entries, "IMPUTED"])


def _write(path: Path, records: list[str], *, header: str = MINIMAC4_HEADER, extra: int = 0) -> Path:
    """A BGZF sites-only VCF; ``extra`` contig lines make the header as long as wanted."""
    lines = ["##fileformat=VCFv4.2", *(f"##contig=<ID=chrUn_{i},length=1000>" for i in range(extra)), header]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    with BgzfWriter(path) as w:
        w.write(("\n".join([*lines, *records]) + "\n").encode())
    return path


def _records(n: int, start: int = 0, chrom: str = "chr20") -> list[str]:
    return [f"{chrom}\t{1000 + i}\t{chrom}:{1000 + i}:A:G\tA\tG\t.\t.\t{_info(i)}" for i in range(start, start + n)]


def _assert_same(got: dict, want: dict) -> None:
    """Counts and fractions exactly, means to the last bits (sums run in another order)."""
    assert got["variants"] == want["variants"]
    pairs = list(zip(got["bins"], want["bins"], strict=True))
    pairs += list(zip(got["chromosomes"], want["chromosomes"], strict=True))
    for g in ("by_status", "chromosome_bins"):
        for a, b in zip(got.get(g, []), want.get(g, []), strict=True):
            pairs += [(a, b)] + list(zip(a.get("bins", []), b.get("bins", []), strict=True))
    for a, b in pairs:
        assert a.keys() == b.keys()
        for key, value in a.items():
            if key == "mean_r2" and value is not None:
                both_nan = math.isnan(value) and math.isnan(b[key])  # an R2 of 'nan' in the file
                assert both_nan or math.isclose(value, b[key], rel_tol=1e-12), (a, b)
            elif key != "bins":
                assert value == b[key], (key, a, b)


def _both(path: Path, details: bool = False) -> tuple[dict, dict]:
    read = quality_details if details else summarize_info_files
    return read([path]), read([path], strategy="duckdb")


@pytest.mark.parametrize("details", [False, True])
def test_stream__many_chunks_give_the_general_numbers(tmp_path, streamed, details):
    """20,000 records (about ten chunks, lines cut at every boundary) with typed sites and missing values."""
    path = _write(tmp_path / "chr20.info.gz", _records(20_000))
    assert describe_file(path).info_keys == ("AF", "MAF", "AVG_CS", "R2", "IMPUTED")
    ours, general = _both(path, details)
    assert (streamed["general"], streamed["stream"]) == (0, 1)  # every chunk in the expected shape
    _assert_same(ours, general)
    assert ours["variants"] == 20_000 - len(range(0, 20_000, 89))
    if details:
        typed = {s["status"]: s["n"] for s in ours["by_status"]}["typed"]
        assert typed == sum(1 for i in range(20_000) if i % 50 == 7 and i % 89)


def test_stream__bins_equal_bcftools_query(tmp_path, streamed):
    """The acceptance check of the general reader, on the streamed one: bins as bcftools reads them."""
    path = _write(tmp_path / "chr20.info.gz", _records(12_000))
    assert_same_as_bcftools(summarize_info_files([path]), path, min_variants=10_000)
    assert streamed["stream"] == 1


def test_stream__header_longer_than_a_chunk(tmp_path, streamed):
    """The header's lines are skipped across chunk boundaries (real files carry thousands of contigs)."""
    path = _write(tmp_path / "chr20.info.gz", _records(5_000), extra=12_000)
    assert describe_file(path).header_lines > 12_000
    ours, general = _both(path)
    assert (streamed["general"], streamed["stream"]) == (0, 1)
    _assert_same(ours, general)


#: Rows the fast readers must not misread: the chunk holding one is read again the general way (the C
#: scanner, which splits at tabs first and has no column limit, takes the first three and the last).
ODD_ROWS = [
    "chr20\t9000001\trs1;rs2\tA\tG\t.\t.\tAF=0.2;MAF=0.2;AVG_CS=1;R2=0.5;IMPUTED",  # ';' in ID
    "chr20\t9000002\tx;MAF=0.4;y;R2=1\tA\tG\t.\t.\tAF=0.1;MAF=0.1;AVG_CS=1;R2=0.25;IMPUTED",  # look-alike ID
    "chr20\t9000003\t.\tA\tG\t.\tq10;s50\tAF=0.3;MAF=0.3;AVG_CS=1;R2=0.75;IMPUTED",  # ';' in FILTER
    "chr20\t9000004\t.\tA\tG\t.\t.\tR2=0.125;AF=0.01;MAF=0.01;TYPED_ONLY",  # another order
    "chr20\t9000005\t.\tA\tG\t.\t.\tAF=0.1;AVG_CS=1;R2=0.5;IMPUTED",  # no MAF
    "chr20\t9000006\t.\tA\tG\t.\t.\tAF=0.1,0.2;MAF=0.1,0.2;AVG_CS=1;R2=0.5,0.25;IMPUTED",  # lists
    "chr20\t9000007\t.\tA\tG\t.\t.\tTYPED;AF=0.4;MAF=0.4;AVG_CS=1;R2=0.5",  # a flag first
    "chr20\t9000008\t.\tA\tG\t.\t.\tAF=0.1;MAF=0.1;AVG_CS=1;R2=0.5;" + ";".join(f"K{i}=1" for i in range(30)),
]


@pytest.mark.parametrize("row", range(len(ODD_ROWS)))
@pytest.mark.parametrize("where", ["first chunk", "later chunk"])
def test_stream__rows_in_other_shapes_give_the_general_numbers(tmp_path, streamed, row, where):
    records = _records(8_000)
    records.insert(10 if where == "first chunk" else 6_000, ODD_ROWS[row])
    path = _write(tmp_path / "chr20.info.gz", records)
    for details in (False, True):
        ours, general = _both(path, details)
        _assert_same(ours, general)
    taken = streamed["reader"] == "C" and row in (0, 1, 2, len(ODD_ROWS) - 1)
    assert streamed["stream"] == 2 and (streamed["general"] == 0 if taken else streamed["general"] >= 2)


def test_stream__other_chromosomes_and_flags_of_minimac4_1(tmp_path, streamed):
    """Michigan 2's minimac4 1.x flags (TYPED, TYPED_ONLY, IMPUTED) and a file of several chromosomes:
    only a chunk where the chromosome changes is read the general way."""
    records = []
    for k, chrom in enumerate(["chr1", "chrUn_KI270302v1", "chrX"]):  # '_' is no wildcard here
        for i in range(10_000):
            n = k * 10_000 + i
            flag = "TYPED_ONLY" if n % 41 == 0 else "ER2=0.9;TYPED" if n % 13 == 0 else "IMPUTED"
            info = f"AF=0.{n % 9 + 1};MAF=0.{min(n % 9 + 1, 9 - n % 9)};R2={(n % 9) / 8};{flag}"
            records.append(f"{chrom}\t{1000 + i}\t.\tA\tG\t.\tPASS\t{info}")
    path = _write(tmp_path / "all.info.gz", records, header=MIS2_HEADER)
    assert path.stat().st_size > 0 and len("\n".join(records)) > 6 * CHUNK  # seven chunks or more
    ours, general = _both(path, details=True)
    assert streamed["stream"] == 1 and streamed["general"] <= 2
    _assert_same(ours, general)
    assert [c["chromosome"] for c in ours["chromosomes"]] == ["1", "X", "Un_KI270302v1"]
    assert {s["status"] for s in ours["by_status"]} == {"typed", "imputed"}


def test_stream__plain_gzip_is_left_to_the_general_reader(tmp_path, streamed):
    import gzip

    bgzf = _write(tmp_path / "bgzf.vcf.gz", _records(3_000))
    path = tmp_path / "chr20.info.gz"
    path.write_bytes(gzip.compress(gzip.decompress(bgzf.read_bytes())))
    ours, general = _both(path)
    assert (streamed["general"], streamed["stream"]) == (0, 0)
    _assert_same(ours, general)


def test_stream__damaged_block_is_reported_by_the_general_reader(tmp_path, streamed):
    """A corrupt block halfway: no numbers, a one-line error naming the file, and no thread left behind."""
    path = _write(tmp_path / "chr20.info.gz", _records(20_000))
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(UsageError, match="chr20.info.gz"):
        summarize_info_files([path])
    assert streamed["stream"] == 0
    assert not [t for t in threading.enumerate() if t.name == "fedimpute-inflate"]


def test_stream__malformed_row_fails_as_in_the_general_reader(tmp_path, streamed):
    """A record cut short in a later chunk: the general reader's error, and the inflating thread stops."""
    records = _records(8_000)
    records.insert(6_000, "chr20\t123\t.\tA")
    path = _write(tmp_path / "chr20.info.gz", records)
    with pytest.raises(UsageError, match="chr20.info.gz") as stream_error:
        summarize_info_files([path])
    with pytest.raises(UsageError) as general_error:
        summarize_info_files([path], strategy="duckdb")
    assert "Original Line: chr20\t123\t.\tA" in str(stream_error.value)
    assert str(stream_error.value) == str(general_error.value)  # the file's own line number
    assert streamed["stream"] == 0
    assert not [t for t in threading.enumerate() if t.name == "fedimpute-inflate"]


#: Numbers spelled as VCF writers (and people) spell them, near the bin edges and R² thresholds.
NUMBERS = [
    "0.001", "0.0010", "1e-3", "1E-03", "0.00099999999999999998", "0.005", "5e-3", ".005", "0.01", "0.05",
    "0.5", "0.50", "5E-1", "0.3", "0.8", "0.29999999999999999", "0.30000000000000004", "0.7999999999999999",
    "1", "1.", "0", "-0", "+0.25", "-0.1", "00.125", "1e-400", "1e400", "0.1e-22", "123456789012345678",
    "nan", "inf", " 0.5", "0.5 ", "1_000", "0x1", ".", "", "0.1,0.2", "e5", "-", "0.25e+1",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(
        st.tuples(
            st.sampled_from(NUMBERS) | st.floats(0, 1).map(repr),
            st.sampled_from(NUMBERS) | st.floats(0, 1).map(lambda x: f"{x:.6g}"),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_stream__any_spelling_of_the_numbers_gives_the_general_numbers(tmp_path, streamed, values):
    """Whatever the MAF and R2 texts, the streamed reader reads them as DuckDB's cast does (or leaves the
    chunk to the general reader)."""
    records = _records(40)
    for i, (maf, r2) in enumerate(values):
        records.append(f"chr20\t{9000 + i}\t.\tA\tG\t.\t.\tAF=0.1;MAF={maf};AVG_CS=1;R2={r2};IMPUTED")
    path = _write(tmp_path / f"chr20-{len(list(tmp_path.iterdir()))}.info.gz", records)
    ours, general = _both(path)
    _assert_same(ours, general)
