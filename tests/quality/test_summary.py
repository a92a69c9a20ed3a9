"""R² by MAF bin, per chromosome and typed/imputed: exact numbers on files with chosen values."""

from __future__ import annotations

import gzip

import pytest

from fedimpute.exceptions import UsageError
from fedimpute.quality import MAF_BINS, describe_file, quality_details, sources, summarize_info_files
from tests.quality.files import Site, write_info, write_vcf

#: What the CHR20 + OTHERS sites of conftest must give, worked out by hand.
EXPECTED_BINS = [
    {"maf_lo": 0.0, "maf_hi": 0.001, "n": 2, "mean_r2": 0.25, "frac_r2_ge_0_3": 0.5, "frac_r2_ge_0_8": 0.0},
    {
        "maf_lo": 0.001,
        "maf_hi": 0.005,
        "n": 2,
        "mean_r2": 0.625,
        "frac_r2_ge_0_3": 1.0,
        "frac_r2_ge_0_8": 0.0,
    },
    {"maf_lo": 0.005, "maf_hi": 0.01, "n": 1, "mean_r2": 0.25, "frac_r2_ge_0_3": 0.0, "frac_r2_ge_0_8": 0.0},
    {"maf_lo": 0.01, "maf_hi": 0.05, "n": 1, "mean_r2": 1.0, "frac_r2_ge_0_3": 1.0, "frac_r2_ge_0_8": 1.0},
    {"maf_lo": 0.05, "maf_hi": 0.5, "n": 5, "mean_r2": 0.525, "frac_r2_ge_0_3": 0.8, "frac_r2_ge_0_8": 0.2},
]
EXPECTED_CHROMOSOMES = [
    {"chromosome": "1", "n": 1, "mean_r2": 0.375},
    {"chromosome": "10", "n": 1, "mean_r2": 0.25},
    {"chromosome": "20", "n": 9, "mean_r2": 5.0 / 9},
    {"chromosome": "X", "n": 1, "mean_r2": 0.5},
]
FORMATS = ["info", "mis2-info", "minimac4-sites", "minimac4-dose", "beagle-dose", "beagle-sites"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("strategy", ["auto", "duckdb", "bcftools"])
def test_summary__bins_counts_and_means_are_exact(known_files, fmt, strategy):
    """We can summarize every service's output format, by any read path, to the exact hand-worked numbers."""
    doc = summarize_info_files(known_files[fmt], strategy=strategy)
    assert doc == {"variants": 12, "bins": EXPECTED_BINS, "chromosomes": EXPECTED_CHROMOSOMES}


@pytest.mark.parametrize("fmt", FORMATS)
def test_summary__typed_and_imputed_are_told_apart(known_files, fmt):
    """minimac TYPED/TYPED_ONLY flags, the Genotyped column and beagle's missing IMP all mark the array
    variants (one of the two is typed-only: on the array, not in the panel)."""
    doc = quality_details(known_files[fmt])
    by_status = {s["status"]: s for s in doc["by_status"]}
    assert set(by_status) == {"typed", "imputed"}
    typed, imputed = by_status["typed"], by_status["imputed"]
    assert (typed["n"], typed["mean_r2"], typed["frac_r2_ge_0_8"]) == (2, 0.625, 0.5)
    assert (imputed["n"], imputed["mean_r2"]) == (10, 4.875 / 10)
    assert [b["n"] for b in typed["bins"]] == [0, 0, 0, 1, 1]
    assert [b["n"] for b in imputed["bins"]] == [2, 2, 1, 0, 4]


def test_summary__chromosome_by_bin(known_files):
    doc = quality_details(known_files["info"])
    cells = {(c["chromosome"], c["maf_lo"]): (c["n"], c["mean_r2"]) for c in doc["chromosome_bins"]}
    assert cells == {
        ("1", 0.05): (1, 0.375),
        ("10", 0.05): (1, 0.25),
        ("X", 0.05): (1, 0.5),
        ("20", 0.0): (2, 0.25),
        ("20", 0.001): (2, 0.625),
        ("20", 0.005): (1, 0.25),
        ("20", 0.01): (1, 1.0),
        ("20", 0.05): (2, 0.75),
    }
    assert [c["chromosome"] for c in doc["chromosomes"]] == ["1", "10", "20", "X"]
    assert doc["chromosomes"][2]["frac_r2_ge_0_3"] == 7 / 9


def test_summary__big_gzip_files_are_inflated_by_bgzip_first(known_files, monkeypatch):
    """The staged path (bgzip -dc into a temporary plain file) gives the same numbers as DuckDB's own gzip."""
    monkeypatch.setattr(sources, "STAGE_GZIP_BYTES", 0)
    files = known_files["info"] + known_files["mis2-info"][:1]
    staged = quality_details(files)
    monkeypatch.setattr(sources, "STAGE_GZIP_BYTES", 1 << 40)
    direct = quality_details(files)
    assert staged == direct and staged["variants"] == 12 + 9


def test_summary__chromosome_names_other_than_the_first_row_are_split(tmp_path):
    """The first-row prefix shortcut for chromosomes must not swallow later chromosomes with a longer name."""
    sites = [
        Site("chr1", 10, "A", "G", 0.2, 0.5),
        Site("chr12", 10, "A", "G", 0.2, 1.0),
        Site("chr1", 20, "A", "G", 0.2, 0.25),
        Site("1", 30, "A", "G", 0.2, 0.75),
    ]
    doc = summarize_info_files([write_info(tmp_path / "mixed.info.gz", sites)])
    assert doc["chromosomes"] == [
        {"chromosome": "1", "n": 3, "mean_r2": 0.5},
        {"chromosome": "12", "n": 1, "mean_r2": 1.0},
    ]


def test_summary__no_r2_no_variants(tmp_path):
    doc = summarize_info_files(
        [write_info(tmp_path / "chr1.info.gz", [Site("chr1", 5, "A", "C", 0.1, None)])]
    )
    assert doc["variants"] == 0 and doc["chromosomes"] == []
    assert all(b["n"] == 0 and b["mean_r2"] is None and b["frac_r2_ge_0_8"] is None for b in doc["bins"])
    assert [(b["maf_lo"], b["maf_hi"]) for b in doc["bins"]] == list(MAF_BINS)


def test_summary__errors_name_the_file(tmp_path):
    with pytest.raises(UsageError, match="no quality files"):
        summarize_info_files([])
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n")
    with pytest.raises(UsageError, match="notes.txt: not an imputation quality file: its first line"):
        summarize_info_files([odd])
    plain = write_vcf(tmp_path / "plain.vcf.gz", [Site("chr1", 5, "A", "C", 0.1, 0.5)])
    raw = (
        gzip.decompress(plain.read_bytes()).decode().replace("ID=R2,", "ID=XR2,").replace("R2=0.5", "XR2=0.5")
    )
    plain.write_bytes(gzip.compress(raw.encode()))
    with pytest.raises(UsageError, match="no R2 .minimac4. or DR2 .beagle. INFO field.*fields: AF, AVG_CS"):
        describe_file(plain)
    broken = tmp_path / "chr2.info"
    broken.write_text(
        "SNP\tREF(0)\tALT(1)\tALT_Frq\tMAF\tRsq\tGenotyped\n2:5:A:C\tA\tC\t0.1\tlots\t0.5\tImputed\n"
    )
    with pytest.raises(UsageError, match="cannot read quality file .*chr2.info"):
        summarize_info_files([broken])
    with pytest.raises(UsageError, match="does not exist"):
        summarize_info_files([tmp_path / "missing.info.gz"])
    with pytest.raises(UsageError, match="unknown read strategy"):
        summarize_info_files([broken], strategy="fast")
