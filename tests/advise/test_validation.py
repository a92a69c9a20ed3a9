"""The advisor against real imputation: on two populations that split long ago, the panel of the cohort's
own population is ranked first, and the local engine's workflow, run with each panel, agrees.

Both panels go into the local engine's registry (so their sites come from the registry's
``panel.sites.vcf.gz``); ``fedimpute advise`` ranks them; then ``cwltool`` runs the engine's CWL
workflow (impute.cwl: eagle, then minimac4) once per panel, and the achieved mean r² of the cohort's
common variants (MAF >= 5% among the targets, untyped; scored against the simulated truth) is compared.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fedimpute.advise.validation import score_common
from fedimpute.catalogue import make_service
from tests.advise.cli import run_json

pytestmark = pytest.mark.slow


@pytest.fixture
def engine_panels(store, two_pops) -> list[str]:
    from fedimpute.engine.panels import add_panel

    store.add_service(make_service("local", "local", "http://127.0.0.1:9"))
    for p in ("a", "b"):
        add_panel(two_pops / f"panel-{p}.vcf.gz", panel_id=f"pop-{p}", name=f"Population {p.upper()}", build="hg38",
                  populations=["all"], genetic_map=two_pops / "map.plink", home=store.home)
    return ["pop-a", "pop-b"]


def impute(cwltool: str, home: Path, two_pops: Path, panel_id: str, work: Path) -> Path:
    from fedimpute.engine.panels import panel_workflow_params
    from fedimpute.engine.workflow import workflow_path

    work.mkdir()
    job = work / "job.json"
    job.write_text(json.dumps({"vcfs": [{"class": "File", "path": str(two_pops / "array.vcf.gz")}], "panel": panel_id,
                               **panel_workflow_params(panel_id, home)}))
    proc = subprocess.run([cwltool, "--outdir", str(work / "out"), str(workflow_path()), str(job)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work / "out" / "chr20.dose.vcf.gz"


def test_matching_panel_ranked_first_and_imputes_better(capsys, monkeypatch, store, two_pops, engine_panels, tmp_path):
    from fedimpute.engine.wesenv import ensure_wes_venv

    advice = run_json(capsys, monkeypatch, "advise", str(two_pops / "array.vcf.gz"), "--service", "local")
    ranking = {r["panel_id"]: r for r in advice["ranking"]}
    assert [r["panel_id"] for r in advice["ranking"]] == ["pop-a", "pop-b"]
    assert advice["submit"].endswith("--service local --panel pop-a --build hg38")
    cwltool = str(ensure_wes_venv() / "bin" / "cwltool")
    achieved = {}
    for panel_id in engine_panels:
        dose = impute(cwltool, store.home, two_pops, panel_id, tmp_path / panel_id)
        achieved[panel_id] = score_common(dose, two_pops / "truth.vcf.gz", two_pops / "array.vcf.gz")
    with capsys.disabled():
        print()
        for panel_id, score in achieved.items():
            row = ranking[panel_id]
            print(f"{panel_id}: advisor expected R2 {row['expected_r2']:.3f}, {row['expected_well_imputed']:.0%} with "
                  f"R2 >= 0.8 (overlap {row['overlap']:.3f}, AF r {row['af_correlation']:.3f}); local engine achieved "
                  f"mean R2 (MAF >= 5%) {score.mean_r2:.3f}, {score.well_imputed:.0%} with R2 >= 0.8, over "
                  f"{score.sites} common variants ({score.imputed} imputed; minimac4's own mean R2 "
                  f"{score.mean_estimated_r2:.3f})")
    assert achieved["pop-a"].mean_r2 > achieved["pop-b"].mean_r2 + 0.2
    for panel_id, score in achieved.items():  # the calibrated heuristic is close on this simulation too
        assert abs(ranking[panel_id]["expected_r2"] - score.mean_r2) < 0.15, panel_id
