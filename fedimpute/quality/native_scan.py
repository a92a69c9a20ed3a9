"""Partial sums of info-VCF text in C: a line scanner built with the system's C compiler on first use.

Why: DuckDB's CSV reader costs about 0.2 s of CPU per 64 MB of a minimac4 info VCF however the SQL is
written (splitting, casts, the checks that keep it exact), more than twice what inflating the text
costs; this C pass over the same bytes takes 0.06 s (memchr finds the newline, the last tab and the
';' of each line).  So where a C compiler is installed (``cc``,
as on Debian with build-essential or the project's machines), a small scanner is compiled once into
the user's cache folder and loaded with ctypes; elsewhere the DuckDB readers do the work.

The scanner is exact by refusing: it only takes a line in the shape it checks (CHROM the chunk's, eight
tab-separated columns, ``MAF=`` and ``R2=`` at the entries where the file's first record has them,
no list, a plain decimal number that converts exactly (at most 2^53 and 10^±22, the range where one
IEEE operation gives the correctly rounded value, as DuckDB's own cast gives), or ``.`` / nothing for
missing).  Any other line makes it stop and say so, and its chunk is read by the general reader.
``FEDIMPUTE_NATIVE=0`` turns it off.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

__all__ = ["BINS", "STATES", "Scanner", "scanner"]

#: Accumulators: typed state (0 imputed, 1 typed, 2 unknown) x bin (0-4, 5 for none).
STATES, BINS = 3, 6

log = logging.getLogger(__name__)

_SOURCE = r"""
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct { int64_t rows, n, ge3, ge8; double sum; } acc_t;

static const double P10[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
                               1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* 1: a number in *out; 0: missing ("" or "."); -1: not a plain decimal in the exact range */
static int number(const char *p, const char *end, double *out) {
    if (p == end || (end - p == 1 && *p == '.')) return 0;
    int neg = 0;
    if (*p == '+' || *p == '-') { neg = *p == '-'; p++; }
    uint64_t m = 0; int digits = 0, sig = 0, exp10 = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        digits++; if (m || *p != '0') { if (++sig > 19) return -1; m = m * 10 + (uint64_t)(*p - '0'); }
    }
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
            digits++; exp10--; if (m || *p != '0') { if (++sig > 19) return -1; m = m * 10 + (uint64_t)(*p - '0'); }
        }
    }
    if (!digits) return -1;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++; int eneg = 0, e = 0, ed = 0;
        if (p < end && (*p == '+' || *p == '-')) { eneg = *p == '-'; p++; }
        for (; p < end && *p >= '0' && *p <= '9'; p++) { if (++ed > 4) return -1; e = e * 10 + (*p - '0'); }
        if (!ed) return -1;
        exp10 += eneg ? -e : e;
    }
    if (p != end || m > ((uint64_t)1 << 53)) return -1;
    double v = (double)m;
    if (m) {
        if (exp10 < -22 || exp10 > 22) return -1;
        v = exp10 < 0 ? v / P10[-exp10] : v * P10[exp10];
    }
    *out = neg ? -v : v;
    return 1;
}

static int is_flag(const char *s, const char *e, const char *name, size_t len) {
    return len && (size_t)(e - s) == len && memcmp(s, name, len) == 0;
}

/* Lines of buf[0:n] into acc[3][6]; the number of lines, or -1 - (offset of the first line it does not take).
   memchr (vectorised in the C library) finds the newline, the tabs and the ';' of each line.  checks: 1 when
   the buffer may hold a ',', 2 a '\r' (the caller knows from one memchr over the buffer; lines are searched
   for them only then). */
int64_t fedimpute_scan(const char *buf, int64_t n, const char *chrom, int64_t chrom_len,
                       int k_maf, const char *maf_tag, int maf_len, int k_r2, const char *r2_tag, int r2_len,
                       int flag_mode, const char *f1, int f1_len, const char *f2, int f2_len, int checks,
                       acc_t *acc) {
    const char *p = buf, *end = buf + n;
    int64_t lines = 0;
    int last = k_maf > k_r2 ? k_maf : k_r2;
    while (p < end) {
        const char *line = p, *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        if (eol - p <= chrom_len || memcmp(p, chrom, (size_t)chrom_len) != 0 || p[chrom_len] != '\t'
            || ((checks & 2) && memchr(p, '\r', (size_t)(eol - p))))
            return -1 - (line - buf);
        /* eight columns: INFO starts after the line's last tab, and the line holds seven */
        const char *q = memrchr(p, '\t', (size_t)(eol - p));
        if (!q) return -1 - (line - buf);
        int tabs = 0;
        for (const char *c = p + chrom_len; c <= q; c++) tabs += *c == '\t';
        if (tabs != 7) return -1 - (line - buf);
        q++;
        double maf = 0, r2 = 0;
        int has_maf = -2, has_r2 = -2, flagged = 0;
        for (int k = 1; ; k++) {  /* the INFO entries [q, e) */
            const char *e = memchr(q, ';', (size_t)(eol - q));
            if (!e) e = eol;
            if (k == k_maf || k == k_r2) {
                const char *tag = k == k_maf ? maf_tag : r2_tag;
                int len = k == k_maf ? maf_len : r2_len;
                if (e - q < len || memcmp(q, tag, (size_t)len) != 0
                    || ((checks & 1) && memchr(q, ',', (size_t)(e - q))))
                    return -1 - (line - buf);
                int got = number(q + len, e, k == k_maf ? &maf : &r2);
                if (got < 0) return -1 - (line - buf);
                if (k == k_maf) has_maf = got; else has_r2 = got;
            }
            if (flag_mode && (is_flag(q, e, f1, (size_t)f1_len) || is_flag(q, e, f2, (size_t)f2_len))) flagged = 1;
            if (e == eol || (!flag_mode && k >= last)) break;
            q = e + 1;
        }
        p = eol + 1;
        if (has_maf == -2 || has_r2 == -2) return -1 - (line - buf);
        int bin = 5;
        if (has_maf == 1) {
            if (maf >= 0.0 && maf < 0.001) bin = 0;
            else if (maf >= 0.001 && maf < 0.005) bin = 1;
            else if (maf >= 0.005 && maf < 0.01) bin = 2;
            else if (maf >= 0.01 && maf < 0.05) bin = 3;
            else if (maf >= 0.05 && maf <= 0.5) bin = 4;
        }
        int state = flag_mode == 0 ? 2 : flag_mode == 1 ? flagged : !flagged;
        acc_t *a = &acc[state * 6 + bin];
        a->rows++;
        if (has_r2 == 1) { a->n++; a->sum += r2; a->ge3 += r2 >= 0.3; a->ge8 += r2 >= 0.8; }
        lines++;
    }
    return lines;
}
"""


class _Acc(ctypes.Structure):
    _fields_ = [("rows", ctypes.c_int64), ("n", ctypes.c_int64), ("ge3", ctypes.c_int64),
                ("ge8", ctypes.c_int64), ("sum", ctypes.c_double)]


_ACCS = _Acc * (STATES * BINS)


class Scanner:
    """The compiled ``fedimpute_scan``: :meth:`scan` returns the partial sums of a buffer of whole
    lines, or None when a line is not in the shape it takes."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        fn = lib.fedimpute_scan
        fn.restype = ctypes.c_int64
        text, size = ctypes.c_char_p, ctypes.c_int
        fn.argtypes = [ctypes.c_void_p, ctypes.c_int64, text, ctypes.c_int64, size, text, size, size, text, size,
                       size, text, size, text, size, size, ctypes.POINTER(_Acc)]
        self._fn = fn

    def scan(self, address: int, size: int, chrom: bytes, maf: tuple[int, bytes], r2: tuple[int, bytes],
             flags: tuple[int, bytes, bytes], *, commas: bool = True, returns: bool = True,
             ) -> list[tuple[int, int, int, int, int, int, float]] | None:
        """``(state, bin, rows, n, ge3, ge8, sum)`` rows with ``rows > 0``: ``maf``/``r2`` are (entry
        number, ``TAG=``), ``flags`` (mode 0 none / 1 typed when present / 2 typed when absent, names);
        ``commas``/``returns``: the buffer may hold a ',' / a '\\r' (when not, lines are not searched for them)."""
        acc = _ACCS()
        (k_maf, maf_tag), (k_r2, r2_tag), (mode, f1, f2) = maf, r2, flags
        got = self._fn(address, size, chrom, len(chrom), k_maf, maf_tag, len(maf_tag), k_r2, r2_tag,
                       len(r2_tag), mode, f1, len(f1), f2, len(f2), int(commas) | 2 * int(returns), acc)
        if got < 0:
            return None
        return [(i // BINS, i % BINS, a.rows, a.n, a.ge3, a.ge8, a.sum) for i, a in enumerate(acc) if a.rows]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fedimpute"


def _build(target: Path) -> bool:
    """Compile :data:`_SOURCE` into ``target`` (atomically: a half-written library is never loaded)."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        return False
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        source, out = Path(tmp) / "scan.c", Path(tmp) / target.name
        source.write_text(_SOURCE)
        proc = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(out), str(source)],
                              capture_output=True, timeout=120, check=False)
        if proc.returncode != 0 or not out.exists():
            return False
        os.replace(out, target)
    return True


def _ours_alone(library: Path) -> bool:
    """Load code only from a file and folder that this user owns and no one else may write: a library
    another local user could replace would run as us."""
    for path in (library, library.parent):
        info = path.lstat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022 or stat.S_ISLNK(info.st_mode):
            log.warning("not loading the quality scanner from %s: it must be yours and writable by you only "
                        "(the slower reader is used)", path)
            return False
    return True


_loaded: dict[str, Scanner | None] = {}


def scanner() -> Scanner | None:
    """The compiled scanner, built on first use; None without a C compiler (or ``FEDIMPUTE_NATIVE=0``)."""
    if os.environ.get("FEDIMPUTE_NATIVE", "1") == "0":
        return None
    digest = hashlib.sha256(_SOURCE.encode()).hexdigest()[:16]
    if digest not in _loaded:
        _loaded[digest] = None
        target = _cache_dir() / f"infoscan-{digest}.so"
        try:
            if (target.exists() or _build(target)) and _ours_alone(target):
                _loaded[digest] = Scanner(ctypes.CDLL(str(target)))
        except (OSError, subprocess.SubprocessError, AttributeError):
            _loaded[digest] = None
    return _loaded[digest]
