"""The C scanner is built once with the system compiler, cached, and simply absent without one."""

from __future__ import annotations

import ctypes

from fedimpute.quality import native_scan


def _fresh(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(native_scan, "_loaded", {})


def test_scanner__built_once_into_the_cache_and_reused(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    first = native_scan.scanner()
    assert first is not None
    built = list((tmp_path / "cache" / "fedimpute").glob("infoscan-*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    monkeypatch.setattr(native_scan, "_loaded", {})  # a new process: loads the cached library
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    assert native_scan.scanner() is not None and built[0].stat().st_mtime_ns == stamp


def test_scanner__never_loads_a_library_others_could_replace(monkeypatch, tmp_path):
    """A cache folder (or library) writable by other users is refused: the slower reader is used."""
    _fresh(monkeypatch, tmp_path)
    assert native_scan.scanner() is not None
    folder = tmp_path / "cache" / "fedimpute"
    folder.chmod(0o777)
    monkeypatch.setattr(native_scan, "_loaded", {})
    try:
        assert native_scan.scanner() is None
    finally:
        folder.chmod(0o700)


def test_scanner__none_without_a_compiler_or_when_turned_off(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    assert native_scan.scanner() is None
    assert not list((tmp_path / "cache").rglob("*.so"))  # nothing half-built left behind
    _fresh(monkeypatch, tmp_path)
    monkeypatch.delenv("CC")
    monkeypatch.setenv("FEDIMPUTE_NATIVE", "0")
    assert native_scan.scanner() is None


def test_scanner__compiler_error_means_no_scanner(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    failing = tmp_path / "cc"
    failing.write_text("#!/bin/sh\necho 'cc: error' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setenv("CC", str(failing))
    assert native_scan.scanner() is None


def _scan(text: bytes, flags: tuple[int, bytes, bytes] = (0, b"", b"")):
    scanner = native_scan.scanner()
    assert scanner is not None
    buf = ctypes.create_string_buffer(text, len(text))
    return scanner.scan(ctypes.addressof(buf), len(text), b"chr1", (2, b"MAF="), (4, b"R2="), flags)


def test_scan__sums_per_bin_and_typed_state():
    lines = [
        "chr1\t1\t.\tA\tG\t.\t.\tAF=0.2;MAF=0.2;AVG_CS=1;R2=0.5;IMPUTED",
        "chr1\t2\t.\tA\tG\t.\t.\tAF=0.0005;MAF=0.0005;AVG_CS=1;R2=0.875;ER2=1;TYPED;IMPUTED",
        "chr1\t3\t.\tA\tG\t.\t.\tAF=0.2;MAF=.;AVG_CS=1;R2=0.25;IMPUTED",  # no MAF: in no bin
        "chr1\t4\t.\tA\tG\t.\t.\tAF=0.2;MAF=0.5;AVG_CS=1;R2=.;IMPUTED",  # no R2: a row, not counted
    ]
    got = _scan(("\n".join(lines) + "\n").encode(), (1, b"TYPED", b"TYPED_ONLY"))
    assert sorted(got) == [(0, 4, 2, 1, 1, 0, 0.5), (0, 5, 1, 1, 0, 0, 0.25), (1, 0, 1, 1, 1, 1, 0.875)]


def test_scan__refuses_what_it_cannot_read_exactly():
    good = b"chr1\t1\t.\tA\tG\t.\t.\tAF=0.2;MAF=0.2;AVG_CS=1;R2=0.5;IMPUTED\n"
    assert _scan(good) == [(2, 4, 1, 1, 1, 0, 0.5)]
    for bad in (
        good.replace(b"chr1", b"chr2"),  # another chromosome than the chunk's
        good.replace(b"\n", b"\r\n"),
        good.replace(b"IMPUTED", b"IMP\tUTED"),  # a ninth column
        good.replace(b"MAF=0.2", b"MAF=0.2,0.3"),  # a list
        good.replace(b"R2=0.5", b"R2=1_000"),  # DuckDB reads it; the scanner leaves it to DuckDB
        good.replace(b"R2=0.5", b"R2=0.30000000000000000000001"),  # too many digits to convert exactly
        good.replace(b"AVG_CS=1;R2=0.5", b"R2=0.5;AVG_CS=1"),  # R2 not where the first record has it
        b"\n",
    ):
        assert _scan(good + bad) is None, bad


def test_scan__does_not_read_past_the_buffer():
    """A last line without a newline ends at the buffer's end (the bytes after it are not read)."""
    line = b"chr1\t1\t.\tA\tG\t.\t.\tAF=0.2;MAF=0.2;AVG_CS=1;R2=0.5"
    buf = ctypes.create_string_buffer(line + b";IMPUTED,9999", len(line) + 13)
    scanner = native_scan.scanner()
    assert scanner is not None
    got = scanner.scan(ctypes.addressof(buf), len(line), b"chr1", (2, b"MAF="), (4, b"R2="), (0, b"", b""))
    assert got == [(2, 4, 1, 1, 1, 0, 0.5)]
