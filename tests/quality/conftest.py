"""Fixtures for quality tests: files with known values, and real minimac4 / beagle outputs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fedimpute.engine.tools import missing_tools
from tests.quality.files import ENGINE_COLUMNS, Site, write_info, write_vcf

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "engine"
IMPUTE_SCRIPT = (
    Path(__file__).resolve().parents[2]
    / "fedimpute"
    / "engine"
    / "workflow"
    / "tools"
    / "impute-chromosome.sh"
)

#: chr20 sites for one file, other chromosomes for a second one (see test_summary for the sums).
CHR20 = [
    Site("chr20", 1000, "A", "G", 0.0005, 0.125),
    Site("chr20", 1100, "C", "T", 0.9995, 0.375),
    Site("chr20", 1200, "G", "A", 0.001, 0.5),  # MAF exactly 0.001: second bin (left-closed)
    Site("chr20", 1300, "T", "C", 0.003, 0.75),
    Site("chr20", 1400, "A", "C", 0.005, 0.25),  # exactly 0.005: third bin
    Site("chr20", 1500, "C", "G", 0.02, 1.0, typed=True),
    Site("chr20", 1600, "G", "T", 0.05, 0.875),  # exactly 0.05: last bin
    Site("chr20", 1700, "T", "A", 0.5, 0.625),  # exactly 0.5: the last bin is closed
    Site("chr20", 1800, "A", "T", 0.3, None),  # no R²: counted nowhere
    Site("chr20", 1900, "C", "A", None, 0.5),  # R² but no frequency: counted, in no bin
]
OTHERS = [
    Site("chrX", 500, "A", "G", 0.55, 0.5),
    Site("chr1", 700, "C", "T", 0.2, 0.375),
    Site("chr10", 900, "G", "C", 0.1, 0.25, typed=True, typed_only=True),
]


def _tools_or_fail(*tools: str) -> None:
    missing = missing_tools(*tools)
    if missing:
        pytest.fail(f"missing tools {missing}: run scripts/setup.sh (Debian) or use environment.yml")


@pytest.fixture
def known_files(tmp_path):
    """The same sites in every format a service delivers: {format: [files]}."""

    def folder(name: str) -> Path:
        path = tmp_path / name
        path.mkdir()
        return path

    def vcfs(name: str, suffix: str = "dose.vcf.gz", **kw) -> list[Path]:
        d = folder(name)
        return [
            write_vcf(d / f"chr20.{suffix}", CHR20, **kw),
            write_vcf(d / f"others.{suffix}", OTHERS, **kw),
        ]

    info = folder("info")
    return {
        "info": [
            write_info(info / "chr20.info.gz", CHR20),
            write_info(info / "others.info", OTHERS, columns=ENGINE_COLUMNS),
        ],
        "mis2-info": vcfs("mis2", "info.gz", flavour="mis2"),  # Michigan 2's chrN.info.gz
        "minimac4-sites": vcfs("m4s"),
        "minimac4-dose": vcfs("m4d", samples=4),
        "beagle-dose": vcfs("bgd", flavour="beagle", samples=4),
        "beagle-sites": vcfs("bgs", flavour="beagle"),
    }


def _impute(folder: Path, *args: str) -> Path:
    folder.mkdir(parents=True)
    F = FIXTURE
    env = {**os.environ, "JAVA_TOOL_OPTIONS": "-Xmx1g"}
    proc = subprocess.run(
        [
            "bash",
            str(IMPUTE_SCRIPT),
            "--vcf",
            str(F / "array.vcf.gz"),
            "--panel-vcf",
            str(F / "ref.vcf.gz"),
            "--map-plink",
            str(F / "map.plink"),
            *args,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return folder


@pytest.fixture(scope="module")
def real_outputs(tmp_path_factory) -> dict[str, Path]:
    """minimac4 (eagle-phased) and beagle run on the committed CI fixture, as the workflow runs them:
    minimac4's dose VCF and chr20.info.gz (the info VCF ``minimac4 --sites`` wrote), beagle's own dose
    VCF (DR2), and the engine's rewritten dose VCF and info VCF."""
    _tools_or_fail("bcftools", "tabix", "bgzip", "minimac4", "beagle", "eagle")
    root = tmp_path_factory.mktemp("real-outputs")
    m = _impute(
        root / "minimac4",
        "--map-minimac",
        str(FIXTURE / "map.minimac.txt"),
        "--map-eagle",
        str(FIXTURE / "map.eagle.txt.gz"),
    )
    b = _impute(root / "beagle", "--phasing", "beagle", "--imputer", "beagle")
    return {
        "minimac4-dose": m / "chr20.dose.vcf.gz",
        "minimac4-info": m / "chr20.info.gz",
        "beagle-raw": b / "beagle-imputed.vcf.gz",
        "beagle-dose": b / "chr20.dose.vcf.gz",
        "beagle-info": b / "chr20.info.gz",
    }
