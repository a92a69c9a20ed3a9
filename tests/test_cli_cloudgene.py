"""The CLI against the local Cloudgene simulator: the commands a user runs, end to end."""

from __future__ import annotations

import json

import pytest

from tests.cloudgene_server.fixtures import ALICE_TOKEN
from tests.vcfgen import write_vcf


@pytest.fixture
def sim_service(cli, cloudgene_url):
    proc = cli("services", "add", "sim", "--protocol", "cloudgene", "--url", cloudgene_url,
               "--set", "poll_interval=0.05")
    assert proc.returncode == 0, proc.stderr
    return "sim"


def test_login__verifies_then_stores(cli, sim_service, home):
    bad = cli("login", "sim", "--token", "not-a-valid-token")
    assert bad.returncode == 1 and "rejected this token" in bad.stderr
    assert not (home / "secrets.json").exists() or "not-a-valid-token" not in (home / "secrets.json").read_text()
    good = cli("login", "sim", "--token-stdin", input=ALICE_TOKEN + "\n")
    assert good.returncode == 0 and "user alice" in good.stderr


def test_check_panels_submit_wait_download(cli, sim_service, cloudgene_sim, tmp_path):
    assert cli("login", "sim", "--token", ALICE_TOKEN).returncode == 0
    check = json.loads(cli("services", "check", "sim", "--json").stdout)
    assert check == [{"name": "sim", "health": check[0]["health"], "token": check[0]["token"]}]
    assert check[0]["health"]["status"] == "up"
    assert check[0]["token"]["valid"] is True and check[0]["token"]["user"] == "alice"

    panels = json.loads(cli("panels", "sim", "--json").stdout)
    assert {p["panel_id"] for p in panels} == {"hapmap-2", "1000g-phase-3-v5"}
    assert all(set(p) == {"service", "panel_id", "name", "build", "populations", "samples", "variants"}
               for p in panels)

    vcf = write_vcf(tmp_path / "c.vcf.gz")
    out = tmp_path / "out"
    sub = cli("submit", str(vcf), "--service", "sim", "--panel", "hapmap-2", "--build", "hg19",
              "--population", "eur", "--name", "cli-study", "--wait", "--download", str(out), "--json")
    assert sub.returncode == 0, sub.stderr
    doc = json.loads(sub.stdout)
    assert set(doc) == {"job_id", "name", "service", "panel", "remote_id", "status", "owner"}
    assert doc["status"] == "completed" and doc["owner"] == "tester" and doc["name"] == "cli-study"
    assert (out / "chr20.dose.vcf.gz").exists() and (out / "chr_20.zip").exists()

    show = json.loads(cli("jobs", "show", doc["job_id"], "--json").stdout)
    assert show["status"] == "completed" and show["remote_id"] == doc["remote_id"]
    assert [s["name"] for s in show["steps"]][0] == "Input Validation"
    assert {r["name"] for r in show["results"]} >= {"chr_20.zip", "qc_report.txt"}

    gets = sum(cloudgene_sim.download_gets.values())
    again = cli("results", "download", doc["job_id"], "--to", str(out), "--json")
    assert again.returncode == 0, again.stderr
    assert sum(cloudgene_sim.download_gets.values()) == gets
    assert {f["name"] for f in json.loads(again.stdout)} >= {"chr_20.zip"}


def test_submit__bad_panel_refused_before_upload(cli, sim_service, cloudgene_sim, tmp_path):
    assert cli("login", "sim", "--token", ALICE_TOKEN).returncode == 0
    vcf = write_vcf(tmp_path / "c.vcf.gz")
    proc = cli("submit", str(vcf), "--service", "sim", "--panel", "hrc-r1.1", "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "unknown panel 'hrc-r1.1' for this service; choose one of hapmap-2, 1000g-phase-3-v5" in proc.stderr
    assert cloudgene_sim.upload_bytes == 0 and not cloudgene_sim.jobs


def test_jobs_wait_and_cancel(cli, sim_service, cloudgene_sim, tmp_path):
    assert cli("login", "sim", "--token", ALICE_TOKEN).returncode == 0
    cloudgene_sim.step_seconds = 60
    vcf = write_vcf(tmp_path / "c.vcf.gz")
    doc = json.loads(cli("submit", str(vcf), "--service", "sim", "--panel", "hapmap-2", "--json").stdout)
    waited = cli("jobs", "wait", doc["job_id"], "--timeout", "0.3")
    assert waited.returncode == 1 and "after 0.3 s; run `fedimpute jobs wait" in waited.stderr
    cancel = cli("jobs", "cancel", doc["job_id"])
    assert cancel.returncode == 0, cancel.stderr
    show = json.loads(cli("jobs", "show", doc["job_id"], "--json").stdout)
    assert show["status"] == "cancelled" and show["remote_state"] == "6"
    waited = cli("jobs", "wait", doc["job_id"], "--json")
    assert waited.returncode == 1 and json.loads(waited.stdout)["status"] == "cancelled"


def test_login__warns_when_token_expires_within_7_days(cli, sim_service, cloudgene_sim):
    cloudgene_sim.add_user("carol", "carol-token-0123456789", expires_in_days=3)
    proc = cli("login", "sim", "--token", "carol-token-0123456789")
    assert proc.returncode == 0
    assert "warning: the token for sim expires in 2 day(s)" in proc.stderr or \
        "warning: the token for sim expires in 3 day(s)" in proc.stderr
