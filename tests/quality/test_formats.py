"""Quality files are recognised by their content: every layout under any name, and a clear error
naming what was found for anything else."""

from __future__ import annotations

import gzip
import subprocess

import pytest

from fedimpute.exceptions import UsageError
from fedimpute.quality import describe_file, quality_details, summarize_info_files
from tests.quality.conftest import CHR20, OTHERS
from tests.quality.files import ENGINE_COLUMNS, write_empirical_dose, write_info, write_vcf


def test_describe_file__michigan2_info_vcf_named_info_gz(tmp_path):
    """We can read chrN.info.gz when Michigan 2 made it a sites-only VCF (it used to be a tab table)."""
    qf = describe_file(write_vcf(tmp_path / "chr20.info.gz", CHR20, flavour="mis2"))
    assert (qf.kind, qf.gzipped, qf.sites_only, qf.first_chrom) == ("vcf", True, True, "chr20")
    assert {"AF", "MAF", "R2", "ER2", "IMPUTED", "TYPED", "TYPED_ONLY"} <= qf.info_tags
    assert qf.layout == "info VCF (sites only) with R2"
    (tmp_path / "old").mkdir()
    table = describe_file(write_info(tmp_path / "old" / "chr20.info.gz", CHR20))
    assert (table.kind, table.layout, table.first_chrom) == ("info", "minimac info table", "chr20")


@pytest.mark.parametrize(
    "name, gzipped",
    [("chr20.dose.vcf.gz", True), ("results.txt", True), ("chr20.info.gz", False), ("chr20", False)],
)
def test_describe_file__info_table_under_any_name(tmp_path, name, gzipped):
    """The name's suffix decides neither the layout nor the compression (DuckDB is told, never guesses)."""
    path = write_info(tmp_path / name, CHR20, gzipped=gzipped)
    qf = describe_file(path)
    assert (qf.kind, qf.gzipped) == ("info", gzipped)
    assert summarize_info_files([path])["variants"] == 9


@pytest.mark.parametrize("name", ["chr20.info", "chr20.txt.gz", "quality"])
@pytest.mark.parametrize("strategy", ["auto", "duckdb", "bcftools"])
def test_describe_file__vcf_under_any_name(tmp_path, name, strategy):
    gz = write_vcf(tmp_path / "x.vcf.gz", CHR20, flavour="mis2")
    path = tmp_path / name
    path.write_bytes(gz.read_bytes() if name.endswith(".gz") else gzip.decompress(gz.read_bytes()))
    doc = quality_details([path], strategy=strategy)
    assert doc["variants"] == 9 and [s["n"] for s in doc["by_status"]] == [8, 1]


def test_typed__flags_of_every_minimac_generation(tmp_path):
    """TYPED and TYPED_ONLY (minimac4 1.x), TYPED without IMPUTED (4.x typed-only), Genotyped/Typed_Only."""
    files = {
        "mis2": write_vcf(tmp_path / "a.info.gz", OTHERS, flavour="mis2"),
        "minimac4": write_vcf(tmp_path / "b.info.gz", OTHERS),
        "table": write_info(tmp_path / "c.info.gz", OTHERS, columns=ENGINE_COLUMNS),
    }
    raw = gzip.decompress(files["mis2"].read_bytes()).decode()
    assert "TYPED_ONLY" in raw.split("#CHROM")[1]  # the flag is really in a record
    for kind, path in files.items():
        by_status = {s["status"]: s["n"] for s in quality_details([path])["by_status"]}
        assert by_status == {"typed": 1, "imputed": 2}, kind


def test_typed__header_with_imputed_only_means_the_rest_are_typed(tmp_path):
    """A minimac4 1.x file declaring only IMPUTED ("imputed but NOT genotyped"): the others are typed."""
    path = write_vcf(tmp_path / "chr20.info.gz", CHR20, flavour="mis2")
    text = gzip.decompress(path.read_bytes()).decode()
    text = "\n".join(line for line in text.splitlines() if "ID=TYPED" not in line) + "\n"
    path.write_bytes(gzip.compress(text.replace(";ER2=0.9;TYPED", "").encode()))
    assert [s["n"] for s in quality_details([path])["by_status"]] == [8, 1]


def _error(path) -> str:
    with pytest.raises(UsageError) as info:
        describe_file(path)
    return str(info.value)


def test_describe_file__errors_name_what_was_found(tmp_path):
    """A file that is none of the layouts gets one line naming the file, what it is and the fix."""
    empty = tmp_path / "chr1.info.gz"
    empty.write_bytes(b"")
    assert "chr1.info.gz: not an imputation quality file: it is empty." in _error(empty)
    empty_gz = tmp_path / "chr2.info.gz"
    empty_gz.write_bytes(gzip.compress(b""))
    assert "it is empty once decompressed" in _error(empty_gz)

    table = tmp_path / "chr3.info.gz"
    table.write_bytes(gzip.compress(b"CHROM\tPOS\tINFO_SCORE\n1\t5\t0.9\n"))
    message = _error(table)
    assert "tab-separated table with columns CHROM, POS, INFO_SCORE (no SNP and Rsq columns)" in message
    assert "minimac4 info VCFs" in message  # what would have been read

    text = tmp_path / "chr4.info"
    text.write_text("<html>download not found</html>\n")
    assert "its first line is '<html>download not found</html>'" in _error(text)
    header = tmp_path / "chr5.info"
    header.write_text("##fileformat=BED\n")
    assert "is a header line, but not a VCF's" in _error(header)
    no_chrom = tmp_path / "chr6.vcf"
    no_chrom.write_text("##fileformat=VCFv4.2\n1\t5\t.\tA\tC\t.\t.\tR2=1\n")
    assert "starts like a VCF but has no #CHROM header line" in _error(no_chrom)


def test_describe_file__binary_content_is_named_with_its_fix(tmp_path):
    zstd = tmp_path / "chr20.info.gz"
    zstd.write_bytes(bytes.fromhex("28b52ffd") + bytes(30))
    assert "zstd-compressed data" in _error(zstd) and "-O vcf.gz" in _error(zstd)
    archive = tmp_path / "chr_20.zip"
    archive.write_bytes(b"PK\x03\x04" + bytes(30))
    assert "a zip archive; `fedimpute results download JOB_ID`" in _error(archive)
    blob = tmp_path / "chr20.info"
    blob.write_bytes(b"\x01\x02\x00\x00garbage")
    assert "binary data (it starts with bytes 01 02 00 00" in _error(blob)
    damaged = tmp_path / "chr21.info.gz"
    damaged.write_bytes(b"\x1f\x8b\x09" + bytes(30))  # gzip magic, unknown method
    assert "cannot be decompressed" in _error(damaged) and "download it again" in _error(damaged)
    cut = write_info(tmp_path / "chr22.info.gz", CHR20 * 500)
    cut.write_bytes(cut.read_bytes()[:-200])  # the header is intact, the rows are cut short
    with pytest.raises(UsageError, match="cannot read quality file .*chr22.info.gz.*cut short: download it"):
        summarize_info_files([cut])


def test_describe_file__bcf_index_and_empirical_dose_are_named(tmp_path):
    vcf = write_vcf(tmp_path / "chr20.dose.vcf.gz", CHR20, samples=2)
    bcf = tmp_path / "chr20.info.gz"  # a BCF under an info file's name
    subprocess.run(["bcftools", "view", "-Ob", "-o", str(bcf), str(vcf)], check=True, capture_output=True)
    assert "a BCF file (binary VCF); convert it with `bcftools view -Oz" in _error(bcf)
    subprocess.run(["tabix", "-p", "vcf", str(vcf)], check=True)
    assert "a tabix index (.tbi), not data" in _error(tmp_path / "chr20.dose.vcf.gz.tbi")
    empirical = write_empirical_dose(tmp_path / "chr20.dose2.vcf.gz", CHR20[:3])
    assert "it is an empirical-dose VCF (FORMAT LDS" in _error(empirical)
    with pytest.raises(UsageError, match="does not exist"):
        describe_file(tmp_path / "nothing.info.gz")
