"""Shared helpers for the pre-flight tests: the corpus, and small VCFs written on the fly."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from fedimpute.bgzf import BgzfWriter
from fedimpute.models import Protocol, ServiceConfig

CORPUS = Path(__file__).resolve().parents[1] / "data" / "preflight"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT"


def service(**limits) -> ServiceConfig:
    return ServiceConfig(name="svc", protocol=Protocol.CLOUDGENE, url="https://imputation.example", **limits)


def vcf_text(records: list[str], samples: int = 3, *, contig: str | None = "##contig=<ID=20,length=63025520>") -> str:
    head = ["##fileformat=VCFv4.2", *([contig] if contig else []),
            "\t".join([COLUMNS, *(f"S{i}" for i in range(samples))])]
    return "\n".join(head + records) + "\n"


def write(path: Path, text: str, how: str = "bgzf") -> Path:
    """Write ``text`` as BGZF (default), plain gzip or plain text."""
    if how == "bgzf":
        with BgzfWriter(path) as fh:
            fh.write(text)
    elif how == "gzip":
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            fh.write(text.encode())
    else:
        path.write_text(text)
    return path


def random_vcf(rng: random.Random, *, samples: int, records: int, chrom: str = "20", phased: bool = False,
               missing: float = 0.02) -> str:
    sep = "|" if phased else "/"
    lines, pos = [], 60_000
    for i in range(records):
        pos += rng.randint(100, 3000)
        ref, alt = rng.sample("ACGT", 2)
        calls = [f".{sep}." if rng.random() < missing else f"{rng.randint(0, 1)}{sep}{rng.randint(0, 1)}"
                 for _ in range(samples)]
        calls[0] = f"0{sep}1"
        lines.append("\t".join([chrom, str(pos), f"rs{i}", ref, alt, ".", "PASS", ".", "GT", *calls]))
    return vcf_text(lines, samples, contig=None)


@pytest.fixture
def corpus() -> Path:
    return CORPUS
