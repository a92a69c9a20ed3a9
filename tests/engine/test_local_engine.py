"""The local engine end to end: panel registry, `engine start`, submit through WES, quality, stop."""

from __future__ import annotations

import json

from fedimpute.quality import describe_file
from tests.engine.conftest import FIXTURE


def test_engine__cli_end_to_end(cli, home, tmp_path):
    F = FIXTURE
    added = cli("engine", "add-panel", str(F / "ref.vcf.gz"), "--id", "sim-ci", "--name", "Simulated CI panel",
                "--build", "hg38", "--population", "all", "--map", str(F / "map.plink"),
                "--fasta", str(F / "ref.fa.gz"), "--json")
    assert added.returncode == 0, added.stderr
    manifest = json.loads(added.stdout)
    assert (manifest["samples"], manifest["variants"], manifest["chromosomes"]) == (200, 3714, ["chr20"])
    assert (home / "panels" / "sim-ci" / "panel.msav").exists()

    started = cli("engine", "start", "--json", timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        status = json.loads(started.stdout)
        assert status["running"] and status["url"].startswith("http://127.0.0.1:")
        services = {s["name"]: s for s in json.loads(cli("services", "list", "--json").stdout)}
        assert services["local"]["protocol"] == "local"
        panels = json.loads(cli("panels", "local", "--json").stdout)
        assert [(p["panel_id"], p["samples"], p["variants"]) for p in panels] == [("sim-ci", 200, 3714)]

        out = tmp_path / "results"
        sub = cli("submit", str(F / "array.vcf.gz"), "--service", "local", "--panel", "sim-ci", "--build", "hg38",
                  "--wait", "--download", str(out), "--json", timeout=300)
        assert sub.returncode == 0, sub.stderr
        job = json.loads(sub.stdout)
        assert job["status"] == "completed"
        assert (out / "chr20.dose.vcf.gz").exists() and (out / "statistics" / "snps-excluded.txt").exists()
        q = json.loads(cli("quality", job["job_id"], "--json").stdout)
        assert q["variants"] == 3714 and q["bins"][-1]["mean_r2"] > 0.9
        # the quality came from chr20.info.gz in Michigan 2's layout (the sites-only VCF of minimac4 --sites)
        assert describe_file(out / "chr20.info.gz").layout == "info VCF (sites only) with R2"
        assert json.loads(cli("engine", "status", "--json").stdout)["running"]
    finally:
        cli("engine", "stop")
    assert not json.loads(cli("engine", "status", "--json").stdout)["running"]
