"""The VCF header: samples, contigs, the reference line, and whether it is well formed.

Only what the checks need is kept.  Parsing never raises: a malformed header is recorded in
``problems`` so that it becomes a failing check with a message, not a traceback.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["FIXED_COLUMNS", "Header"]

FIXED_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
_KEY_VALUE = re.compile(r'(\w+)=("[^"]*"|[^,>]*)')


@dataclass
class Header:
    """What the ``##`` lines and the ``#CHROM`` line say."""

    fileformat: str | None = None
    contigs: dict[str, int | None] = field(default_factory=dict)
    reference: str = ""
    formats: set[str] = field(default_factory=set)
    columns: list[str] = field(default_factory=list)
    meta_lines: int = 0
    crlf: bool = False
    problems: list[str] = field(default_factory=list)
    complete: bool = False  # the #CHROM line was seen

    @property
    def samples(self) -> list[str]:
        return self.columns[9:]

    @property
    def has_format(self) -> bool:
        return len(self.columns) > 8

    def duplicate_samples(self) -> list[str]:
        """Sample ids that occur more than once, in order of first occurrence."""
        counts = Counter(self.samples)
        return [s for s in dict.fromkeys(self.samples) if counts[s] > 1]

    def add_line(self, line: bytes) -> None:
        """Take one header line (``##...`` or ``#CHROM...``), without its newline."""
        if line.endswith(b"\r"):
            self.crlf = True
            line = line[:-1]
        text = line.decode("utf-8", errors="replace")
        if text.startswith("##"):
            self._meta(text)
        elif text.startswith("#"):
            self._columns(text)

    def _meta(self, text: str) -> None:
        self.meta_lines += 1
        if text.startswith("##fileformat="):
            self.fileformat = text[13:].strip()
        elif text.startswith("##contig=<"):
            values = dict(_KEY_VALUE.findall(text[10:]))
            if "ID" in values:
                length = values.get("length", "")
                self.contigs[values["ID"]] = int(length) if length.isdigit() else None
        elif text.startswith(("##reference=", "##assembly=")):
            self.reference += text.split("=", 1)[1] + " "
        elif text.startswith("##FORMAT=<"):
            values = dict(_KEY_VALUE.findall(text[10:]))
            if "ID" in values:
                self.formats.add(values["ID"])

    def _columns(self, text: str) -> None:
        self.complete = True
        columns = text.split("\t")
        if len(columns) < 8 and len(text.split()) >= 8:
            self.problems.append("the #CHROM header line is separated by spaces, not tabs")
            columns = text.split()
        if tuple(columns[:8]) != FIXED_COLUMNS:
            self.problems.append(f"the #CHROM header line should start with {' '.join(FIXED_COLUMNS)}, "
                                 f"found {' '.join(columns[:8])[:80]!r}")
        if len(columns) > 9 and columns[8] != "FORMAT":
            self.problems.append(f"column 9 of the #CHROM line should be FORMAT, found {columns[8][:40]!r}")
        self.columns = columns
