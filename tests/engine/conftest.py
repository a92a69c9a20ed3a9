"""Fixtures for the local engine: the committed CI fixture registered as a panel."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fedimpute.engine.tools import missing_tools

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "engine"


@pytest.fixture(autouse=True)
def _tools_present():
    missing = missing_tools("bcftools", "tabix", "minimac4", "beagle", "eagle")
    if missing:  # scripts/setup.sh installs them; a plain `pip install` machine may not have them
        pytest.fail(f"missing tools {missing}: run scripts/setup.sh (Debian) or use environment.yml")


@pytest.fixture
def ci_panel(home):
    from fedimpute.engine.panels import add_panel

    return add_panel(FIXTURE / "ref.vcf.gz", panel_id="sim-ci", name="Simulated CI panel", build="hg38",
                     populations=["all"], genetic_map=FIXTURE / "map.plink", fasta=FIXTURE / "ref.fa.gz", home=home)


@pytest.fixture
def cwltool() -> str:
    from fedimpute.engine.wesenv import ensure_wes_venv

    return str(ensure_wes_venv() / "bin" / "cwltool")


def copy_fixture(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for f in FIXTURE.iterdir():
        shutil.copy(f, dest / f.name)
    return dest
