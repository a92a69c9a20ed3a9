"""``fedimpute check`` through a tiny typer app: exit codes 0/2, JSON on stdout only."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from fedimpute.cli.check import check
from fedimpute.models import Protocol, ServiceConfig
from tests.preflight.conftest import CORPUS

app = typer.Typer()
app.command()(check)


@app.callback()
def _root() -> None:
    """A group, so the command is invoked by name as in the real CLI."""


def _runner() -> CliRunner:
    try:  # click < 8.2 mixes stderr into stdout unless told not to
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def invoke(*args: str):
    return _runner().invoke(app, ["check", *args])


def test_check_cli__good_file_exits_0_with_a_table():
    result = invoke(str(CORPUS / "good_hg19_chr20.vcf.gz"), "--build", "hg19")
    assert result.exit_code == 0, result.stdout
    assert "ready to submit" in result.stdout and "chromosome_naming" in result.stdout


def test_check_cli__failing_file_exits_2():
    result = invoke(str(CORPUS / "plain_gzip.vcf.gz"))
    assert result.exit_code == 2
    assert "compression" in result.stdout and "FAIL" in result.stdout and "not ready" in result.stdout


def test_check_cli__json_is_the_only_stdout():
    result = invoke(str(CORPUS / "unsorted.vcf.gz"), str(CORPUS / "good_hg19_chr20.vcf.gz"), "--json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert [f["path"].rsplit("/", 1)[-1] for f in document["files"]] == ["unsorted.vcf.gz", "good_hg19_chr20.vcf.gz"]
    assert any(c["id"] == "sorted" and c["status"] == "fail" for c in document["files"][0]["checks"])


def test_check_cli__sites_and_phasing_options():
    result = invoke(str(CORPUS / "strand_flips.vcf.gz"), "--sites", str(CORPUS / "panel_sites.tsv"), "--build",
                    "hg19", "--phasing", "eagle", "--json")
    assert result.exit_code == 2
    checks = {c["id"]: c for c in json.loads(result.stdout)["files"][0]["checks"]}
    assert checks["strand_flips"]["status"] == "fail"


def test_check_cli__service_limits_come_from_the_store(home):
    from fedimpute.store import Store

    Store().add_service(ServiceConfig(name="tiny", protocol=Protocol.CLOUDGENE, url="https://x.example",
                                      min_samples=30))
    result = invoke(str(CORPUS / "good_hg19_chr20.vcf.gz"), "--service", "tiny", "--json")
    assert result.exit_code == 2
    checks = {c["id"]: c for c in json.loads(result.stdout)["files"][0]["checks"]}
    assert "At least 30 samples" in checks["samples"]["message"]


def test_check_cli__bad_build_is_a_usage_error():
    result = invoke(str(CORPUS / "good_hg19_chr20.vcf.gz"), "--build", "hg17")
    assert result.exit_code != 0
    assert "--build must be" in str(result.exception)


@pytest.mark.skipif(__import__("shutil").which("bcftools") is None, reason="bcftools not installed")
def test_check_cli__fix_writes_copies_then_checks_them(tmp_path):
    result = invoke(str(CORPUS / "plain_gzip.vcf.gz"), "--fix", str(tmp_path / "fixed"), "--json")
    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    assert [f["path"] for f in document["files"]] == [str(tmp_path / "fixed" / "plain_gzip.vcf.gz")]
    assert any(a["step"] == "compress" for a in document["fixes"])
