"""One streaming pass over the records of a VCF, gathering every count the checks need.

Speed comes from never splitting a line in Python when it has the common shape (``FORMAT`` is
``GT`` and every call is three bytes, ``0/1``): for a block of such lines numpy finds the line ends,
reads the first columns from a small window at the start of each line, and finds missing calls
(``.``) as byte positions, which map to (record, sample) by arithmetic because the calls sit at
fixed offsets.  Other lines go through :mod:`.genotypes` one at a time.  The counts follow the
server's QC (imputationserver-utils StatisticsTask): allele classes first, then duplicates,
FILTER, monomorphic sites, site call rate < 90%, and per-chunk sample call rate < 50%.
Two scans of consecutive parts of a file combine with :meth:`FileScan.merge`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from fedimpute.preflight.build import NON_PAR, canonical, is_chr_x
from fedimpute.preflight.genotypes import (
    INVALID,
    MALFORMED,
    MULTI,
    NONSNP,
    REFALT,
    SNP,
    RowGenotypes,
    analyse_genotypes,
    classify_alleles,
    genotype_text,
    parse_line,
)
from fedimpute.preflight.panel import PanelSites, compare_alleles

__all__ = ["CHUNK", "DENSITY_CHUNK", "FileScan"]

CHUNK = 20_000_000  # the server's QC chunk
DENSITY_CHUNK = 10_000_000  # the TOPMed validation chunk for the array-density rule
EXAMPLES = 3
_AR = np.arange(4096)
#: _DIGIT_WEIGHTS[n][j]: the place value of digit j of an n-digit number (0 past its end).
_DIGIT_WEIGHTS = np.array([[10 ** (n - 1 - j) if j < n else 0 for j in range(10)] for n in range(11)], np.int64)
_BASE = np.zeros(256, np.uint8)
for _i, _c in enumerate(b"ACGT"):
    _BASE[_c] = _BASE[_c + 32] = _i + 1


@dataclass
class _Block:
    """Per-record columns of one block; ``fixed`` marks lines whose calls are all ``a/b``."""

    starts: np.ndarray
    ends: np.ndarray
    chrom: np.ndarray
    pos: np.ndarray
    kind: np.ndarray
    passed: np.ndarray
    has_gt: np.ndarray
    fixed: np.ndarray
    gstart: np.ndarray
    ref: np.ndarray  # base codes 1-4 (A, C, G, T) of single-base REF/ALT, 0 otherwise
    alt: np.ndarray
    dots: np.ndarray = field(default_factory=lambda: _EMPTY)  # positions of every '.' in the block
    dot_rows: np.ndarray | None = None  # the record of each '.', when no blank line upsets the count
    ids: dict[int, bytes] = field(default_factory=dict)  # ids known from the slow path
    gts: dict[int, RowGenotypes] = field(default_factory=dict)  # genotypes of the non-fixed rows


@dataclass
class _Calls:
    """Genotype summaries of a block: per record, and missing/mixed calls of fixed rows as events."""

    nocall: np.ndarray
    has_alt: np.ndarray
    slash: np.ndarray
    pipe: np.ndarray
    miss_row: np.ndarray  # events: record index, sample index (no call)
    miss_sample: np.ndarray
    mixed_row: np.ndarray  # events: record index, sample index (one allele missing)
    mixed_sample: np.ndarray


class FileScan:
    """Counters for one file, fed block by block with :meth:`scan_block`."""

    def __init__(self, n_samples: int, *, par_build: str = "hg19", panel: PanelSites | None = None) -> None:
        self.n = n_samples
        self.width = 4 * n_samples - 1
        self.nonpar = NON_PAR.get(par_build, NON_PAR["hg19"])
        self.panel = panel
        self.chroms: list[str] = []
        self._chrom_ids: dict[bytes, int] = {}
        self.records = 0
        self.per_chrom: Counter[str] = Counter()
        self.max_pos: dict[str, int] = {}
        self.kinds: Counter[int] = Counter()
        self.filtered = self.duplicates = self.monomorphic = self.low_call_rate = 0
        self.no_gt = self.unphased_rows = self.phased_rows = 0
        self.unsorted = 0
        self.examples: dict[str, list[str]] = defaultdict(list)
        self.malformed: Counter[str] = Counter()
        self.first_refalt: tuple[str, str, str] | None = None  # (id, ref, alt) of the first REF == ALT
        self.density: Counter[tuple[int, int]] = Counter()  # (chrom, 10 Mb chunk) -> records
        self.chunk_all: Counter[tuple[int, int]] = Counter()  # (chrom, 20 Mb chunk) -> records
        self.chunk_valid: Counter[tuple[int, int]] = Counter()  # -> SNPs passing the site filters
        self.chunk_found: Counter[tuple[int, int]] = Counter()  # -> candidate SNPs in the panel
        self.chunk_missing_panel: Counter[tuple[int, int]] = Counter()  # -> candidate SNPs not in it
        self.chunk_nocall: dict[tuple[int, int], np.ndarray] = {}
        self.panel_counts: Counter[str] = Counter()
        self.x_rows = 0
        self.x_haploid = np.zeros(n_samples, np.int64)
        self.x_diploid = np.zeros(n_samples, np.int64)
        self.x_mixed = np.zeros(n_samples, np.int64)
        self._last: tuple[int, int] = (-1, 0)  # (chrom, pos) of the last record
        self._last_snp: tuple[int, int] = (-1, 0)
        self._first: tuple[int, int] | None = None  # (chrom, pos) of the first record, for merging
        self._first_snp: tuple[int, int] | None = None
        self._seen_order: list[int] = []
        self._mask = np.zeros(0, bool)
        self._x_ids: set[int] = set()
        self._bytes = np.zeros(0, np.uint8)

    # -- public -----------------------------------------------------------------------------

    def scan_block(self, buf: bytearray, start: int, end: int) -> None:
        """Account for the whole lines in ``buf[start:end]`` (``end`` is just after a newline)."""
        if end <= start:
            return
        a = np.frombuffer(buf, np.uint8)  # the whole buffer: at least SLACK bytes follow ``end``
        block = self._records(a, buf, start, end)
        if not len(block.pos):
            return
        calls = self._calls(a, buf, block, end)
        self._sites(buf, block, calls)

    def _scratch(self, size: int) -> np.ndarray:
        """A reused boolean buffer: fresh 2 MB arrays per block cost more than the comparisons."""
        if len(self._mask) < size:
            self._mask = np.empty(max(size, 2 * len(self._mask)), bool)
        return self._mask[:size]

    def example(self, key: str, text: str) -> None:
        if len(self.examples[key]) < EXAMPLES:
            self.examples[key].append(text)

    def merge(self, later: FileScan) -> FileScan:
        """Fold in the scan of the records that follow this one's (the second part of a split file)."""
        ids = [self._chrom_id(name.encode()) for name in later.chroms]
        self._boundary(later, ids)
        self.records += later.records
        self.per_chrom.update(later.per_chrom)
        self.kinds.update(later.kinds)
        self.malformed.update(later.malformed)
        self.panel_counts.update(later.panel_counts)
        for name, top in later.max_pos.items():
            self.max_pos[name] = max(self.max_pos.get(name, 0), top)
        for attr in ("filtered", "duplicates", "monomorphic", "low_call_rate", "no_gt", "unphased_rows",
                     "phased_rows", "unsorted", "x_rows"):
            setattr(self, attr, getattr(self, attr) + getattr(later, attr))
        self.x_haploid, self.x_diploid = self.x_haploid + later.x_haploid, self.x_diploid + later.x_diploid
        self.x_mixed = self.x_mixed + later.x_mixed
        for key, found in later.examples.items():
            self.examples[key] = (self.examples[key] + found)[:EXAMPLES]
        self.first_refalt = self.first_refalt or later.first_refalt
        for attr in ("density", "chunk_all", "chunk_valid", "chunk_found", "chunk_missing_panel"):
            counter = getattr(self, attr)
            for (cid, k), value in getattr(later, attr).items():
                counter[(ids[cid], k)] += value
        for (cid, k), nocall in later.chunk_nocall.items():
            at = (ids[cid], k)
            self.chunk_nocall[at] = self.chunk_nocall[at] + nocall if at in self.chunk_nocall else nocall
        self._seen_order += [ids[c] for c in later._seen_order if ids[c] not in self._seen_order]
        if later._last[0] >= 0:
            self._last = (ids[later._last[0]], later._last[1])
        if later._last_snp[0] >= 0:
            self._last_snp = (ids[later._last_snp[0]], later._last_snp[1])
        return self

    def _boundary(self, later: FileScan, ids: list[int]) -> None:
        """Order and duplicates across the seam between two parts."""
        if later._first is not None and self._last[0] >= 0:
            cid, pos = ids[later._first[0]], later._first[1]
            if cid == self._last[0] and pos < self._last[1]:
                self.unsorted += 1
                self.example("unsorted", f"{self.chroms[cid]}:{pos:,} after {self.chroms[cid]}:{self._last[1]:,}")
            elif cid != self._last[0] and cid in self._seen_order:
                self.unsorted += 1
                self.example("unsorted", f"{self.chroms[cid]} appears again after {self.chroms[self._last[0]]}")
        first_snp = later._first_snp
        if first_snp is not None and self._last_snp[0] >= 0 and (ids[first_snp[0]], first_snp[1]) == self._last_snp:
            self.duplicates += 1

    def release(self) -> FileScan:
        """Drop the scratch buffers and the panel before the scan is sent to another process."""
        self._mask, self._bytes, self.panel = np.zeros(0, bool), np.zeros(0, np.uint8), None
        return self

    # -- records: the first columns ----------------------------------------------------------

    def _records(self, a: np.ndarray, buf: bytearray, start: int, end: int) -> _Block:
        ends, dots, rows = self._newlines_and_dots(a, start, end)
        dot_rows: np.ndarray | None = rows
        starts = np.empty_like(ends)
        starts[0] = start
        starts[1:] = ends[:-1] + 1
        lengths = ends - starts
        nonblank = lengths > 0
        if not nonblank.all():
            starts, ends, lengths = starts[nonblank], ends[nonblank], lengths[nonblank]
            dot_rows = None  # blank lines shift the numbering: map the dots by search instead
        count = len(starts)
        need = 9 if self.n else 7
        tabs, ok = _tab_offsets(a, starts, lengths, need)
        ok &= a[starts] != 35  # a '#' line among the records
        block = _Block(starts=starts, ends=ends, chrom=np.zeros(count, np.int32), pos=np.zeros(count, np.int64),
                       kind=np.full(count, MALFORMED, np.uint8), passed=np.ones(count, bool),
                       has_gt=np.zeros(count, bool), fixed=np.zeros(count, bool), gstart=np.zeros(count, np.int64),
                       ref=np.zeros(count, np.uint8), alt=np.zeros(count, np.uint8), dots=dots,
                       dot_rows=dot_rows)
        rows = np.flatnonzero(ok)
        if len(rows):
            ok[rows] = self._fast_columns(a, buf, block, rows, tabs[rows], end)
        for i in np.flatnonzero(~ok):
            self._slow_record(buf, block, int(i))
        self._fill_malformed_chrom(block)
        return block

    def _newlines_and_dots(self, a: np.ndarray, start: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions of every newline and every '.' in one pass, and the line of each '.'.

        ``byte & 0xDB == 0x0A`` holds for '\\n' and '.' (and for '*' and 0x0E, sorted out after),
        so a single sparse ``nonzero`` finds both; counting the newlines before each '.' numbers its line.
        """
        size = end - start
        if len(self._bytes) < size:
            self._bytes = np.empty(max(size, 2 * len(self._bytes)), np.uint8)
        masked, hit = self._bytes[:size], self._scratch(size)
        np.bitwise_and(a[start:end], 0xDB, out=masked)
        np.equal(masked, 10, out=hit)
        found = np.flatnonzero(hit)
        found += start
        what = a[found]
        newline = what == 10
        dot = what == 46
        return found[newline], found[dot], np.cumsum(newline)[dot]

    def _fill_malformed_chrom(self, block: _Block) -> None:
        """Malformed lines take the chromosome of the line before them (their own may be garbage)."""
        bad = block.chrom < 0
        if not bad.any():
            return
        index = np.where(bad, -1, np.arange(len(bad)))
        np.maximum.accumulate(index, out=index)
        filled = np.where(index >= 0, block.chrom[np.maximum(index, 0)], self._last[0])
        block.chrom[:] = filled

    def _fast_columns(self, a: np.ndarray, buf: bytearray, block: _Block, rows: np.ndarray, t: np.ndarray,
                      end: int) -> np.ndarray:
        """Fill the columns of ``rows`` in bulk; returns which of them were handled (POS parsed)."""
        s = block.starts[rows]
        pos, pos_ok = _parse_pos(a, s, t)
        handled = pos_ok
        rows, s, t, pos = rows[pos_ok], s[pos_ok], t[pos_ok], pos[pos_ok]
        if not len(rows):
            return handled
        block.pos[rows] = pos
        block.chrom[rows] = self._chrom_column(a, buf, s, t[:, 0], end)
        block.kind[rows], block.ref[rows], block.alt[rows] = self._kinds(a, buf, s, t, end)
        flen = t[:, 6] - t[:, 5] - 1
        f0 = s + t[:, 5] + 1
        pass_word = _windows(a, f0, 4)
        block.passed[rows] = ((flen == 1) & (pass_word[:, 0] == 46)) | (
            (flen == 4) & (pass_word == np.frombuffer(b"PASS", np.uint8)).all(1))
        if not self.n:
            return handled
        fstart = s + t[:, 7] + 1
        fmt = _windows(a, fstart, 3)
        flen = t[:, 8] - t[:, 7] - 1
        gt_first = (fmt[:, 0] == 71) & (fmt[:, 1] == 84)
        gt_only = gt_first & (flen == 2)
        gstart = s + t[:, 8] + 1
        block.gstart[rows] = gstart
        block.has_gt[rows] = gt_only
        fixed = gt_only & (block.ends[rows] - gstart == self.width)
        block.fixed[rows] = fixed
        for j in np.flatnonzero(~fixed):  # GT:DS..., haploid calls, other FORMATs
            i = int(rows[j])
            section = bytes(buf[gstart[j]:block.ends[i]])
            text = section if gt_only[j] else genotype_text(section, bytes(buf[fstart[j]:fstart[j] + flen[j]]))
            self._row_genotypes(block, i, text)
        return handled

    def _chrom_column(self, a: np.ndarray, buf: bytearray, s: np.ndarray, clen: np.ndarray, end: int) -> np.ndarray:
        """Chromosome ids: one vectorised comparison with the first record's name, Python for the rest."""
        name = bytes(buf[s[0]:s[0] + clen[0]])
        same = clen == len(name)
        for j, byte in enumerate(name):
            same &= a[s + j] == byte
        ids = np.full(len(s), self._chrom_id(name), np.int32)
        for row in np.flatnonzero(~same):
            ids[row] = self._chrom_id(bytes(buf[s[row]:s[row] + clen[row]]))
        return ids

    def _kinds(self, a: np.ndarray, buf: bytearray, s: np.ndarray, t: np.ndarray,
               end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rlen, alen = t[:, 3] - t[:, 2] - 1, t[:, 4] - t[:, 3] - 1
        ref = _BASE[a[s + t[:, 2] + 1]]
        alt = _BASE[a[s + t[:, 3] + 1]]
        kind = np.full(len(s), NONSNP, np.uint8)
        single = (rlen == 1) & (alen == 1)
        bases = single & (ref > 0) & (alt > 0)
        kind[single & ~bases] = INVALID
        kind[bases] = SNP
        kind[bases & (ref == alt)] = REFALT
        for j in np.flatnonzero(~single):  # indels, multi-allelic and empty alleles: rare, done in Python
            r0, a0 = s[j] + t[j, 2] + 1, s[j] + t[j, 3] + 1
            kind[j] = classify_alleles(bytes(buf[r0:r0 + rlen[j]]), bytes(buf[a0:a0 + alen[j]]))
        return kind, np.where(single, ref, 0), np.where(single, alt, 0)

    def _slow_record(self, buf: bytearray, block: _Block, i: int) -> None:
        line = bytes(buf[block.starts[i]:block.ends[i]])
        record = parse_line(line, self.n)
        block.chrom[i] = -1 if record.problem else self._chrom_id(record.chrom)
        block.pos[i] = record.pos
        block.ids[i] = record.vid
        block.fixed[i] = False
        if record.problem is not None:
            block.kind[i] = MALFORMED
            self.malformed[record.problem] += 1
            self.example("malformed", f"line {record.chrom[:20].decode(errors='replace')}:{record.pos}: "
                                      f"{record.problem}")
            return
        block.kind[i] = record.kind
        block.passed[i] = record.passed
        if record.kind in (SNP, REFALT):
            block.ref[i], block.alt[i] = _BASE[record.ref[0]], _BASE[record.alt[0]]
        if record.gt is not None:
            self._row_genotypes(block, i, record.gt)

    def _row_genotypes(self, block: _Block, i: int, text: bytes | None) -> None:
        if text is None:
            return
        calls = analyse_genotypes(np.frombuffer(text, np.uint8), self.n)
        if calls is None:
            block.kind[i] = MALFORMED
            self.malformed["wrong number of genotype columns"] += 1
            columns = text.count(b"\t") + 1
            self.example("malformed", f"record at {block.pos[i]}: {columns} genotype columns instead of {self.n}")
            return
        block.has_gt[i] = True
        block.gts[i] = calls

    def _chrom_id(self, name: bytes) -> int:
        found = self._chrom_ids.get(name)
        if found is None:
            found = self._chrom_ids[name] = len(self.chroms)
            self.chroms.append(name.decode("utf-8", errors="replace"))
            if is_chr_x(self.chroms[-1]):
                self._x_ids.add(found)
        return found

    # -- genotypes -------------------------------------------------------------------------

    def _calls(self, a: np.ndarray, buf: bytearray, block: _Block, end: int) -> _Calls:
        count = len(block.pos)
        calls = _Calls(nocall=np.zeros(count, np.int64), has_alt=np.zeros(count, bool), slash=np.zeros(count, bool),
                       pipe=np.zeros(count, bool), miss_row=_EMPTY, miss_sample=_EMPTY, mixed_row=_EMPTY,
                       mixed_sample=_EMPTY)
        fixed = np.flatnonzero(block.fixed & (block.kind != MALFORMED))
        if len(fixed):
            self._fixed_calls(a, buf, block, fixed, calls, end)
        for i, row in block.gts.items():
            calls.nocall[i] = len(row.nocall)
            calls.has_alt[i], calls.slash[i], calls.pipe[i] = row.has_alt, row.slash, row.pipe
        return calls

    def _fixed_calls(self, a: np.ndarray, buf: bytearray, block: _Block, fixed: np.ndarray, calls: _Calls,
                     end: int) -> None:
        """Calls of ``a/b`` lines: '.' positions map to (record, sample) because calls sit 4 bytes apart."""
        g, e = block.gstart[fixed], block.ends[fixed]
        lo = int(g[0])
        window, mask = a[lo:end], self._scratch(end - lo)
        bounds = np.empty(2 * len(g), np.int64)
        bounds[0::2], bounds[1::2] = g - lo, e - lo
        np.equal(window, 49, out=mask)  # any ALT allele '1' within each line's calls
        calls.has_alt[fixed] = np.logical_or.reduceat(mask, bounds)[0::2]
        sep = a[g + 1]  # the separator of each line's first call
        calls.slash[fixed], calls.pipe[fixed] = sep == 47, sep == 124
        if not self.unphased_rows and buf.find(b"/", lo, end) >= 0:  # phased so far: look at every call
            np.equal(window, 47, out=mask)
            calls.slash[fixed] |= np.logical_or.reduceat(mask, bounds)[0::2]
        dots = block.dots
        if not len(dots):
            return
        if block.dot_rows is not None:  # record index -> index among the fixed records (-1: not fixed)
            position = np.full(len(block.pos) + 1, -1, np.int64)
            position[fixed] = np.arange(len(fixed))
            r = position[block.dot_rows]
        else:
            r = np.searchsorted(g, dots, side="right") - 1
        off = dots - g[np.maximum(r, 0)]
        inside = (r >= 0) & (off >= 0) & (off < self.width)
        first = inside & ((off & 3) == 0)
        rows, offsets = r[first], off[first]
        partner = a[dots[first] + 2] == 46  # './.': both alleles missing
        calls.miss_row, calls.miss_sample = fixed[rows[partner]], offsets[partner] >> 2
        calls.nocall[fixed] = np.bincount(rows[partner], minlength=len(fixed))
        if not self._x_ids or self._x_ids.isdisjoint(np.unique(block.chrom[fixed]).tolist()):
            return
        second = inside & ((off & 3) == 2)
        lone_second = a[dots[second] - 2] != 46
        mixed_rows = np.concatenate([rows[~partner], r[second][lone_second]])
        mixed_offsets = np.concatenate([offsets[~partner], off[second][lone_second]])
        calls.mixed_row, calls.mixed_sample = fixed[mixed_rows], mixed_offsets >> 2

    # -- sites: order, duplicates, filters, chunks -----------------------------------------------

    def _sites(self, buf: bytearray, block: _Block, calls: _Calls) -> None:
        self.records += len(block.pos)
        cuts = np.flatnonzero(np.diff(block.chrom)) + 1
        bounds = [0, *cuts.tolist(), len(block.pos)]
        for lo, hi in pairwise(bounds):
            if block.chrom[lo] >= 0:  # -1: malformed lines before any readable one, counted only
                self._run(buf, block, calls, lo, hi)

    def _run(self, buf: bytearray, block: _Block, calls: _Calls, lo: int, hi: int) -> None:
        """Records ``lo:hi`` of a block, all on one chromosome."""
        cid = int(block.chrom[lo])
        name = self.chroms[cid]
        self.per_chrom[name] += hi - lo
        if cid != self._last[0]:
            if cid in self._seen_order:
                self.unsorted += 1
                self.example("unsorted", f"{name} appears again after {self.chroms[self._last[0]]}")
            else:
                self._seen_order.append(cid)
            self._last = (cid, 0)
        sl = slice(lo, hi)
        kind, pos = block.kind[sl], block.pos[sl]
        good = kind != MALFORMED
        self._order(buf, block, lo, pos, good, name)
        for k, v in enumerate(np.bincount(kind, minlength=MALFORMED + 1).tolist()):
            if v:
                self.kinds[k] += v
        self._first_refalt(buf, block, lo, kind)
        valid = self._filters(buf, block, calls, lo, hi, name)
        self._chunks(cid, pos[good], valid[good])
        self._samples(block, calls, cid, lo, hi, valid)
        if is_chr_x(name):
            self._chr_x(block, calls, lo, hi)
        if self.panel is not None:
            self._panel(self.panel, buf, block, cid, lo, hi, valid, name)

    def _order(self, buf: bytearray, block: _Block, lo: int, pos: np.ndarray, good: np.ndarray, name: str) -> None:
        p = pos[good]
        if not len(p):
            return
        if self._first is None:
            self._first = (self._last[0], int(p[0]))
        prev = np.empty_like(p)
        prev[0], prev[1:] = self._last[1], p[:-1]
        down = np.flatnonzero(p < prev)
        if len(down):
            self.unsorted += len(down)
            for j in down[:EXAMPLES]:
                self.example("unsorted", f"{name}:{int(p[j]):,} after {name}:{int(prev[j]):,}")
        self._last = (self._last[0], int(p[-1]))
        self.max_pos[name] = max(self.max_pos.get(name, 0), int(p.max()))

    def _first_refalt(self, buf: bytearray, block: _Block, lo: int, kind: np.ndarray) -> None:
        if self.first_refalt is not None:
            return
        hits = np.flatnonzero(kind == REFALT)
        if len(hits):
            fields = self._line(buf, block, lo + int(hits[0])).split(b"\t", 5)
            vid, ref, alt = (f.decode(errors="replace") for f in fields[2:5])  # a REF == ALT record has all five
            self.first_refalt = (vid, ref, alt)

    def _filters(self, buf: bytearray, block: _Block, calls: _Calls, lo: int, hi: int, name: str) -> np.ndarray:
        """The server's site filters, in its order; returns the SNPs that survive them."""
        sl = slice(lo, hi)
        kind, pos = block.kind[sl], block.pos[sl]
        snp = kind == SNP
        dup = np.zeros(hi - lo, bool)
        idx = np.flatnonzero(snp)
        if len(idx):
            p = pos[idx]
            prev = np.empty_like(p)
            prev[0] = self._last_snp[1] if self._last_snp[0] == block.chrom[lo] else -1
            prev[1:] = p[:-1]
            dup[idx] = p == prev
            self._last_snp = (int(block.chrom[lo]), int(p[-1]))
            if self._first_snp is None:
                self._first_snp = (int(block.chrom[lo]), int(p[0]))
        filtered = snp & ~dup & ~block.passed[sl]
        has_gt = block.has_gt[sl]
        mono = snp & ~dup & ~filtered & has_gt & ~calls.has_alt[sl] if self.n > 1 else np.zeros(hi - lo, bool)
        low = snp & ~dup & ~filtered & ~mono & has_gt & (calls.nocall[sl] > 0.1 * self.n)
        self.duplicates += int(dup.sum())
        self.filtered += int(filtered.sum())
        self.monomorphic += int(mono.sum())
        self.low_call_rate += int(low.sum())
        self.no_gt += int((~has_gt & (kind != MALFORMED)).sum()) if self.n else 0
        gt = has_gt & (kind != MALFORMED)
        self.unphased_rows += int((gt & calls.slash[sl]).sum())
        self.phased_rows += int((gt & calls.pipe[sl] & ~calls.slash[sl]).sum())
        for key, mask in (("duplicates", dup), ("monomorphic", mono), ("low_call_rate", low),
                          ("multiallelic", kind == MULTI), ("nonsnp", kind == NONSNP), ("invalid", kind == INVALID),
                          ("unphased", gt & calls.slash[sl])):
            self._examples(buf, block, key, lo, mask, name, calls if key == "low_call_rate" else None)
        survivors: np.ndarray = snp & ~dup & ~filtered & ~mono & ~low
        return survivors

    def _examples(self, buf: bytearray, block: _Block, key: str, lo: int, mask: np.ndarray, name: str,
                  calls: _Calls | None) -> None:
        room = EXAMPLES - len(self.examples[key])
        if room <= 0:
            return
        for j in np.flatnonzero(mask)[:room]:
            i = lo + int(j)
            text = f"{name}:{int(block.pos[i]):,} ({self._id(buf, block, i)})"
            if calls is not None:
                text += f" call rate {1 - calls.nocall[i] / self.n:.0%}"
            self.example(key, text)

    def _chunks(self, cid: int, pos: np.ndarray, valid: np.ndarray) -> None:
        if not len(pos):
            return
        for size, counter, p in ((DENSITY_CHUNK, self.density, pos), (CHUNK, self.chunk_all, pos),
                                 (CHUNK, self.chunk_valid, pos[valid])):
            _count_chunks(counter, cid, p, size)

    def _samples(self, block: _Block, calls: _Calls, cid: int, lo: int, hi: int, valid: np.ndarray) -> None:
        """Missing calls per sample and chunk, over the SNPs that pass the site filters."""
        if not self.n:
            return
        chunk = (block.pos[lo:hi] - 1) // CHUNK
        for k in np.unique(chunk[valid]):
            key = (cid, int(k))
            acc = self.chunk_nocall.get(key)
            if acc is None:
                acc = self.chunk_nocall[key] = np.zeros(self.n, np.int64)
            rows_in = np.zeros(len(block.pos), bool)
            rows_in[lo:hi] = valid & (chunk == k)
            if len(calls.miss_row):
                hit = rows_in[calls.miss_row]
                acc += np.bincount(calls.miss_sample[hit], minlength=self.n)
            for i, row in block.gts.items():
                if rows_in[i]:
                    acc[row.nocall] += 1

    def _chr_x(self, block: _Block, calls: _Calls, lo: int, hi: int) -> None:
        start, stop = self.nonpar
        pos = block.pos[lo:hi]
        inside = np.zeros(len(block.pos), bool)
        inside[lo:hi] = (pos >= start) & (pos <= stop) & block.has_gt[lo:hi] & (block.kind[lo:hi] != MALFORMED)
        self.x_rows += int(inside.sum())
        self.x_diploid += int((inside & block.fixed).sum())
        if len(calls.mixed_row):
            hit = inside[calls.mixed_row]
            self.x_mixed += np.bincount(calls.mixed_sample[hit], minlength=self.n)
        for i, row in block.gts.items():
            if inside[i]:
                self.x_haploid += row.haploid
                self.x_diploid += row.diploid
                self.x_mixed[row.mixed] += 1

    def _panel(self, panel: PanelSites, buf: bytearray, block: _Block, cid: int, lo: int, hi: int, valid: np.ndarray,
               name: str) -> None:
        """Compare the candidate SNPs with the panel's alleles, as the server's QC does."""
        sl = slice(lo, hi)
        idx = np.flatnonzero(valid)
        if not len(idx):
            return
        rows = lo + idx
        ref, alt = block.ref[rows], block.alt[rows]
        found, verdict = compare_alleles(panel, canonical(name), block.pos[sl][idx], ref, alt)
        pos = block.pos[sl][idx]
        _count_chunks(self.chunk_found, cid, pos[found], CHUNK)
        _count_chunks(self.chunk_missing_panel, cid, pos[~found], CHUNK)
        for label, mask in verdict.items():
            self.panel_counts[label] += int(mask.sum())
            room = EXAMPLES - len(self.examples[label])
            for j in np.flatnonzero(mask)[:max(room, 0)]:
                i = int(rows[j])
                fields = self._line(buf, block, i).split(b"\t", 5)
                self.example(label, f"{name}:{int(block.pos[i]):,} {fields[3].decode(errors='replace')}/"
                                    f"{fields[4].decode(errors='replace')}")

    # -- helpers ---------------------------------------------------------------------------

    def _line(self, buf: bytearray, block: _Block, i: int) -> bytes:
        return bytes(buf[block.starts[i]:block.ends[i]])

    def _id(self, buf: bytearray, block: _Block, i: int) -> str:
        vid = block.ids.get(i)
        if vid is None:
            fields = bytes(buf[block.starts[i]:min(block.ends[i], block.starts[i] + 512)]).split(b"\t", 3)
            vid = fields[2] if len(fields) > 2 else b"."
        return vid.decode(errors="replace")[:40]


_EMPTY: np.ndarray = np.zeros(0, np.int64)


def _count_chunks(counter: Counter[tuple[int, int]], cid: int, pos: np.ndarray, size: int) -> None:
    """Add records per ``size`` chunk: one addition when a block lies in one chunk, as most do."""
    if not len(pos):
        return
    chunks = (pos - 1) // size
    lo, hi = int(chunks.min()), int(chunks.max())
    if lo == hi:
        counter[(cid, lo)] += len(pos)
        return
    for k, v in enumerate(np.bincount(chunks - lo).tolist()):
        if v:
            counter[(cid, lo + k)] += v


def _windows(a: np.ndarray, offsets: np.ndarray, width: int) -> np.ndarray:
    """A copy of ``width`` bytes from each offset (the buffer's slack keeps them in bounds).

    The overlapping view is built directly: ``sliding_window_view`` costs more than the copy.
    """
    view = np.ndarray((len(a) - width + 1, width), np.uint8, a, 0, (1, 1))
    windows: np.ndarray = view[offsets]
    return windows


def _tab_offsets(a: np.ndarray, starts: np.ndarray, lengths: np.ndarray, need: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of the first ``need`` tabs of each line, read from a window at the line start.

    Most lines have their first columns within 64 bytes; longer heads (long INFO fields) are
    searched in 256 and 1024-byte windows; lines whose tabs are not found in 1 KiB, or are too few,
    are left to the slow path (``ok`` False).
    """
    count = len(starts)
    tabs = np.zeros((count, need), np.int64)
    ok = np.zeros(count, bool)
    head = _windows(a, starts, 64)
    short = lengths < 64
    if short.any():
        head[short] = np.where(_AR[:64][None, :] < lengths[short][:, None], head[short], 10)
    is_tab = head == 9
    found_n = is_tab.sum(1)
    good = found_n >= need
    col = np.flatnonzero(is_tab) & 63
    first = np.zeros(count, np.int64)
    np.cumsum(found_n[:-1], out=first[1:])
    tabs[good] = col[first[good][:, None] + _AR[:need]]
    ok[good] = True
    todo = np.flatnonzero(~good & (lengths > 64))
    for width in (256, 1024):
        if not len(todo):
            break
        length = lengths[todo]
        head = _windows(a, starts[todo], width)
        head[_AR[:width][None, :] >= length[:, None]] = 10
        is_tab = head == 9
        found_n = is_tab.sum(1)
        good = found_n >= need
        if good.any():
            _, col = np.nonzero(is_tab[good])
            first = np.zeros(int(good.sum()), np.int64)
            np.cumsum(found_n[good][:-1], out=first[1:])
            tabs[todo[good]] = col[first[:, None] + _AR[:need]]
            ok[todo[good]] = True
        todo = todo[~good & (length > width)]
    return tabs, ok


def _parse_pos(a: np.ndarray, s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """POS of each line as int64, and whether it was 1-10 plain digits."""
    plen = t[:, 1] - t[:, 0] - 1
    size = np.clip(plen, 0, 10)
    digits = _windows(a, s + t[:, 0] + 1, 10).astype(np.int64) - 48
    weights = _DIGIT_WEIGHTS[size]
    ok = (((digits >= 0) & (digits <= 9)) | (weights == 0)).all(1) & (plen >= 1) & (plen <= 10)
    return (digits * weights).sum(1), ok
