"""Panel sites files become Parquet tables: VCF and tab layouts, frequencies, populations, errors."""

from __future__ import annotations

import gzip
import subprocess

import numpy as np
import pytest

from fedimpute.advise.registry import register_sites, registered_sites, sites_table
from fedimpute.advise.sites import convert_sites
from fedimpute.catalogue import make_service
from fedimpute.exceptions import UsageError

VCF_HEADER = """##fileformat=VCFv4.2
##INFO=<ID=AF,Number=A,Type=Float,Description="AF">
##INFO=<ID=EUR_AF,Number=A,Type=Float,Description="EUR AF">
##INFO=<ID=AF_afr,Number=A,Type=Float,Description="AFR AF">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""


def _write(path, text: str, *, compress: bool = False):
    if compress:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def test_vcf__af_populations_and_only_biallelic_snps(tmp_path):
    """AF comes from INFO (else AC/AN); EUR_AF and AF_afr become population columns; indels, multi-allelic
    and non-ACGT records are left out; chr20 and 20 name the same chromosome."""
    body = ("chr20\t300\t.\tG\tA\t.\tPASS\tAF=0.3;EUR_AF=0.25;AF_afr=0.5\n"
            "chr20\t100\t.\tA\tC\t.\tPASS\tAC=10;AN=100\n"
            "chr20\t150\t.\tAT\tA\t.\tPASS\tAF=0.1\n"
            "chr20\t160\t.\tA\tC,G\t.\tPASS\tAF=0.1\n"
            "chr20\t170\t.\tN\tA\t.\tPASS\tAF=0.1\n"
            "chr20\t300\t.\tG\tT\t.\tPASS\tAF=0.9\n")
    table = convert_sites(_write(tmp_path / "s.vcf.gz", VCF_HEADER + body, compress=True), tmp_path / "out")
    assert table.manifest["sites"] == 3 and table.populations == ["afr", "eur"] and table.haplotypes == 100
    assert table.names_for("20") == ["chr20"] and table.names_for("chr20") == ["chr20"]
    chrom = table.chromosome("20", population="EUR")
    assert chrom.pos.tolist() == [100, 300]  # sorted; the first record at 300 kept
    assert chrom.ref.tolist() == [1, 3] and chrom.alt.tolist() == [2, 1]  # A=1 C=2 G=3 T=4
    assert np.allclose(chrom.af, [0.1, 0.3]) and np.isnan(chrom.population_af[0])
    assert chrom.population_af[1] == pytest.approx(0.25)
    assert table.chromosome("20", population="afr").population_af[1] == pytest.approx(0.5)
    assert table.chromosome("20", population="sas").population_af is None  # the panel has no such column
    assert len(table.chromosome("21").pos) == 0
    assert table.chromosome("20", 200, 400).pos.tolist() == [300]


@pytest.mark.parametrize("header", ["CHROM\tPOS\tREF\tALT\tAF\tAF_EUR\n", "#CHROM\tPOS\tREF\tALT\tAF\tEUR_AF\n", ""])
def test_tab_file__with_or_without_a_header(tmp_path, header):
    extra = ("\t0.2", "\t0.1") if header else ("", "")
    body = f"20\t500\tc\tt\t0.4{extra[0]}\n20\t400\tG\tA\t.{extra[1]}\n"
    table = convert_sites(_write(tmp_path / "s.tsv", header + body), tmp_path / "out")
    chrom = table.chromosome("chr20", population="eur")
    assert table.manifest["format"] == "tab" and chrom.pos.tolist() == [400, 500]
    assert chrom.ref.tolist() == [3, 2] and np.isnan(chrom.af[0]) and chrom.af[1] == pytest.approx(0.4)
    if header:
        assert chrom.population_af is not None and np.allclose(chrom.population_af, [0.1, 0.2])
    else:
        assert chrom.population_af is None


def test_engine_fixture_vcf__af_from_ac_an(tmp_path):
    """The engine's simulated panel (genotypes, AC/AN in INFO): the same sites and AF as bcftools gives."""
    from tests.engine.conftest import FIXTURE

    table = convert_sites(FIXTURE / "ref.vcf.gz", tmp_path / "out")
    rows = subprocess.run(["bcftools", "query", "-f", "%POS\t%AC\t%AN\n", str(FIXTURE / "ref.vcf.gz")],
                          capture_output=True, text=True, check=True).stdout.split()
    expected = np.array(rows, float).reshape(-1, 3)
    chrom = table.chromosome("20")
    assert chrom.pos.tolist() == expected[:, 0].astype(int).tolist()
    assert np.allclose(chrom.af, expected[:, 1] / expected[:, 2], atol=1e-6)


@pytest.mark.parametrize("text, message", [
    ("", "has no data lines"),
    ("20\t100\tAT\tA\t0.1\n", "holds no biallelic SNPs"),
    ("20\t100\n", "column(s) per line"),
])
def test_unusable_files_are_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        convert_sites(_write(tmp_path / "bad.tsv", text), tmp_path / "out")
    assert not (tmp_path / "out" / "sites.parquet").exists()


def test_registration_replaces_and_wins_over_the_services_own_file(home, tmp_path, two_pops):
    service = make_service("lab", "wes", "http://127.0.0.1:9")
    with pytest.raises(UsageError, match="does not exist"):
        register_sites(service, "pop-a", tmp_path / "missing.vcf")
    with pytest.raises(UsageError, match="cannot name a folder"):
        register_sites(service, "../x", two_pops / "panel-a.vcf.gz")
    register_sites(service, "pop-a", two_pops / "panel-b.vcf.gz")
    table = register_sites(service, "pop-a", two_pops / "panel-a.vcf.gz")  # a second registration replaces
    assert [(t.manifest["service"], t.manifest["panel_id"]) for t in registered_sites()] == [("lab", "pop-a")]
    assert table.manifest["source"].endswith("panel-a.vcf.gz")
    assert sites_table(service, "pop-a").manifest["source"] == table.manifest["source"]
    assert sites_table(service, "pop-b") is None  # no registration, no panels file
