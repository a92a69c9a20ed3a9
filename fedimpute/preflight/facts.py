"""What the checks know of one file, the thresholds they apply, and the helpers they share.

The thresholds are the server's (Cloudgene imputationserver-utils, reference §6.2).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from fedimpute.models import ReferencePanel, ServiceConfig
from fedimpute.preflight.build import (
    BuildEvidence,
)
from fedimpute.preflight.header import Header
from fedimpute.preflight.reader import FileKind
from fedimpute.preflight.report import CheckStatus
from fedimpute.preflight.scan import FileScan

__all__ = ["FileFacts", "Options"]

PASS, WARN, FAIL = CheckStatus.PASS, CheckStatus.WARN, CheckStatus.FAIL
MIN_CHUNK_SNPS = 3  # minSnps: the server's default; some panels ask for more (HRC 20)
SAMPLE_CALL_RATE = 0.5
SITE_CALL_RATE = 0.9
OVERLAP = 0.5
STRAND_FLIPS = 100
ALLELE_SWITCHES = 100
MAX_CHUNK_SNPS = 20_000  # TOPMed: average records per 10 Mb chunk
MIXED_CHR_X = 0.10
PHASING = ("eagle", "beagle", "no_phasing")


@dataclass
class Options:
    """What the user asked for: ``build`` is hg19, hg38 or auto."""

    build: str = "auto"
    service: ServiceConfig | None = None
    phasing: str | None = None
    panel: ReferencePanel | None = None


@dataclass
class FileFacts:
    """What one pass over a file found; ``scan`` is None when the records could not be read."""

    path: Path
    kind: FileKind | None = None
    header: Header = field(default_factory=Header)
    scan: FileScan | None = None
    read_error: str | None = None
    evidence: BuildEvidence = field(default_factory=BuildEvidence)

    @property
    def name(self) -> str:
        return shlex.quote(self.path.name)

    def stem(self) -> str:
        name = self.path.name
        for suffix in (".vcf.gz", ".vcf.bgz", ".vcf", ".gz"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name


def _n(value: float) -> str:
    return f"{value:,}"


def _examples(scan: FileScan, key: str) -> str:
    found = scan.examples.get(key)
    return f" (e.g. {'; '.join(found)})" if found else ""


def _eg(scan: FileScan, key: str) -> str:
    """Examples to follow a number inside parentheses: ``(150, e.g. 20:1,234 A/G)``."""
    found = scan.examples.get(key)
    return f", e.g. {'; '.join(found)}" if found else ""


