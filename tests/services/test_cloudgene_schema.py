"""Parsing Cloudgene JSON: states, panels, messages, passwords, form fields (no server needed)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from fedimpute.exceptions import UsageError
from fedimpute.models import JobStatus, MessageLevel
from fedimpute.services.base import SubmitOptions
from fedimpute.services.cloudgene import form_fields
from fedimpute.services.cloudgene_schema import AppSchema, map_state, parse_job, short_panel_id

APP = {"id": "imputationserver2", "name": "Genotype Imputation", "version": "2.0.12", "params": [
    {"id": "refpanel", "type": "app_list", "values": [
        {"key": "apps@hapmap-2@2.0.0", "value": "HapMap 2 (GRCh37/hg19)"},
        {"key": "apps@topmed-r3@1.0.0", "value": "TOPMed r3 (GRCh38/hg38)"}]},
    {"id": "files", "type": "local_folder", "source": "upload"},
    {"id": "population", "type": "binded_list", "bind": "refpanel", "values": [
        {"key": "apps@hapmap-2@2.0.0", "values": [{"key": "eur", "value": "EUR"}, {"key": "off", "value": "Off"}]},
        {"key": "apps@topmed-r3@1.0.0", "values": [{"key": "all", "value": "All"}]}]},
    {"id": "build", "type": "list", "values": [{"key": "hg19", "value": "GRCh37/hg19"},
                                               {"key": "hg38", "value": "GRCh38/hg38"}]},
    {"id": "r2Filter", "type": "list", "values": [{"key": k, "value": k} for k in ("0", "0.001", "0.1", "0.2", "0.3")]},
    {"id": "phasing", "type": "list", "values": [{"key": "eagle", "value": "Eagle"},
                                                 {"key": "no_phasing", "value": "none"}]},
    {"id": "mode", "type": "list", "values": [{"key": "imputation", "value": "QC & Imputation"},
                                              {"key": "qc_only", "value": "QC only"}]},
    {"id": "aesEncryption", "type": "checkbox", "values": [{"key": "false", "value": "false"},
                                                           {"key": "true", "value": "true"}]},
    {"id": "meta", "type": "checkbox", "values": [{"key": "true", "value": "true"}]},
]}


@pytest.mark.parametrize("code, previous, expected", [
    (1, None, JobStatus.QUEUED), (2, None, JobStatus.RUNNING), (3, None, JobStatus.RUNNING),
    (4, None, JobStatus.COMPLETED), (8, None, JobStatus.COMPLETED), (5, None, JobStatus.FAILED),
    (6, None, JobStatus.CANCELLED), (10, None, JobStatus.CANCELLED), (-1, None, JobStatus.FAILED),
    (9, JobStatus.RUNNING, JobStatus.FAILED), (9, JobStatus.CANCELLED, JobStatus.CANCELLED),
    (7, JobStatus.COMPLETED, JobStatus.COMPLETED), (7, None, JobStatus.FAILED),
    (7, JobStatus.RUNNING, JobStatus.FAILED),
    (7, JobStatus.CANCELLED, JobStatus.CANCELLED), (42, None, JobStatus.RUNNING),
])
def test_map_state__reference_table(code, previous, expected):
    assert map_state(code, previous) is expected


def test_short_panel_id__forms():
    assert short_panel_id("apps@hapmap-2@2.0.0") == "hapmap-2"
    assert short_panel_id("hapmap-2@2.0.0") == "hapmap-2"
    assert short_panel_id("hapmap-2") == "hapmap-2"


def test_app_schema__panels_and_populations():
    panels = AppSchema(APP).panels("michigan")
    assert [(p.panel_id, p.key, p.build) for p in panels] == [
        ("hapmap-2", "apps@hapmap-2@2.0.0", "hg19"), ("topmed-r3", "apps@topmed-r3@1.0.0", "hg38")]
    assert [(x.id, x.label) for x in panels[0].populations] == [("eur", "EUR"), ("off", "Off")]


def test_parse_job__steps_html_and_password_moved_out():
    data = {"id": "job-1", "name": "n", "state": 4, "positionInQueue": -1, "submittedOn": 1768383015482,
            "startTime": 0, "endTime": 1768383620331, "steps": [
                {"name": "Quality Control", "logMessages": [
                    {"type": 2, "time": 1768383150222, "message": "<b>Warning:</b> 1 Chunk(s) excluded<br>see x"}]},
                {"name": "Summary", "logMessages": [
                    {"type": 0, "time": 1768383620000, "message": "Data have been exported successfully. We "
                     "encrypted the results with the following password: <b>s3cr3t-Pw!x</b>"}]}],
            "outputParams": [{"files": [{"name": "statistics/snps-excluded.txt", "hash": "abc", "count": 9,
                                         "size": "1 KB"}]}]}
    job = parse_job("https://srv.example", data)
    assert job.status is JobStatus.COMPLETED and job.queue_position is None
    assert job.started_at is None and job.finished_at.year == 2026
    assert job.steps[0].messages[0].text == "Warning: 1 Chunk(s) excluded\nsee x"
    assert job.steps[0].messages[0].level is MessageLevel.WARNING
    summary = job.steps[1].messages[0].text
    assert "s3cr3t-Pw!x" not in summary and "[password stored by fedimpute]" in summary
    assert job.password.get_secret_value() == "s3cr3t-Pw!x"
    assert job.outputs[0].url == "https://srv.example/share/results/abc/statistics/snps-excluded.txt"


def test_parse_job__queue_and_failure_text():
    queued = parse_job("https://x", {"id": "j", "state": 1, "positionInQueue": 3, "steps": []})
    assert queued.status is JobStatus.QUEUED and queued.queue_position == 3
    failed = parse_job("https://x", {"id": "j", "state": 5, "steps": [{"name": "Input Validation", "logMessages": [
        {"type": 1, "message": "At least 20 samples must be uploaded."}]}]})
    assert failed.status is JobStatus.FAILED and failed.error == "At least 20 samples must be uploaded."


def test_form_fields__checkboxes_only_to_enable_and_qc_only_mapped():
    schema = AppSchema(APP)
    fields = dict(form_fields(schema, SubmitOptions(panel="hapmap-2", build="hg19", population="EUR",
                                                    mode="qc-only", r2_filter="0.3"), job_name="study"))
    assert fields == {"job-name": "study", "refpanel": "apps@hapmap-2@2.0.0", "build": "hg19",
                      "population": "eur", "mode": "qc_only", "r2Filter": "0.3"}
    fields = dict(form_fields(schema, SubmitOptions(panel="hapmap-2", aes=True, meta=True,
                                                    password=SecretStr("pw-123")), job_name="j"))
    assert fields["aesEncryption"] == "true" and fields["meta"] == "true" and fields["password"] == "pw-123"
    fields = dict(form_fields(schema, SubmitOptions(panel="hapmap-2", password=SecretStr("")), job_name="j"))
    assert "password" not in fields and "aesEncryption" not in fields and "meta" not in fields


@pytest.mark.parametrize("options, message", [
    (dict(panel="hrc"), "unknown panel 'hrc' for this service; choose one of hapmap-2, topmed-r3"),
    (dict(panel="hapmap-2", population="afr"),
     "population 'afr' is not offered with panel hapmap-2; choose one of eur, off"),
    (dict(panel="hapmap-2", phasing="beagle"),
     "--phasing 'beagle' is not offered by this service; choose one of eagle, no_phasing"),
    (dict(panel="hapmap-2", build="hg18"), "--build 'hg18' is not offered"),
])
def test_form_fields__invalid_options_refused_client_side(options, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        form_fields(AppSchema(APP), SubmitOptions(**options), job_name="j")


def test_form_fields__app_without_population():
    hla = {"id": "imputationserver2-hla", "params": [p for p in APP["params"] if p["id"] in ("refpanel", "build")]}
    with pytest.raises(UsageError, match="has no population option; drop --population"):
        form_fields(AppSchema(hla), SubmitOptions(panel="hapmap-2", population="eur"), job_name="j")
