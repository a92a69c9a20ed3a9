"""Every corpus file gets the verdict and the message listed for it in expected.json."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fedimpute.preflight import check_files
from tests.preflight.conftest import CORPUS, EXPECTED, service


def _run(name: str, entry: dict):
    options = entry["options"]
    limits = {k: options[k] for k in ("min_samples", "max_samples") if k in options}
    paths = [CORPUS / p for p in options.get("together_with", [])] + [CORPUS / name]
    sites = CORPUS / options["sites"] if "sites" in options else None
    return check_files(paths, build=options.get("build", "auto"), service=service(**limits) if limits else None,
                       panel_sites=sites, phasing=options.get("phasing"))


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["check"] is not None))
def test_corpus__bad_file_gets_its_verdict(name):
    entry = EXPECTED[name]
    report = _run(name, entry)
    result = report.files[-1].check(entry["check"])
    assert result is not None, [c.id for c in report.files[-1].checks]
    assert result.status.value == entry["status"], result
    assert entry["message"] in result.message, result.message
    assert result.fix, "a problem without a fix"
    assert report.ok is (entry["status"] != "fail")


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["check"] is None))
def test_corpus__good_file_has_no_failing_check(name):
    report = _run(name, EXPECTED[name])
    assert report.ok, report.failures()
    assert all(c.status.value != "fail" for f in report.files for c in f.checks)


def test_corpus__covers_every_listed_case():
    """The issue's list of bad inputs, by check id, all have a corpus file."""
    ids = {e["check"] for e in EXPECTED.values()}
    assert ids >= {"compression", "sorted", "one_chromosome", "chromosome_naming", "chromosome_names", "samples",
                   "sample_ids", "ref_alt", "multiallelic", "non_snp", "duplicates", "monomorphic", "site_call_rate",
                   "sample_call_rate", "phasing", "chrx_ploidy", "wgs_density", "records", "integrity", "header",
                   "strand_flips", "allele_switches", "same_samples"}
    assert sum(1 for e in EXPECTED.values() if e["check"] is None) >= 4
    assert all((CORPUS / name).exists() for name in EXPECTED)
    assert all((CORPUS / name).stat().st_size < 64 * 1024 for name in EXPECTED)


def test_corpus__generator_is_deterministic(tmp_path):
    """The committed files are exactly what scripts/make_preflight_corpus.py writes."""
    script = CORPUS.parents[2] / "scripts" / "make_preflight_corpus.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, capture_output=True)
    assert json.loads((tmp_path / "expected.json").read_text()) == EXPECTED
    for name in [*EXPECTED, "panel_sites.tsv", "README.md"]:
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), name
