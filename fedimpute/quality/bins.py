"""The contract's MAF bins and the SQL that assigns a variant to one.

The bins are fixed by the CLI contract so that every service's numbers line up:
left-closed, the last one closed (a MAF of exactly 0.5 is common, not out of range).
"""

from __future__ import annotations

__all__ = ["MAF_BINS", "bin_case_sql", "bin_label"]

MAF_BINS = ((0.0, 0.001), (0.001, 0.005), (0.005, 0.01), (0.01, 0.05), (0.05, 0.5))


def bin_case_sql(column: str = "maf") -> str:
    """A SQL expression giving the bin index (0-4) of ``column``, NULL outside [0, 0.5] or when NULL."""
    last = len(MAF_BINS) - 1
    parts = [
        f"WHEN {column} >= {lo} AND {column} {'<=' if i == last else '<'} {hi} THEN {i}"
        for i, (lo, hi) in enumerate(MAF_BINS)
    ]
    return "CASE " + " ".join(parts) + " END"


def bin_label(index: int) -> str:
    """``[0.01, 0.05)`` style label, ``]`` for the closed last bin."""
    lo, hi = MAF_BINS[index]
    return f"[{lo:g}, {hi:g}{']' if index == len(MAF_BINS) - 1 else ')'}"
