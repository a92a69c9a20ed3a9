"""INFO parsing: the fast path (entries at their usual place) and the regular expression agree on every
INFO string, whatever its order, lists, missing values or look-alike keys."""

from __future__ import annotations

import math

import pytest

from fedimpute.bgzf import BgzfWriter
from fedimpute.quality import load_variants
from tests.quality.files import MIS2_HEADER

#: INFO strings of one file; the first record sets the order the fast path expects.
INFOS = [
    "AF=0.2;MAF=0.2;AVG_CS=0.99;R2=0.5;IMPUTED",
    "AF=0.7;MAF=0.3;AVG_CS=0.99;R2=0.75;ER2=0.9;TYPED;IMPUTED",
    "R2=0.25;AF=0.1;MAF=0.1;TYPED_ONLY",  # another order
    "AF=0.1;MAF=.;AVG_CS=1;R2=.;IMPUTED",  # missing values
    "AF=0.1;AVG_CS=1;R2=0.5;IMPUTED",  # no MAF: R2 is not where the first record had it
    "AF=0.1,0.2;MAF=0.1,0.2;AVG_CS=1;R2=0.5,0.25;IMPUTED",  # lists: the first value counts
    "AF=0.1;MAF=0.1;ER2=0.9;XR2=0.1;R2=0.125",  # R2 last; ER2 and XR2 are other keys
    "AF=0.1;MAF=0.012345678912345;AVG_CS=1;R2=1;NOTTYPED;TYPEDX",  # long value; flags that only look alike
    "AF=0.1;MAF=0.1;AVG_CS=1;R2=;IMPUTED",  # empty value
    "AF=0.4;MAF=0.4;AVG_CS=1;R2=1e-05;TYPED",  # exponent; minimac4 4.x typed-only
    "TYPED;AF=0.4;MAF=0.4;AVG_CS=1;R2=0.5",  # a flag first
    "MAF=0.3;AF=0.3;AVG_CS=1;R2=0.5;IMPUTED",  # keys swapped: MAF where AF was
    "AF=0.1;MAF=0.1;NOTE=a#b;R2=0.5;IMPUTED",  # a '#' inside a record is data, not a comment
]


def _reference(info: str) -> tuple[float | None, float | None, float | None, bool]:
    """What the VCF says, parsed in plain Python: af, maf, r2 (first value of the first occurrence), typed."""
    values: dict[str, str] = {}
    flags = set()
    for entry in info.split(";"):
        key, sep, value = entry.partition("=")
        if sep:
            values.setdefault(key, value.split(",")[0])
        else:
            flags.add(key)

    def number(key: str) -> float | None:
        text = values.get(key, "")
        return None if text in ("", ".") else float(text)

    return number("AF"), number("MAF"), number("R2"), bool(flags & {"TYPED", "TYPED_ONLY"})


def _write(path, infos: list[str], gz: bool):
    lines = ["##fileformat=VCFv4.1", MIS2_HEADER, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    lines += [f"chr20\t{100 + i}\tchr20:{100 + i}:A:G\tA\tG\t.\tPASS\t{info}" for i, info in enumerate(infos)]
    data = ("\n".join(lines) + "\n").encode()
    if gz:
        with BgzfWriter(path) as w:
            w.write(data)
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("strategy", ["auto", "duckdb"])
def test_info_fields__fast_path_and_regexp_agree(tmp_path, gz, strategy):
    path = _write(tmp_path / "chr20.info.gz", INFOS, gz)
    con = load_variants([path], strategy=strategy)
    rows = con.execute("SELECT pos, af, maf, r2, typed FROM variants ORDER BY pos").fetchall()
    assert len(rows) == len(INFOS)
    for (pos, *got), info in zip(rows, INFOS, strict=True):
        want = _reference(info)
        for g, w in zip(got[:3], want[:3], strict=True):
            assert (g is None and w is None) or math.isclose(g, w, rel_tol=1e-15), (pos, info)
        assert got[3] == want[3], info
