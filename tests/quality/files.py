"""Quality files with chosen values, written the way the services write them.

R² values are multiples of 1/8 so that sums and means are exact in binary floating point,
and every expected number in the tests can be written down by hand.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

from fedimpute.bgzf import BgzfWriter

#: minimac4 1.x (Michigan/TOPMed) info layout; the local engine writes the first seven minus AvgCall.
MICHIGAN_COLUMNS = (
    "SNP",
    "REF(0)",
    "ALT(1)",
    "ALT_Frq",
    "MAF",
    "AvgCall",
    "Rsq",
    "Genotyped",
    "LooRsq",
    "EmpR",
    "EmpRsq",
    "Dose0",
    "Dose1",
)
ENGINE_COLUMNS = ("SNP", "REF(0)", "ALT(1)", "ALT_Frq", "MAF", "Rsq", "Genotyped")


@dataclass(frozen=True)
class Site:
    chrom: str
    pos: int
    ref: str
    alt: str
    af: float | None
    r2: float | None
    typed: bool = False

    @property
    def maf(self) -> float | None:
        return None if self.af is None else min(self.af, 1 - self.af)


def _num(value: float | None) -> str:
    return "-" if value is None else repr(value)


def write_info(path: Path, sites: list[Site], *, columns: tuple[str, ...] = MICHIGAN_COLUMNS) -> Path:
    """A minimac info file; gzip when the name ends in .gz."""
    lines = ["\t".join(columns)]
    for s in sites:
        values = {
            "SNP": f"{s.chrom}:{s.pos}:{s.ref}:{s.alt}",
            "REF(0)": s.ref,
            "ALT(1)": s.alt,
            "ALT_Frq": _num(s.af),
            "MAF": _num(s.maf),
            "AvgCall": "0.99",
            "Rsq": _num(s.r2),
            "Genotyped": "Genotyped" if s.typed else "Imputed",
            "LooRsq": "0.9" if s.typed else "-",
            "EmpR": "0.9" if s.typed else "-",
            "EmpRsq": "0.81" if s.typed else "-",
            "Dose0": "0.5" if s.typed else "-",
            "Dose1": "0.5" if s.typed else "-",
        }
        lines.append("\t".join(values[c] for c in columns))
    data = ("\n".join(lines) + "\n").encode()
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path


def _info_minimac4(s: Site) -> str:
    parts = [
        f"AF={_num(s.af) if s.af is not None else '.'}",
        f"MAF={_num(s.maf) if s.af is not None else '.'}",
        "AVG_CS=0.99",
        f"R2={'.' if s.r2 is None else repr(s.r2)}",
    ]
    if s.typed:
        parts += ["ER2=0.9", "TYPED"]
    return ";".join(parts + ["IMPUTED"])


def _info_beagle(s: Site) -> str:
    parts = [f"DR2={'.' if s.r2 is None else repr(s.r2)}", f"AF={'.' if s.af is None else repr(s.af)}"]
    return ";".join(parts if s.typed else parts + ["IMP"])


MINIMAC4_HEADER = """##INFO=<ID=AF,Number=1,Type=Float,Description="Estimated Alternate Allele Frequency">
##INFO=<ID=MAF,Number=1,Type=Float,Description="Estimated Minor Allele Frequency">
##INFO=<ID=AVG_CS,Number=1,Type=Float,Description="Average Call Score">
##INFO=<ID=R2,Number=1,Type=Float,Description="Estimated Imputation Accuracy (R-square)">
##INFO=<ID=ER2,Number=1,Type=Float,Description="Empirical (Leave-One-Out) R-square">
##INFO=<ID=IMPUTED,Number=0,Type=Flag,Description="Marker was imputed">
##INFO=<ID=TYPED,Number=0,Type=Flag,Description="Marker was genotyped">"""
BEAGLE_HEADER = """##INFO=<ID=AF,Number=A,Type=Float,Description="Estimated ALT Allele Frequencies">
##INFO=<ID=DR2,Number=A,Type=Float,Description="Dosage R-Squared">
##INFO=<ID=IMP,Number=0,Type=Flag,Description="Imputed marker">"""


def write_vcf(path: Path, sites: list[Site], *, flavour: str = "minimac4", samples: int = 0) -> Path:
    """A minimac4 or beagle VCF (BGZF), sites-only or with ``samples`` phased GT:DS columns."""
    header, info = (
        (MINIMAC4_HEADER, _info_minimac4) if flavour == "minimac4" else (BEAGLE_HEADER, _info_beagle)
    )
    chroms = list(dict.fromkeys(s.chrom for s in sites))
    lines = [
        "##fileformat=VCFv4.2",
        *(f"##contig=<ID={c}>" for c in chroms),
        header,
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=DS,Number=A,Type=Float,Description="Dosage">',
    ]
    names = [f"S{i}" for i in range(samples)]
    lines.append(
        "\t".join(
            ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
            + (["FORMAT", *names] if samples else [])
        )
    )
    for s in sites:
        row = [s.chrom, str(s.pos), f"{s.chrom}:{s.pos}:{s.ref}:{s.alt}", s.ref, s.alt, ".", "PASS", info(s)]
        if samples:
            row += ["GT:DS"] + ["0|1:1" if (i + s.pos) % 3 else "0|0:0.125" for i in range(samples)]
        lines.append("\t".join(row))
    with BgzfWriter(path) as w:
        w.write(("\n".join(lines) + "\n").encode())
    return path
