"""The crate of a local-engine job: one real run (minutes on a small machine), shared by this module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.engine.conftest import FIXTURE
from tests.provenance.conftest import (
    assert_no_secret,
    by_type,
    crate_texts,
    entity,
    facts,
    option_values,
    read_crate,
    run_provenance,
    sha256,
)

pytestmark = pytest.mark.slow

PASSWORD = "planted-local-password-3Vb8"


def _environment(home: Path) -> dict[str, str]:
    """The process environment without the developer's FEDIMPUTE_* settings, for this module's home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDIMPUTE_")}
    return {**env, "FEDIMPUTE_HOME": str(home), "FEDIMPUTE_SECRETS": "file", "FEDIMPUTE_USER": "tester",
            "FEDIMPUTE_HEALTH_PERIOD": "0"}


def _cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fedimpute", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def local_job(tmp_path_factory) -> Iterator[tuple[dict[str, str], Path, str, Path]]:
    """(environment, home, job id, the input): one completed, downloaded job of the local engine, sent with
    a planted result password; the engine runs while the module's tests run and is stopped after them.
    (Tokens are planted in the Cloudgene test: the engine takes none until partner tokens exist.)"""
    home = tmp_path_factory.mktemp("local-provenance") / "home"
    env = _environment(home)
    added = _cli(env, "engine", "add-panel", str(FIXTURE / "ref.vcf.gz"), "--id", "sim-ci", "--name",
                 "Simulated CI panel", "--build", "hg38", "--population", "all", "--map", str(FIXTURE / "map.plink"),
                 "--fasta", str(FIXTURE / "ref.fa.gz"))
    assert added.returncode == 0, added.stderr
    started = _cli(env, "engine", "start", timeout=180)
    assert started.returncode == 0, started.stderr
    try:
        assert _cli(env, "panels", "local").returncode == 0
        sub = _cli(env, "submit", str(FIXTURE / "array.vcf.gz"), "--service", "local", "--panel", "sim-ci", "--build",
                   "hg38", "--phasing", "eagle", "--password", PASSWORD, "--wait", "--download",
                   str(home / "results" / "local-job"), "--json", timeout=900)
        assert sub.returncode == 0, sub.stderr
        job = json.loads(sub.stdout)
        assert job["status"] == "completed"
        yield env, home, job["job_id"], FIXTURE / "array.vcf.gz"
    finally:
        _cli(env, "engine", "stop")


def test_local_crate__inputs_results_tools_panel_options(local_job):
    env, home, job_id, vcf = local_job
    proc = run_provenance(job_id, env=env)
    assert proc.returncode == 0, proc.stderr
    crate = read_crate(home / "results" / job_id / "provenance")

    source = entity(crate, "#input-1")
    assert (source["name"], source["sha256"], source["contentSize"]) == (vcf.name, sha256(vcf), str(vcf.stat().st_size))
    assert facts(crate, "#input-1")["chromosomes"] in ("chr20", ["chr20"])
    results = json.loads(_cli(env, "jobs", "show", job_id, "--json").stdout)["results"]
    assert any(r["name"].endswith("dose.vcf.gz") for r in results)
    for record in results:
        described = entity(crate, f"#result-{record['name']}")
        assert described["sha256"] == sha256(Path(record["path"])) == record["sha256"]

    tools = {t["name"]: t.get("softwareVersion") for t in by_type(crate, "SoftwareApplication")
             if t["@id"].startswith("#tool-")}
    assert {"eagle", "beagle", "minimac4", "bcftools"} <= set(tools), tools
    assert all(tools[name] and tools[name][0].isdigit() for name in ("eagle", "beagle", "minimac4", "bcftools"))

    panel = entity(crate, "#panel-local-sim-ci")
    assert (panel["identifier"], panel["name"]) == ("sim-ci", "Simulated CI panel")
    assert facts(crate, "#panel-local-sim-ci")["build"] == "hg38"
    assert option_values(crate)["phasing"] == "eagle" and option_values(crate)["build"] == "hg38"
    assert json.loads((home / "results" / job_id / "provenance" / "quality.json").read_text())["variants"] == 3714


def test_local_crate__zip_and_json_hold_no_secret(local_job, tmp_path):
    env, home, job_id, _ = local_job
    doc = run_provenance(job_id, "--json", "--out", str(tmp_path / "local.zip"), env=env)
    assert doc.returncode == 0, doc.stderr
    assert json.loads(doc.stdout)["@graph"][0]["@id"] in {"./", "ro-crate-metadata.json"}
    assert read_crate(tmp_path / "local.zip").get(f"#run-{job_id}") is not None
    assert_no_secret({**crate_texts(tmp_path / "local.zip"), "--json": doc.stdout, "stderr": doc.stderr},
                     PASSWORD)
