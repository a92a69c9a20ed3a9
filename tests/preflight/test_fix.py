"""``fix_files`` writes corrected copies with bcftools/bgzip/tabix and says what it changed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fedimpute.preflight import check_files, fix_files
from fedimpute.preflight.fix import MissingToolError, require_tools
from tests.preflight.conftest import CORPUS

needs_tools = pytest.mark.skipif(any(shutil.which(t) is None for t in ("bcftools", "bgzip", "tabix")),
                                 reason="bcftools/bgzip/tabix not installed (apt-get install bcftools tabix)")


@needs_tools
@pytest.mark.parametrize("name, step", [("plain_gzip.vcf.gz", "compress"), ("uncompressed.vcf", "compress"),
                                        ("unsorted.vcf.gz", "sort"), ("chr20_under_hg19.vcf.gz", "rename")])
def test_fix_files__repairs_what_it_can(tmp_path, name, step):
    actions = fix_files([CORPUS / name], tmp_path, build="hg19")
    assert step in [a.step for a in actions]
    assert all(a.detail for a in actions)
    output = tmp_path / (name.removesuffix(".gz").removesuffix(".vcf") + ".vcf.gz")
    assert output.exists() and (tmp_path / f"{output.name}.tbi").exists()
    report = check_files([output], build="hg19")
    assert report.ok, report.failures()
    assert not list(tmp_path.glob(".fix-*")), "temporary folder left behind"


@needs_tools
def test_fix_files__splits_by_chromosome(tmp_path):
    actions = fix_files([CORPUS / "two_chromosomes.vcf.gz"], tmp_path, build="hg19")
    parts = sorted(p.name for p in tmp_path.glob("*.vcf.gz"))
    assert parts == ["two_chromosomes.20.vcf.gz", "two_chromosomes.21.vcf.gz"]
    report = check_files(sorted(tmp_path.glob("*.vcf.gz")), build="hg19")
    assert [f.chromosomes for f in report.files] == [["20"], ["21"]]
    assert all(f.check("one_chromosome").status.value == "pass" for f in report.files)
    assert any("wrote chromosome 21" in a.detail for a in actions)


@needs_tools
def test_fix_files__commands_can_be_rerun(tmp_path):
    actions = fix_files([CORPUS / "unsorted.vcf.gz"], tmp_path, build="hg19")
    (sort,) = [a for a in actions if a.step == "sort"]
    assert sort.command.startswith("bcftools sort")


@needs_tools
def test_fix_files__skips_what_cannot_be_read(tmp_path):
    actions = fix_files([CORPUS / "random_bytes.vcf.gz"], tmp_path)
    assert [a.step for a in actions] == ["skip"]
    assert "binary data" in actions[0].detail


@needs_tools
def test_fix_files__good_file_is_copied_and_indexed(tmp_path):
    actions = fix_files([CORPUS / "good_hg19_chr20.vcf.gz"], tmp_path, build="hg19")
    assert [a.step for a in actions] == ["copy", "index"]
    index = subprocess.run(["tabix", "-l", str(tmp_path / "good_hg19_chr20.vcf.gz")], capture_output=True, text=True,
                           check=True)
    assert index.stdout.split() == ["20"]


def test_require_tools__names_the_packages(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(MissingToolError) as info:
        require_tools("bcftools", "tabix")
    message = str(info.value)
    assert "apt-get install bcftools tabix" in message and "conda install" in message and "bioconda::htslib" in message
