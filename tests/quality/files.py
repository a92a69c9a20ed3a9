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
    typed_only: bool = False  # on the array but not in the panel: typed, never imputed

    @property
    def maf(self) -> float | None:
        return None if self.af is None else min(self.af, 1 - self.af)


def _num(value: float | None) -> str:
    return "-" if value is None else repr(value)


def _genotyped(s: Site) -> str:
    return "Typed_Only" if s.typed_only else "Genotyped" if s.typed else "Imputed"


def write_info(
    path: Path,
    sites: list[Site],
    *,
    columns: tuple[str, ...] = MICHIGAN_COLUMNS,
    gzipped: bool | None = None,
) -> Path:
    """A minimac info table; gzip when the name ends in .gz (or as ``gzipped`` says, whatever the name)."""
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
            "Genotyped": _genotyped(s),
            "LooRsq": "0.9" if s.typed else "-",
            "EmpR": "0.9" if s.typed else "-",
            "EmpRsq": "0.81" if s.typed else "-",
            "Dose0": "0.5" if s.typed else "-",
            "Dose1": "0.5" if s.typed else "-",
        }
        lines.append("\t".join(values[c] for c in columns))
    data = ("\n".join(lines) + "\n").encode()
    if path.name.endswith(".gz") if gzipped is None else gzipped:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path


def _values_minimac4(s: Site) -> list[str]:
    return [
        f"AF={_num(s.af) if s.af is not None else '.'}",
        f"MAF={_num(s.maf) if s.af is not None else '.'}",
        "AVG_CS=0.99",
        f"R2={'.' if s.r2 is None else repr(s.r2)}",
    ]


def _info_minimac4(s: Site) -> str:
    """minimac4 4.x: typed sites are ``TYPED;IMPUTED``, typed-only ones ``TYPED`` alone."""
    parts = _values_minimac4(s)
    if s.typed_only:
        return ";".join(parts + ["TYPED"])
    if s.typed:
        parts += ["ER2=0.9", "TYPED"]
    return ";".join(parts + ["IMPUTED"])


def _info_mis2(s: Site) -> str:
    """minimac4 1.x (the issue's Michigan 2 info VCF): ``IMPUTED``, ``TYPED`` or ``TYPED_ONLY``, one each."""
    parts = [p for p in _values_minimac4(s) if not p.startswith("AVG_CS")]
    if s.typed_only:
        return ";".join(parts + ["TYPED_ONLY"])
    return ";".join(parts + (["ER2=0.9", "TYPED"] if s.typed else ["IMPUTED"]))


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
#: minimac4 1.x's INFO definitions, as in the info VCF Michigan 2 delivers (the issue's description)
MIS2_HEADER = "\n".join(
    [
        '##INFO=<ID=AF,Number=1,Type=Float,Description="Estimated Alternate Allele Frequency">',
        '##INFO=<ID=MAF,Number=1,Type=Float,Description="Estimated Minor Allele Frequency">',
        '##INFO=<ID=R2,Number=1,Type=Float,Description="Estimated Imputation Accuracy (R-square)">',
        '##INFO=<ID=ER2,Number=1,Type=Float,Description="Empirical (Leave-One-Out) R-square '
        '(available only for genotyped variants)">',
        '##INFO=<ID=IMPUTED,Number=0,Type=Flag,Description="Marker was imputed but NOT genotyped">',
        '##INFO=<ID=TYPED,Number=0,Type=Flag,Description="Marker was genotyped AND imputed">',
        '##INFO=<ID=TYPED_ONLY,Number=0,Type=Flag,Description="Marker was genotyped but NOT imputed">',
    ]
)
BEAGLE_HEADER = """##INFO=<ID=AF,Number=A,Type=Float,Description="Estimated ALT Allele Frequencies">
##INFO=<ID=DR2,Number=A,Type=Float,Description="Dosage R-Squared">
##INFO=<ID=IMP,Number=0,Type=Flag,Description="Imputed marker">"""


FLAVOURS = {
    "minimac4": ("VCFv4.2", MINIMAC4_HEADER, _info_minimac4),
    "mis2": ("VCFv4.1", MIS2_HEADER, _info_mis2),
    "beagle": ("VCFv4.2", BEAGLE_HEADER, _info_beagle),
}


def write_vcf(path: Path, sites: list[Site], *, flavour: str = "minimac4", samples: int = 0) -> Path:
    """A VCF (BGZF), sites-only or with ``samples`` phased GT:DS columns.  ``flavour``: ``minimac4``
    (4.x), ``mis2`` (the info VCF Michigan 2 delivers as chrN.info.gz) or ``beagle``."""
    version, header, info = FLAVOURS[flavour]
    chroms = list(dict.fromkeys(s.chrom for s in sites))
    lines = [
        f"##fileformat={version}",
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


def write_empirical_dose(path: Path, sites: list[Site], *, samples: int = 2) -> Path:
    """An empirical-dose VCF as minimac4 ``-e`` writes it: typed sites, flags only, FORMAT GT:LDS."""
    lines = [
        "##fileformat=VCFv4.2",
        '##INFO=<ID=IMPUTED,Number=0,Type=Flag,Description="Marker was imputed">',
        '##INFO=<ID=TYPED,Number=0,Type=Flag,Description="Marker was genotyped">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotyped alleles from Array">',
        '##FORMAT=<ID=LDS,Number=2,Type=Float,Description="Leave-one-out Imputed Dosage">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT" + "".join(f"\tS{i}" for i in range(samples)),
    ]
    for s in sites:
        snp = f"{s.chrom}:{s.pos}:{s.ref}:{s.alt}"
        row = [s.chrom, str(s.pos), snp, s.ref, s.alt, ".", ".", "TYPED;IMPUTED"]
        lines.append("\t".join(row + ["GT:LDS"] + ["0|1:0.1,0.9"] * samples))
    with BgzfWriter(path) as w:
        w.write(("\n".join(lines) + "\n").encode())
    return path
