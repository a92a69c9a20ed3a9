"""Input facts taken at submission, tool-version sources, older jobs, the CLI's errors and the report's line."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from fedimpute.catalogue import make_service
from fedimpute.hub import Hub
from fedimpute.models import Job, JobStatus, ResultFile, SubmitOptions, utcnow
from fedimpute.preflight import check_files
from fedimpute.provenance.crate import safe_url
from fedimpute.provenance.export import job_crate, write_provenance
from fedimpute.provenance.facts import NOT_CHECKED
from fedimpute.provenance.tools import tools_in_text
from fedimpute.report import with_provenance_section
from tests.provenance.conftest import by_type, entity, facts, read_crate, run_provenance, sha256
from tests.vcfgen import write_vcf

OPTIONS = SubmitOptions(panel="hapmap-2", build="hg19", phasing="eagle")


@pytest.fixture
def hub(home) -> Hub:
    hub = Hub()
    hub.credentials.set_token("michigan", SecretStr("michigan-token-0123456789"))  # recording sends nothing
    return hub


def _tools(crate) -> dict[str, str | None]:
    return {t["name"]: t.get("softwareVersion") for t in by_type(crate, "SoftwareApplication")
            if t["@id"].startswith("#tool-")}


def test_input_facts__kept_from_submission_when_the_file_changes(hub, tmp_path):
    """A job recorded without a pre-flight report (--skip-check) still gets its counts (a scan) and the
    verdict "not checked"; its crate cites the file as it was then, not as it is now."""
    vcf = write_vcf(tmp_path / "study.vcf.gz", samples=21, sites=12)
    before, size = sha256(vcf), vcf.stat().st_size
    job = hub.record_job([vcf], "michigan", OPTIONS, owner="tester")
    write_vcf(vcf, samples=40, sites=50, seed=9)  # the file at that path is another one now
    assert sha256(vcf) != before

    crate = job_crate(hub.store, hub.credentials, job.job_id)
    described = entity(crate, "#input-1")
    assert (described["sha256"], described["contentSize"]) == (before, str(size))
    assert facts(crate, "#input-1") | {"recorded_at": None} == {
        "chromosomes": ["20"], "samples": 21, "variants": 12, "build": "hg19", "preflight": NOT_CHECKED,
        "recorded_at": None}


def test_input_facts__verdicts_from_the_reports_of_a_fan_out(hub, tmp_path):
    """Each child keeps its own service's verdict; the parent the worst; all share the file's checksum."""
    vcf = write_vcf(tmp_path / "few.vcf.gz", samples=21, sites=12)
    passing = check_files([vcf], build="hg19")
    report = passing.model_copy(deep=True)  # another service's limits refuse it
    report.files[0].add("samples", "fail", "21 samples; this service needs at least 50")
    assert passing.ok
    parent = hub.jobs.record_parent([vcf], ["michigan", "topmed"], OPTIONS, owner="tester", reports=[report, passing])
    child = hub.jobs.record([vcf], "michigan", OPTIONS, owner="tester", parent_id=parent.job_id, reports=[passing])
    got = {j: hub.store.job_inputs(j)[0] for j in (parent.job_id, child.job_id)}
    assert got[parent.job_id].verdict == "fail" and got[child.job_id].verdict in ("pass", "warn")
    assert {i.sha256 for i in got.values()} == {sha256(vcf)}
    assert any(c["status"] == "fail" for c in got[parent.job_id].checks)
    crate = job_crate(hub.store, hub.credentials, parent.job_id)
    assert entity(crate, f"#run-{parent.job_id}-children")["value"] == [child.job_id]
    assert entity(crate, "#option-services")["value"] == ["michigan", "topmed"]


def test_crate__job_recorded_before_input_facts_and_not_run(store, tmp_path):
    """A job from before input facts were kept lists its inputs by path only; no quality yet, said why."""
    job = store.add_job(Job(service="michigan", owner="tester", panel="hapmap-2", inputs=["/data/old/chr1.vcf.gz"]))
    document, path = write_provenance(store, Hub(store).credentials, job.job_id, tmp_path / "old")
    crate = read_crate(path)
    old = entity(crate, "#input-1")
    assert old["name"] == "chr1.vcf.gz" and "sha256" not in old and "before fedimpute kept" in old["description"]
    assert "the job is pending" in entity(crate, "./")["description"]
    assert entity(crate, f"#run-{job.job_id}")["actionStatus"]["@id"].endswith("PotentialActionStatus")
    assert not (path / "quality.json").exists()
    assert document["@graph"][0]["@id"] == "./"


def test_tools__the_runs_file_wins_then_the_engine_state(store, tmp_path):
    """tool-versions.json (the local engine's workflow output: raw version lines) is read first; without it
    a local job falls back on the engine's state."""
    store.add_service(make_service("local", "local", "http://127.0.0.1:9",
                                   settings=["workflow=impute", "panels=local"]))
    job = store.add_job(Job(service="local", owner="tester", status=JobStatus.COMPLETED))
    (store.home / "engine").mkdir()
    state = {"tools": {"eagle": "2.4.1", "beagle": "5.4 (22Jul22.46e)", "minimac4": "4.1.6", "bcftools": "1.16"}}
    (store.home / "engine" / "engine.json").write_text(json.dumps(state))
    crate = job_crate(store, Hub(store).credentials, job.job_id)
    assert _tools(crate) == {"eagle": "2.4.1", "beagle": "5.4", "minimac4": "4.1.6", "bcftools": "1.16"}

    out = tmp_path / "results"
    out.mkdir()
    (out / "tool-versions.json").write_text(json.dumps({
        "bcftools": "bcftools 1.17", "htslib": "Using htslib 1.17", "tabix": "tabix (htslib) 1.17",
        "eagle": "Eagle v2.4.1", "beagle": "beagle.22Jul22.46e.jar (version 5.4)", "minimac4": "minimac v4.1.6"}))
    (out / "chr20.dose.vcf.gz").write_bytes(b"")
    store.upsert_result_file(ResultFile(job_id=job.job_id, name="chr20.dose.vcf.gz", size=0, sha256="0" * 64,
                                        path=str(out / "chr20.dose.vcf.gz"), downloaded_at=utcnow()))
    crate = job_crate(store, Hub(store).credentials, job.job_id)
    assert _tools(crate) == {"bcftools": "1.17", "htslib": "1.17", "tabix": "1.17", "eagle": "2.4.1", "beagle": "5.4",
                             "minimac4": "4.1.6"}
    assert "tool-versions.json" in entity(crate, "#tool-eagle")["description"]


def test_tools__named_in_a_services_words():
    assert tools_in_text("Phasing\nEagle v2.4: 1 chunk(s) phased.\nImputation\nMinimac4: 1 chunk(s) imputed.") == {
        "eagle": "2.4", "minimac4": None}
    assert tools_in_text("##source=Minimac4.v1.0.2\n##bcftools_viewVersion=1.16+htslib-1.16") == {
        "minimac4": "1.0.2", "bcftools": "1.16+htslib-1.16"}
    assert tools_in_text("Beagle 5.4 (phased output); imputationserver2 2.0.12") == {"beagle": "5.4"}


def test_cli__unknown_job_exits_3_and_prints_nothing():
    proc = run_provenance("fi-20000101-000000-abcdef", "--json")
    assert proc.returncode == 3 and proc.stdout == ""
    assert "unknown job 'fi-20000101-000000-abcdef'" in proc.stderr and "Traceback" not in proc.stderr


def test_report__provenance_line_per_job():
    html = with_provenance_section("<html><body><p>report</p></body></html>", ["fi-1", "<b>x</b>"])
    assert html.index("fedimpute provenance fi-1") < html.index("</body>")
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert with_provenance_section("<p>report</p>", []) == "<p>report</p>"


def test_crate__service_urls_lose_credentials():
    assert safe_url("https://user:pw@imputation.example.org:8443/api?token=abc#x") == \
        "https://imputation.example.org:8443/api"
    assert safe_url(None) is None
