"""The shipped CWL workflow, run by cwltool directly (outside fedimpute), imputes accurately."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fedimpute.engine.panels import panel_workflow_params
from fedimpute.engine.scoring import score_against_truth
from fedimpute.engine.workflow import workflow_path
from fedimpute.quality import describe_file
from tests.engine.conftest import FIXTURE


def _run(cwltool: str, tmp_path: Path, params: dict) -> tuple[subprocess.CompletedProcess, Path]:
    job = tmp_path / "job.json"
    job.write_text(json.dumps(params))
    out = tmp_path / "out"
    proc = subprocess.run([cwltool, "--outdir", str(out), str(workflow_path()), str(job)],
                          capture_output=True, text=True, timeout=600)
    return proc, out


def _params(home, **extra) -> dict:
    return {"vcfs": [{"class": "File", "path": str(FIXTURE / "array.vcf.gz")}], "panel": "sim-ci",
            **panel_workflow_params("sim-ci", home), **extra}


@pytest.mark.parametrize("phasing, imputer", [("eagle", "minimac4"), ("beagle", "beagle")])
def test_workflow__accuracy_against_truth(cwltool, ci_panel, home, tmp_path, phasing, imputer):
    """We can run `cwltool impute.cwl job.json` and get accurate dosages with R2 on every variant."""
    proc, out = _run(cwltool, tmp_path, _params(home, phasing=phasing, imputer=imputer, java_heap="1g"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    dose = out / "chr20.dose.vcf.gz"
    assert dose.exists() and (out / "chr20.info.gz").exists() and (out / "qc_report.txt").exists()
    assert (out / "statistics" / "snps-excluded.txt").exists()
    assert (out / "statistics" / "chunks-excluded.txt").exists()
    scores = {(s.maf_lo, s.maf_hi): s for s in score_against_truth(
        dose, FIXTURE / "truth.vcf.gz", FIXTURE / "ref.vcf.gz", FIXTURE / "array.vcf.gz")}
    print({k: (v.sites, v.aggregate_r2) for k, v in scores.items()})
    assert scores[(0.05, 0.5)].aggregate_r2 > 0.90
    assert scores[(0.01, 0.05)].aggregate_r2 > 0.75
    info = subprocess.run(["bcftools", "query", "-f", "%INFO/R2\t%INFO/IMPUTED\t%INFO/TYPED\t%INFO/MAF\n",
                           str(dose)], capture_output=True, text=True, check=True).stdout.splitlines()
    imputed = [line.split("\t") for line in info if line.split("\t")[1] == "1"]
    assert len(imputed) > 3000 and all(r[0] not in (".", "") for r in imputed)  # R2 on every imputed variant
    report = (out / "qc_report.txt").read_text()
    assert "Imputed variants:" in report and "Chunks: 1\nChunks excluded: 0\n" in report  # 20 Mb chunks: one
    assert (out / "chr20.dose.vcf.gz.tbi").exists() and (out / "tool-versions.json").exists()
    _assert_michigan2_info(out / "chr20.info.gz", dose)


def _query(path: Path, fmt: str) -> list[str]:
    return subprocess.run(["bcftools", "query", "-f", fmt, str(path)], capture_output=True, text=True,
                          check=True).stdout.splitlines()


def _assert_michigan2_info(info: Path, dose: Path) -> None:
    """chrN.info.gz is what Michigan 2 delivers: a BGZF sites-only VCF (minimac4 --sites) with the dose
    VCF's sites and quality INFO, whatever engine ran."""
    assert info.read_bytes()[:4] == b"\x1f\x8b\x08\x04"  # BGZF, not zstd SAV
    qf = describe_file(info)
    assert (qf.kind, qf.sites_only) == ("vcf", True) and {"AF", "MAF", "R2", "IMPUTED", "TYPED"} <= qf.info_tags
    fields = "%CHROM\t%POS\t%REF\t%ALT\t%INFO/AF\t%INFO/MAF\t%INFO/R2\t%INFO/TYPED\t%INFO/IMPUTED\n"
    assert _query(info, fields) == _query(dose, fields)


def test_workflow__unphased_with_no_phasing_fails_with_server_message(cwltool, ci_panel, home, tmp_path):
    proc, out = _run(cwltool, tmp_path, _params(home, phasing="no_phasing"))
    assert proc.returncode != 0
    assert "Your input data is unphased. Please select an algorithm for phasing." in proc.stderr


def test_workflow__qc_only_writes_report_and_no_dosages(cwltool, ci_panel, home, tmp_path):
    proc, out = _run(cwltool, tmp_path, _params(home, mode="qc-only"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (out / "chr20.dose.vcf.gz").exists() and not (out / "chr20.info.gz").exists()
    report = (out / "qc_report.txt").read_text()
    assert "Remaining sites in total: 206" in report and "Chunks: 1\nChunks excluded: 0\n" in report
    assert "Chunks imputed" not in report
