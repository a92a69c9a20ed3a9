"""The report's JSON is the CLI contract's document: ``{ok, files: [{path, chromosomes, build, samples,
variants, checks: [{id, status, message, fix}]}]}``, and bad inputs become failing checks."""

from __future__ import annotations

import json

import pytest

from fedimpute.exceptions import UsageError
from fedimpute.preflight import check_files, run_preflight_for_submit
from tests.preflight.conftest import CORPUS, service, vcf_text, write


def test_report_json__has_the_contract_keys_and_types():
    report = check_files([CORPUS / "good_hg19_chr20.vcf.gz", CORPUS / "plain_gzip.vcf.gz"], build="hg19")
    document = json.loads(json.dumps(report.to_json()))
    assert set(document) == {"ok", "files"}
    assert document["ok"] is False
    for f in document["files"]:
        assert set(f) == {"path", "chromosomes", "build", "samples", "variants", "checks"}
        assert isinstance(f["path"], str) and isinstance(f["chromosomes"], list)
        assert f["build"] in ("hg19", "hg38", None)
        assert isinstance(f["samples"], int) and isinstance(f["variants"], int)
        for c in f["checks"]:
            assert set(c) == {"id", "status", "message", "fix"}
            assert c["status"] in ("pass", "warn", "fail") and c["message"]
    good = document["files"][0]
    assert (good["chromosomes"], good["build"], good["samples"], good["variants"]) == (["20"], "hg19", 25, 40)


def test_report_json__build_is_detected_when_auto():
    report = check_files([CORPUS / "good_hg38_chr20_phased.vcf.gz"])
    assert report.files[0].build == "hg38"
    assert "GRCh38" in report.files[0].check("build").message


@pytest.mark.parametrize("make", ["missing", "folder", "random", "empty", "text"])
def test_check_files__bad_input_is_a_failing_check_not_an_error(tmp_path, make):
    path = tmp_path / "input.vcf.gz"
    if make == "folder":
        path.mkdir()
    elif make == "random":
        path.write_bytes(bytes(range(256)) * 8)
    elif make == "empty":
        path.write_bytes(b"")
    elif make == "text":
        path.write_text("this is not a VCF\nat all\n")
    report = check_files([path])
    assert not report.ok
    (failure,) = [c for c in report.files[0].checks if c.status.value == "fail"][:1]
    assert failure.message and failure.fix
    assert "internal error" not in failure.message


def test_check_files__missing_file_names_the_path(tmp_path):
    report = check_files([tmp_path / "nope.vcf.gz"])
    assert "does not exist" in report.files[0].checks[0].message


@pytest.mark.parametrize("kwargs", [{"build": "hg18"}, {"panel_sites": "/nonexistent/sites.tsv"}])
def test_check_files__bad_arguments_raise_usage_error(kwargs):
    with pytest.raises(UsageError):
        check_files([CORPUS / "good_hg19_chr20.vcf.gz"], **kwargs)


def test_check_files__no_files_is_a_usage_error():
    with pytest.raises(UsageError, match="no files"):
        check_files([])


def test_run_preflight_for_submit__defaults_to_hg19_and_applies_limits():
    report = run_preflight_for_submit([CORPUS / "too_few_samples.vcf.gz"], service(min_samples=20), build=None,
                                      phasing="eagle")
    assert report.files[0].build == "hg19"
    assert not report.ok and report.files[0].check("samples").failed


def test_check_files__upload_size_against_the_service_limit(tmp_path):
    report = check_files([CORPUS / "good_hg19_chr20.vcf.gz"], service=service(max_upload_mb=1))
    assert report.files[0].check("upload_size").status.value == "pass"
    row = "\t".join(["20", "{pos}", ".", "A", "C", ".", "PASS", ".", "GT", *["0/1"] * 200])
    big = write(tmp_path / "big.vcf", vcf_text([row.format(pos=60_000 + i) for i in range(1500)], 200), how="plain")
    report = check_files([big], service=service(max_upload_mb=1))
    assert report.files[0].check("upload_size").failed


def test_check_files__service_builds_are_enforced():
    report = check_files([CORPUS / "good_hg19_chr20.vcf.gz"], build="hg19", service=service(builds=["hg38"]))
    assert report.files[0].check("service_build").failed


def test_check_files__same_chromosome_twice_fails(tmp_path):
    a = CORPUS / "good_hg19_chr20.vcf.gz"
    b = tmp_path / "copy.vcf.gz"
    b.write_bytes(a.read_bytes())
    report = check_files([a, b], build="hg19")
    assert "Only one file per chromosome allowed" in report.files[1].check("one_file_per_chromosome").message


@pytest.mark.parametrize("idle", [0.0, 2.0])
@pytest.mark.parametrize("reader", ["libdeflate", "hts", "zlib"])
def test_check_files__truncated_file_reports_what_was_read(tmp_path, monkeypatch, reader, idle):
    """A cut in the middle of a multi-block file: the records before the cut are still checked, whether
    the machine is busy (no decompression threads) or idle (threads)."""
    import random

    from tests.preflight.conftest import random_vcf

    whole = write(tmp_path / "whole.vcf.gz", random_vcf(random.Random(9), samples=60, records=3000))
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    monkeypatch.setenv("FEDIMPUTE_PREFLIGHT_READER", reader)
    monkeypatch.setattr("fedimpute.preflight.reader.idle_cpus", lambda: idle)
    report = check_files([cut])
    integrity = report.files[0].check("integrity")
    assert integrity.failed and "truncated" in integrity.message
    assert report.files[0].variants and 0 < report.files[0].variants < 3000
