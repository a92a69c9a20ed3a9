"""The crate of a job on the Cloudgene simulator, made the way a user makes it (CLI), read back with rocrate."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fedimpute.credentials import Credentials
from fedimpute.notify.channels import ChannelBook
from tests.cloudgene_server.fixtures import ALICE_TOKEN
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
from tests.vcfgen import write_vcf

PASSWORD = "planted-result-password-7Qx9"
ENV_TOKEN = "planted-env-token-5Kd2-0123456789"
HOOK_SECRET = "planted-hook-secret-0123456789"


@pytest.fixture
def sim_job(cli, cloudgene_url, cloudgene_sim, tmp_path, home):
    """A completed, downloaded job of alice's stored token (`login`), with a planted result password that
    also sits in the job's name, as does the secret of a notification URL (a user pasting one into a text
    field must not leak it either)."""
    assert cli("services", "add", "sim", "--protocol", "cloudgene", "--url", cloudgene_url,
               "--set", "poll_interval=0.05").returncode == 0
    assert cli("login", "sim", "--token", ALICE_TOKEN).returncode == 0
    assert cli("services", "check", "sim").returncode == 0  # the service reports its app version
    assert cli("panels", "sim").returncode == 0  # the panel cache: names, versions, populations
    vcf = write_vcf(tmp_path / "cohort.vcf.gz", samples=25, sites=30)
    sub = cli("submit", str(vcf), "--service", "sim", "--panel", "hapmap-2", "--build", "hg19", "--population",
              "eur", "--phasing", "eagle", "--r2-filter", "0.3", "--name", f"cohort-{PASSWORD}-{HOOK_SECRET}",
              "--password",
              PASSWORD, "--wait", "--download", str(tmp_path / "out"), "--json")
    assert sub.returncode == 0, sub.stderr
    job = json.loads(sub.stdout)
    assert job["status"] == "completed"
    return job["job_id"], vcf


def test_crate__inputs_results_tools_panel_options(cli, sim_job, home, tmp_path):
    job_id, vcf = sim_job
    proc = run_provenance(job_id)
    assert proc.returncode == 0, proc.stderr
    folder = home / "results" / job_id / "provenance"
    crate = read_crate(folder)

    run = entity(crate, f"#run-{job_id}")
    assert run["@type"] == "CreateAction" and run["actionStatus"]["@id"].endswith("CompletedActionStatus")
    assert entity(crate, "./")["conformsTo"] == {"@id": "https://w3id.org/ro/wfrun/process/0.6"}

    # the input, as submitted: its checksum equals the file's, counts from the pre-flight check
    source = entity(crate, "#input-1")
    assert (source["name"], source["sha256"], source["contentSize"]) == (vcf.name, sha256(vcf), str(vcf.stat().st_size))
    read = facts(crate, "#input-1")
    assert (read["chromosomes"], read["samples"], read["variants"], read["build"]) == (["20"], 25, 30, "hg19")
    assert read["preflight"] in ("pass", "warn") and read["recorded_at"].endswith("Z")

    # every result file with its checksum equal to the downloaded file's
    show = json.loads(cli("jobs", "show", job_id, "--json").stdout)
    results = {r["name"]: r for r in show["results"]}
    assert {"chr_20.zip", "qc_report.txt"} <= set(results)
    for name, record in results.items():
        described = entity(crate, f"#result-{name}")
        assert described["sha256"] == sha256(Path(record["path"])) == record["sha256"]
        assert described["contentSize"] == str(record["size"])
    assert {r["@id"] for r in run["result"]} == {f"#result-{n}" for n in results}

    # tools: Eagle from the step messages, minimac4's version from the imputed VCFs' headers
    tools = {t["name"]: t.get("softwareVersion") for t in by_type(crate, "SoftwareApplication")
             if t["@id"].startswith("#tool-")}
    assert tools["eagle"] == "2.4" and tools["minimac4"] == "1.0.2"
    app = entity(crate, "#service-sim")
    assert (app["identifier"], app["softwareVersion"]) == ("imputationserver2", "2.0.12")
    assert app["url"] == {s["name"]: s["url"] for s in json.loads(cli("services", "list", "--json").stdout)}["sim"]
    assert run["instrument"] == {"@id": "#service-sim"}

    panel = entity(crate, "#panel-sim-hapmap-2")
    assert (panel["identifier"], panel["version"]) == ("hapmap-2", "2.0.0")
    assert facts(crate, "#panel-sim-hapmap-2")["build"] == "hg19" and "eur" in facts(crate, "#panel-sim-hapmap-2")[
        "populations"]
    assert option_values(crate) | {"name": None} == {"panel": "hapmap-2", "build": "hg19", "population": "eur",
                                                     "phasing": "eagle", "r2_filter": "0.3", "meta": False,
                                                     "aes": False, "name": None}

    # the history and the quality summary (a file in the crate, with its own checksum)
    events = sorted(by_type(crate, "UpdateAction"), key=lambda e: e["@id"])
    assert [e["name"].split(" → ")[1] for e in events][-1] == "completed"
    quality = json.loads((folder / "quality.json").read_text())
    assert quality["variants"] > 0 and entity(crate, "quality.json")["sha256"] == sha256(folder / "quality.json")
    assert entity(crate, "#fedimpute")["softwareVersion"]


def test_crate__no_secret_in_any_file_or_json(cli, sim_job, home, tmp_path):
    """A stored token (login), a token in the environment, the result password and the owner's notification
    URL are nowhere: not in the folder, the zip or --json, although the password and the URL's secret are
    also in the job's name."""
    job_id, _ = sim_job
    ChannelBook(Credentials()).add("tester", f"json://hooks.example.org/{HOOK_SECRET}")  # after the run: no send
    env = {**os.environ, "FEDIMPUTE_TOKEN_SIM": ENV_TOKEN}
    doc = run_provenance(job_id, "--json", env=env)
    assert doc.returncode == 0, doc.stderr
    zipped = run_provenance(job_id, "--out", str(tmp_path / "crate.zip"), env=env)
    assert zipped.returncode == 0, zipped.stderr
    folder = home / "results" / job_id / "provenance"
    texts = {**crate_texts(folder), **crate_texts(tmp_path / "crate.zip"), "--json": doc.stdout,
             "stderr": doc.stderr + zipped.stderr}
    assert_no_secret(texts, PASSWORD, ALICE_TOKEN, ENV_TOKEN, HOOK_SECRET)
    graph = {e["@id"]: e for e in json.loads(doc.stdout)["@graph"]}
    assert graph["./"]["name"].endswith("(cohort-***-***)")  # masked where they were, the rest kept
    assert set(crate_texts(tmp_path / "crate.zip")) == {"ro-crate-metadata.json", "quality.json"}
    assert read_crate(tmp_path / "crate.zip").get(f"#run-{job_id}") is not None
