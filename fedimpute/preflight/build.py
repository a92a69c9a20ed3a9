"""Chromosome names and genome builds: the server's naming rule and the evidence for a build.

Cloudgene accepts 1-22, 23, X and MT, with or without a ``chr`` prefix, one chromosome per file;
hg19 data must be named ``20`` and hg38 data ``chr20`` (its InputValidation step).  The build
itself is not in a VCF, so it is inferred from what is: ``##contig`` lengths, the
``##reference`` line, and positions beyond a chromosome's end in one build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "BUILDS",
    "LENGTHS",
    "NON_PAR",
    "BuildEvidence",
    "canonical",
    "chunk_of",
    "expected_name",
    "is_chr_x",
    "is_valid_chromosome",
    "reference_build",
]

BUILDS = ("hg19", "hg38")

#: Chromosome lengths of GRCh37 (hg19) and GRCh38 (hg38): name, hg19 length, hg38 length.
_LENGTH_TABLE = """
1  249250621 248956422
2  243199373 242193529
3  198022430 198295559
4  191154276 190214555
5  180915260 181538259
6  171115067 170805979
7  159138663 159345973
8  146364022 145138636
9  141213431 138394717
10 135534747 133797422
11 135006516 135086622
12 133851895 133275309
13 115169878 114364328
14 107349540 107043718
15 102531392 101991189
16  90354753  90338345
17  81195210  83257441
18  78077248  80373285
19  59128983  58617616
20  63025520  64444167
21  48129895  46709983
22  51304566  50818468
X  155270560 156040895
Y   59373566  57227415
"""
#: The same, keyed by build, then by the bare chromosome name.
LENGTHS: dict[str, dict[str, int]] = {
    build: {row.split()[0]: int(row.split()[column]) for row in _LENGTH_TABLE.splitlines() if row}
    for column, build in ((1, "hg19"), (2, "hg38"))
}

#: The chrX non-pseudoautosomal region as the server's QC splits it (first and last nonPAR base).
NON_PAR = {"hg19": (2_699_520, 154_931_044), "hg38": (2_781_479, 155_701_383)}

_VALID = {str(i) for i in range(1, 24)} | {"X", "MT"}
_REFERENCE_HINTS = (
    ("hg38", re.compile(r"grch38|hg38|hs38|b38|gca_000001405\.15", re.I)),
    ("hg19", re.compile(r"grch37|hg19|hs37|b37|human_g1k_v37|ucsc\.hg19|gca_000001405\.1\b", re.I)),
)


def canonical(name: str) -> str:
    """The bare name the tables use: ``chr20`` -> ``20``, ``chr23``/``23`` -> ``X``, ``chrM`` -> ``MT``."""
    bare = name[3:] if name.startswith("chr") else name
    return {"23": "X", "M": "MT"}.get(bare, bare)


def is_valid_chromosome(name: str) -> bool:
    """The server's list: 1-22, 23, X and MT, with or without ``chr`` (``chrM`` is not on it)."""
    bare = name[3:] if name.startswith("chr") else name
    return bare in _VALID


def is_chr_x(name: str) -> bool:
    return canonical(name) == "X"


def expected_name(name: str, build: str) -> str:
    """How ``build`` wants this chromosome written: ``20`` for hg19, ``chr20`` for hg38."""
    bare = name[3:] if name.startswith("chr") else name
    return f"chr{bare}" if build == "hg38" else bare


def chunk_of(pos: int, size: int) -> int:
    """The server's chunk number of a 1-based position: chunks are ``[k*size+1, (k+1)*size]``."""
    return (pos - 1) // size


def reference_build(line: str) -> str | None:
    """The build a ``##reference=`` (or ``##assembly=``) value names, if it names one."""
    for build, pattern in _REFERENCE_HINTS:
        if pattern.search(line):
            return build
    return None


@dataclass
class BuildEvidence:
    """What points at hg19 or hg38, strongest first; ``verdict`` weighs it."""

    beyond_end: dict[str, str] = field(default_factory=dict)  # build -> "chr20:63,100,000 > 63,025,520"
    contigs: dict[str, list[str]] = field(default_factory=dict)  # build -> ["20 (64,444,167)"]
    reference: str | None = None  # build named by ##reference
    reference_line: str = ""
    prefixed: bool | None = None  # naming: True for chr20, False for 20

    def verdict(self) -> tuple[str | None, str]:
        """``(build, why)``; the build is None when nothing points either way."""
        excluded = set(self.beyond_end)
        if len(excluded) == 1:
            (wrong,) = excluded
            build = "hg38" if wrong == "hg19" else "hg19"
            return build, f"positions beyond the {wrong} chromosome end ({self.beyond_end[wrong]})"
        if self.reference and self.reference not in excluded:
            return self.reference, f"the ##reference line ({self.reference_line[:80]})"
        by_contig = [b for b in BUILDS if self.contigs.get(b) and b not in excluded]
        if len(by_contig) == 1:
            build = by_contig[0]
            return build, f"##contig lengths ({', '.join(self.contigs[build][:3])})"
        if self.prefixed is not None:
            return ("hg38" if self.prefixed else "hg19"), "chromosome naming only (no length or reference evidence)"
        return None, "no evidence"

    @property
    def strong(self) -> bool:
        """True when the verdict rests on more than the naming convention."""
        build, why = self.verdict()
        return build is not None and not why.startswith("chromosome naming")
