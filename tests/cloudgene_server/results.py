"""Result files of a successful job: encrypted per-chromosome zips and QC text files.

Why synthetic but valid content: clients must be able to download, decrypt
and parse what they get (a bgzip VCF with the uploaded samples, a minimac4
info file), and tests need reproducible values, so everything is derived from
a random generator seeded with the job id.

``chrN.info.gz`` is what Michigan 2 / TOPMed deliver today: a sites-only VCF (minimac4
``--sites``, BGZF).  :func:`info_table` keeps the older servers' tab-separated minimac info
table (same name, other content) for the clients' tests of that layout.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import struct
import time
import zlib
from pathlib import Path

import pyzipper

from . import qc as qcmod
from .vcf import Site, VcfFile
from .zipcrypto import ZipCryptoFile

_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_DOSE_HEADER = """##fileformat=VCFv4.1
##filedate={date}
##source=Minimac4.v1.0.2
##phasing=full
##contig=<ID={chrom}>
##INFO=<ID=AF,Number=1,Type=Float,Description="Estimated Alternate Allele Frequency">
##INFO=<ID=MAF,Number=1,Type=Float,Description="Estimated Minor Allele Frequency">
##INFO=<ID=R2,Number=1,Type=Float,Description="Estimated Imputation Accuracy (R-square)">
##INFO=<ID=IMPUTED,Number=0,Type=Flag,Description="Marker was imputed but NOT genotyped">
##INFO=<ID=TYPED,Number=0,Type=Flag,Description="Marker was genotyped AND imputed">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DS,Number=1,Type=Float,Description="Estimated Alternate Allele Dosage : [P(0/1)+2*P(1/1)]">
"""
_INFO_VCF_HEADER = """##fileformat=VCFv4.1
##filedate={date}
##source=Minimac4.v1.0.2
##contig=<ID={chrom}>
##INFO=<ID=AF,Number=1,Type=Float,Description="Estimated Alternate Allele Frequency">
##INFO=<ID=MAF,Number=1,Type=Float,Description="Estimated Minor Allele Frequency">
##INFO=<ID=R2,Number=1,Type=Float,Description="Estimated Imputation Accuracy (R-square)">
##INFO=<ID=ER2,Number=1,Type=Float,Description="Empirical (Leave-One-Out) R-square (available only for genotyped variants)">
##INFO=<ID=IMPUTED,Number=0,Type=Flag,Description="Marker was imputed but NOT genotyped">
##INFO=<ID=TYPED,Number=0,Type=Flag,Description="Marker was genotyped AND imputed">
##INFO=<ID=TYPED_ONLY,Number=0,Type=Flag,Description="Marker was genotyped but NOT imputed">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""  # noqa: E501  (Minimac4's header lines, verbatim)
_INFO_HEADER = "SNP\tREF(0)\tALT(1)\tALT_Frq\tMAF\tAvgCall\tRsq\tGenotyped\n"
INFO_LAYOUTS = ("vcf", "table")


def bgzf(data: bytes) -> bytes:
    """Compress like bgzip: gzip members of at most 64 KiB with the BC extra field, plus the EOF block."""
    out = []
    for start in range(0, len(data), 0xFF00):
        block = data[start : start + 0xFF00]
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        cdata = packer.compress(block) + packer.flush()
        header = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff" + struct.pack(
            "<HBBHH", 6, 66, 67, 2, len(cdata) + 25
        )
        out.append(header + cdata + struct.pack("<II", zlib.crc32(block), len(block)))
    out.append(_BGZF_EOF)
    return b"".join(out)


def job_rng(job_id: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(job_id.encode()).digest()[:8], "big"))


def impute_records(vcf: VcfFile, rng: random.Random, r2_filter: float) -> list[tuple[Site, float, bool]]:
    """Typed sites plus up to two 'imputed' sites in each gap, as (site, r2, typed)."""
    records = []
    for i, site in enumerate(vcf.sites):
        records.append((site, rng.uniform(0.9, 1.0), True))
        gap_end = vcf.sites[i + 1].pos if i + 1 < len(vcf.sites) else site.pos + 300
        for pos in sorted({site.pos + (gap_end - site.pos) * k // 3 for k in (1, 2)} - {site.pos, gap_end}):
            ref, alt = rng.sample("ACGT", 2)
            r2 = rng.uniform(0.05, 1.0)
            if r2 >= r2_filter:
                records.append(
                    (Site(pos, f"{vcf.chrom}:{pos}:{ref}:{alt}", ref, alt, rng.uniform(0.01, 0.6)), r2, False)
                )
    return records


def dose_vcf(vcf: VcfFile, records, rng: random.Random) -> bytes:
    lines = [_DOSE_HEADER.format(date=time.strftime("%Y.%m.%d"), chrom=vcf.chrom)]
    lines.append(
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *vcf.samples])
        + "\n"
    )
    for site, r2, typed in records:
        maf = min(site.af, 1 - site.af)
        info = f"AF={site.af:.5f};MAF={maf:.5f};R2={r2:.5f};{'TYPED' if typed else 'IMPUTED'}"
        cells = []
        for _ in vcf.samples:
            h1, h2 = int(rng.random() < site.af), int(rng.random() < site.af)
            cells.append(f"{h1}|{h2}:{h1 + h2:.3f}")
        snp = f"{vcf.chrom}:{site.pos}:{site.ref}:{site.alt}"
        lines.append(
            "\t".join([vcf.chrom, str(site.pos), snp, site.ref, site.alt, ".", "PASS", info, "GT:DS", *cells])
            + "\n"
        )
    return bgzf("".join(lines).encode())


def info_vcf(vcf: VcfFile, records, rng: random.Random) -> bytes:
    """The Michigan 2 info file: the dose VCF's sites and INFO (ER2 on typed sites), no samples."""
    lines = [_INFO_VCF_HEADER.format(date=time.strftime("%Y.%m.%d"), chrom=vcf.chrom)]
    for site, r2, typed in records:
        maf = min(site.af, 1 - site.af)
        flags = f"ER2={rng.uniform(0.8, 1.0):.5f};TYPED" if typed else "IMPUTED"
        info = f"AF={site.af:.5f};MAF={maf:.5f};R2={r2:.5f};{flags}"
        snp = f"{vcf.chrom}:{site.pos}:{site.ref}:{site.alt}"
        lines.append("\t".join([vcf.chrom, str(site.pos), snp, site.ref, site.alt, ".", "PASS", info]) + "\n")
    return bgzf("".join(lines).encode())


def info_table(vcf: VcfFile, records, rng: random.Random) -> bytes:
    """The info file of Michigan before minimac4 4.x: a gzip tab-separated minimac table."""
    rows = [_INFO_HEADER]
    for site, r2, typed in records:
        maf = min(site.af, 1 - site.af)
        rows.append(
            f"{vcf.chrom}:{site.pos}:{site.ref}:{site.alt}\t{site.ref}\t{site.alt}\t{site.af:.5f}\t{maf:.5f}"
            f"\t{rng.uniform(0.9, 1.0):.5f}\t{r2:.5f}\t{'Genotyped' if typed else 'Imputed'}\n"
        )
    return gzip.compress("".join(rows).encode(), mtime=0)


def write_zip(path: Path, members: dict[str, bytes], password: str, aes: bool) -> None:
    """ZipCrypto by default (opens with plain unzip); WinZip AES-256 when aesEncryption was sent."""
    if aes:
        archive = pyzipper.AESZipFile(
            path,
            "w",
            compression=pyzipper.ZIP_STORED,
            encryption=pyzipper.WZ_AES,
            encryption_kwargs={"nbits": 256},
        )
        archive.setpassword(password.encode())
    else:
        archive = ZipCryptoFile(path, "w", compression=pyzipper.ZIP_STORED, password=password.encode())
    with archive:
        for name, data in members.items():
            archive.writestr(name, data)


def write_results(
    outdir: Path,
    job_id: str,
    vcfs: list[VcfFile],
    qc: qcmod.QcResult,
    *,
    password: str,
    imputation: bool,
    aes: bool,
    meta: bool,
    md5: bool,
    r2_filter: float,
    info_layout: str = "vcf",
) -> list[str]:
    """Write all output files under outdir; returns their names in listing order.  ``info_layout``:
    ``vcf`` (Michigan 2, the default) or ``table`` (the minimac info table of older servers)."""
    if info_layout not in INFO_LAYOUTS:
        raise ValueError(f"unknown info layout {info_layout!r}; expected one of {INFO_LAYOUTS}")
    info_file = info_vcf if info_layout == "vcf" else info_table
    rng, names = job_rng(job_id), []
    to_impute = sorted(vcfs, key=lambda v: _chrom_order(v.bare_chrom)) if imputation else []
    for vcf in to_impute:
        c = vcf.bare_chrom
        records = impute_records(vcf, rng, r2_filter)
        members = {
            f"chr{c}.dose.vcf.gz": dose_vcf(vcf, records, rng),
            f"chr{c}.info.gz": info_file(vcf, records, rng),
        }
        if meta:
            typed = [r for r in records if r[2]]
            members[f"chr{c}.empiricalDose.vcf.gz"] = dose_vcf(vcf, typed, rng)
        write_zip(outdir / f"chr_{c}.zip", members, password, aes)
        names.append(f"chr_{c}.zip")
        if md5:
            digest = hashlib.md5((outdir / f"chr_{c}.zip").read_bytes()).hexdigest()
            (outdir / f"chr_{c}.zip.md5").write_text(f"{digest}  chr_{c}.zip\n")
            names.append(f"chr_{c}.zip.md5")
    texts = {
        "qc_report.txt": qcmod.report_text(qc, job_id),
        "statistics/chunks-excluded.txt": qcmod.chunks_excluded_text(qc),
        "statistics/snps-excluded.txt": qcmod.snps_excluded_text(qc),
    }
    for name, text in texts.items():
        (outdir / name).parent.mkdir(parents=True, exist_ok=True)
        (outdir / name).write_text(text)
    return names + list(texts)


def _chrom_order(chrom: str) -> tuple[int, str]:
    return (int(chrom), "") if chrom.isdigit() else (100, chrom)


def display_size(size: int) -> str:
    """commons-io byteCountToDisplaySize: 1024-based units, rounded down."""
    for unit, power in (("EB", 6), ("PB", 5), ("TB", 4), ("GB", 3), ("MB", 2), ("KB", 1)):
        if size // 1024**power > 0:
            return f"{size // 1024**power} {unit}"
    return f"{size} bytes"
