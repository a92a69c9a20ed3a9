"""Partial sums of a large sites-only VCF (the minimac4 info VCF), read while it is decompressed.

Michigan 2 and TOPMed deliver ``chrN.info.gz`` as a sites-only VCF of 10 M+ records per chromosome,
and the summary needs three things from a record: CHROM, MAF and R2 (the flags too for details).
Measured on 10 M minimac4 sites (976 MB of text), 2 cores, CPU seconds (``benchmarks/quality.py``):
the general reader (``bgzip -dc`` to a staging file, DuckDB splitting INFO with string functions)
spends about 5.1; this reader about 2.5.

* The file is inflated in this process (:class:`~fedimpute.quality.bgzf_chunks.BgzfChunks`,
  libdeflate) in chunks of :data:`CHUNK_BYTES` of whole lines, each block straight into the memory
  of a small file (on tmpfs when there is room), by a thread one chunk ahead of the reading: no
  staging file of the whole text is written and read back, and inflating overlaps reading.
* A chunk is read by the C scanner (:mod:`~fedimpute.quality.native_scan`, about 0.06 s of CPU
  per 64 MB) where a C compiler could build it, else by DuckDB with each line split at ``;``, not
  at tabs, so that the CSV reader itself cuts INFO into entries (``c1`` is CHROM..FILTER plus the
  first entry, ``c2`` the second: ``MAF=0.29``): 0.2 s per 64 MB, 10% under the general reader.
  Both take MAF and R2 from the entries where the file's first record has them, under the
  conditions of the general reader's fast path.
* Both check every line for that shape (eight columns, the chunk's chromosome, ``TAG=`` at the
  expected entry, no list, a number they read exactly); a chunk with any other line is read again
  by the general reader (:func:`~fedimpute.quality.sources.vcf_sites_sql`), so the numbers are
  the general reader's for every file.  DuckDB split at ';' is given up for the whole file when
  its first chunk does not fit.

Anything this reader cannot take (no libdeflate, plain gzip instead of BGZF, MAF or R2 first in
INFO, a damaged block, a record DuckDB refuses) is left to the general reader, which reads the
whole file again and names the problem with the file's own line numbers.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import mmap
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from fedimpute.bgzf import is_bgzf
from fedimpute.preflight.inflate import libdeflate
from fedimpute.quality.bgzf_chunks import BgzfChunks
from fedimpute.quality.bins import bin_case_sql
from fedimpute.quality.formats import QualityFile
from fedimpute.quality.native_scan import BINS, scanner
from fedimpute.quality.sources import _lit, _typed, vcf_sites_sql

__all__ = ["CHUNK_BYTES", "MIN_BYTES", "partial_sums_sql", "stream_partials", "streamable"]

#: Text handed to DuckDB per query: large enough for DuckDB to use every core on it, small enough
#: that two of them in flight stay in memory (tmpfs) and the pipeline starts at once.
CHUNK_BYTES = 64 << 20
#: Compressed files smaller than this are read by DuckDB straight from the gzip (as before).
MIN_BYTES = 8 << 20
#: Columns declared for a line split at ';' beyond the first record's INFO entries (minimac4 adds
#: ER2 and TYPED on typed sites).  A line with more entries makes DuckDB refuse its chunk, which is
#: then read the general way; fewer columns make the flag tests cheaper.
_SPARE_COLUMNS = 4
_MIN_COLUMNS = 8
_TAB = "\t"
_SEVEN_TABS = "%" + "\t%" * 7
_SLOTS = 2  # chunk files: one being read, one being inflated


class _InflateError(Exception):
    """This reader gives up on the file (not BGZF after all, damaged, a record DuckDB refuses): the
    general reader reads it again and reports the problem with the file's own line numbers."""


def partial_sums_sql(sql: str, typed: bool, extra: str = "") -> str:
    """The partial sums of ``sql`` (a query with columns chrom, maf, r2, typed) per chrom x typed x bin."""
    return (
        f"SELECT chrom, {'typed' if typed else 'NULL::BOOLEAN'} AS typed, {bin_case_sql('maf')} AS bin, "
        f"count(r2), sum(r2), count_if(r2 >= 0.3), count_if(r2 >= 0.8){extra} FROM ({sql}) GROUP BY ALL"
    )


def _entry(tag: str, keys: tuple[str, ...]) -> int | None:
    """The column (2..) holding ``tag`` in a ';'-split line, where the first record has it; None when
    it is absent or the first entry (that one shares ``c1`` with CHROM..FILTER)."""
    index = keys.index(tag) + 1 if tag in keys else None
    return index if index is not None and index >= 2 else None


def _r2_tag(qf: QualityFile) -> str:
    return "R2" if "R2" in qf.info_tags else "DR2"


def streamable(qf: QualityFile, strategy: str) -> bool:
    """Whether this reader takes ``qf``: a large BGZF sites-only VCF with MAF and R2 after the first
    INFO entry, libdeflate installed, and the ``auto`` strategy (``duckdb`` means DuckDB alone)."""
    return (
        strategy == "auto"
        and qf.kind == "vcf"
        and not qf.has_samples
        and qf.gzipped
        and bool(qf.first_chrom)
        and "MAF" in qf.info_tags
        and _entry("MAF", qf.info_keys) is not None
        and _entry(_r2_tag(qf), qf.info_keys) is not None
        and qf.path.stat().st_size >= MIN_BYTES
        and libdeflate() is not None
        and is_bgzf(qf.path)
    )


def _columns(qf: QualityFile) -> int:
    return max(_MIN_COLUMNS, len(qf.info_keys) + _SPARE_COLUMNS)


def _flag_sql(columns: int) -> Callable[[str, str], str]:
    """The flag test of :func:`~fedimpute.quality.sources._typed` on a ';'-split line: some entry is
    the flag's name (the first entry is the end of ``c1``, after its last tab)."""

    def flag(pattern: str, literal: str) -> str:
        names = pattern.split("|")
        tests = [f"suffix(c1, {_lit(_TAB + name)})" for name in names]
        tests += [f"c{i} IN ({', '.join(map(_lit, names))})" for i in range(2, columns + 1)]
        return f"coalesce({' OR '.join(tests)}, false)"

    return flag


def chunk_sql(path: Path, qf: QualityFile, typed: bool, chrom: str, commas: bool = True) -> str:
    """Partial sums of one chunk (whole lines, no header) split at ';', all of chromosome ``chrom``
    (its first line's), with ``bad``: the rows not in the expected shape or of another chromosome
    (when it is not 0 the chunk is read again the general way).  ``commas``: the chunk holds a ','
    somewhere (else no entry can be a list, and that test is left out)."""
    n = _columns(qf)
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, n + 1))
    source = (
        f"read_csv({_lit(path)}, delim=';', header=false, quote='', escape='', auto_detect=false, "
        f"null_padding=true, columns={{{columns}}}, compression='none')"
    )
    # c1 is CHROM..FILTER and the first entry: this chromosome, all seven tabs (no ';' before INFO)
    fits = [f"prefix(c1, {_lit(chrom + _TAB)})", f"c1 LIKE {_lit(_SEVEN_TABS)}"]
    values = []
    for key, tag in (("maf", "MAF"), ("r2", _r2_tag(qf))):
        col = f"c{_entry(tag, qf.info_keys)}"
        values.append(f"TRY_CAST(substr({col}, {len(tag) + 2}) AS DOUBLE) AS {key}, {col} AS {key}_entry")
        # the general reader's fast path takes the entry under these conditions, its regexp otherwise
        # (a value that casts holds no ',': the list test runs on the others only)
        fits.append(f"prefix({key}_entry, {_lit(tag + '=')})")
        if commas:
            fits.append(f"({key} IS NOT NULL OR NOT contains({key}_entry, ','))")
    flags = _typed(qf.info_tags, _flag_sql(n)) if typed else "NULL::BOOLEAN"
    rows = f"SELECT c1, {', '.join(values)}, {flags} AS typed FROM {source}"
    return (
        f"SELECT {_lit(chrom)} AS chrom, typed, {bin_case_sql('maf')} AS bin, count(r2), sum(r2), "
        f"count_if(r2 >= 0.3), count_if(r2 >= 0.8), count_if(NOT coalesce({' AND '.join(fits)}, false)) AS bad "
        f"FROM ({rows}) GROUP BY typed, bin"
    )


def _general_sql(path: Path, qf: QualityFile, typed: bool) -> str:
    return partial_sums_sql(vcf_sites_sql(path, replace(qf, header_lines=0), gzipped=False), typed, ", 0")


def _scratch(chunk: int) -> str | None:
    """tmpfs when it has room for the chunks in flight (DuckDB reads them back from memory), else the
    default temporary folder."""
    shm = "/dev/shm"
    with contextlib.suppress(OSError):
        if os.path.isdir(shm) and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 4 * (_SLOTS + 1) * chunk:
            return shm
    return None


class _Chunks:
    """Whole-line text chunks of a BGZF file as files in ``folder``, inflated by a thread one or two
    chunks ahead of the reader; the header's lines are left out.  A chunk's file is rewritten in
    place for a later chunk (under a new name, so no reader confuses the two), sparing the allocation
    of fresh memory pages for every chunk."""

    def __init__(self, qf: QualityFile, folder: Path, chunk_bytes: int) -> None:
        self._qf, self._folder, self._bytes = qf, folder, chunk_bytes
        self._ready: queue.Queue[tuple[Path, bytes, bool, bool] | BaseException | None] = queue.Queue()
        self._free: queue.Queue[Path | None] = queue.Queue()
        for _ in range(_SLOTS):
            self._free.put(None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="fedimpute-inflate", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        try:
            inflater = BgzfChunks(self._qf.path, _InflateError, self._bytes, self._qf.header_lines)
            try:
                self._write_chunks(inflater)
            finally:
                inflater.close()
            self._ready.put(None)
        except BaseException as exc:  # handed to the reading thread, which decides
            self._ready.put(exc)

    def _write_chunks(self, inflater: BgzfChunks) -> None:
        for number in itertools.count():
            spare = self._free.get()
            if self._stop.is_set():
                return
            path = self._folder / f"chunk-{number}.txt"
            if spare is not None:
                spare.rename(path)
            if not inflater.fill(path):
                return
            chrom = inflater.head.split(b"\n", 1)[0].split(b"\t", 1)[0]
            self._ready.put((path, chrom, inflater.commas, inflater.returns))

    def __iter__(self) -> Iterator[tuple[Path, bytes, bool, bool]]:
        """(file, chromosome of its first line, whether it holds a ',', a '\\r') of each chunk, in order."""
        while (item := self._ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
            self._free.put(item[0])

    def close(self) -> None:
        self._stop.set()
        self._free.put(None)  # wakes the thread if it waits for a free chunk
        self._thread.join()


def _add(totals: dict[tuple[Any, ...], list[Any]], rows: list[tuple[Any, ...]]) -> None:
    for chrom, typed, bin_, n, r2_sum, ge3, ge8, _bad in rows:
        got = totals.setdefault((chrom, typed, bin_), [0, None, 0, 0])
        got[0] += n or 0
        got[1] = r2_sum if got[1] is None else got[1] if r2_sum is None else got[1] + r2_sum
        got[2] += ge3 or 0  # DuckDB's count_if of nothing but NULLs is NULL
        got[3] += ge8 or 0


def _flag_args(qf: QualityFile, typed: bool) -> tuple[int, bytes, bytes]:
    """The typed test of :func:`~fedimpute.quality.sources._typed` for the C scanner."""
    tags = qf.info_tags
    if not typed:
        return 0, b"", b""
    if tags & {"TYPED", "TYPED_ONLY"}:
        return 1, b"TYPED", b"TYPED_ONLY"
    for name in ("IMPUTED", "IMP"):
        if name in tags:
            return 2, name.encode(), b""
    return 0, b"", b""


class _ChunkReader:
    """Partial sums of one chunk, by the fastest reader that takes it: the C scanner where it was
    built, else DuckDB split at ';' (given up for the file when its first chunk does not fit), and the
    general reader for a chunk neither takes."""

    def __init__(self, con: duckdb.DuckDBPyConnection, qf: QualityFile, typed: bool) -> None:
        self.con, self.qf, self.typed = con, qf, typed
        self.native = scanner()
        self.split: bool | None = None  # DuckDB split at ';' takes this file (decided by the first chunk)
        tag = _r2_tag(qf)
        self._args = (
            (_entry("MAF", qf.info_keys) or 0, b"MAF="),
            (_entry(tag, qf.info_keys) or 0, tag.encode() + b"="),
            _flag_args(qf, typed),
        )

    def rows(self, path: Path, chrom: bytes, commas: bool, returns: bool) -> list[tuple[Any, ...]]:
        name = chrom.decode(errors="replace")
        if self.native is not None:
            rows = self._native(path, chrom, name, commas, returns)
        else:
            rows = self._split(path, name, commas)
        if rows is None:
            try:
                rows = self.con.execute(_general_sql(path, self.qf, self.typed)).fetchall()
            except duckdb.Error as exc:  # the general reader over the whole file says where
                raise _InflateError(str(exc)) from exc
        return rows

    def _native(self, path: Path, chrom: bytes, name: str, commas: bool, returns: bool) -> list[tuple[Any, ...]] | None:
        assert self.native is not None
        with path.open("r+b") as fh, mmap.mmap(fh.fileno(), 0) as mm:
            pin = (ctypes.c_char * len(mm)).from_buffer(mm)
            try:
                address = ctypes.addressof(pin)
                got = self.native.scan(address, len(mm), chrom, *self._args, commas=commas, returns=returns)
            finally:
                del pin
        if got is None:
            return None
        states = (False, True, None)
        return [
            (name, states[state], None if bin_ == BINS - 1 else bin_, n, total if n else None, ge3, ge8, 0)
            for state, bin_, _rows, n, ge3, ge8, total in got
        ]

    def _split(self, path: Path, name: str, commas: bool) -> list[tuple[Any, ...]] | None:
        if self.split is False:
            return None
        rows: list[tuple[Any, ...]] = []
        with contextlib.suppress(duckdb.Error):  # e.g. more entries than columns
            rows = self.con.execute(chunk_sql(path, self.qf, self.typed, name, commas)).fetchall()
        ok = bool(rows) and not any(row[-1] for row in rows)
        self.split = ok if self.split is None else self.split
        return rows if ok else None


def _sums(con: duckdb.DuckDBPyConnection, qf: QualityFile, typed: bool) -> dict[tuple[Any, ...], list[Any]]:
    """Partial sums over all chunks; raises :class:`_InflateError` when this reader gives up."""
    totals: dict[tuple[Any, ...], list[Any]] = {}
    reader = _ChunkReader(con, qf, typed)
    with tempfile.TemporaryDirectory(prefix="fedimpute-quality-", dir=_scratch(CHUNK_BYTES)) as tmp:
        chunks = _Chunks(qf, Path(tmp), CHUNK_BYTES)
        try:
            for path, chrom, commas, returns in chunks:
                _add(totals, reader.rows(path, chrom, commas, returns))
        finally:
            chunks.close()
    return totals


def stream_partials(con: duckdb.DuckDBPyConnection, qf: QualityFile, label: str, *, typed: bool) -> bool:
    """Add ``qf``'s rows to table ``partials`` (see :func:`~fedimpute.quality.summary.aggregate_files`);
    False, with nothing added, when this reader gives up on the file (the general reader then reads it
    and reports what is wrong)."""
    try:
        totals = _sums(con, qf, typed)
    except _InflateError:
        return False
    con.executemany(
        "INSERT INTO partials VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [[label, *key, *values] for key, values in totals.items()],
    )
    return True
