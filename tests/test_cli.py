"""The command-line contract (shared/contracts/cli.md) for what works today."""

from __future__ import annotations

import json

from fedimpute.cli import main
from fedimpute.models import Job, JobStatus, MessageLevel, ResultFile, StepMessage


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_services_list__json_has_builtins(capsys):
    code, out, err = run(capsys, "services", "list", "--json")
    assert code == 0
    rows = json.loads(out)  # stdout is exactly one JSON document
    assert {r["name"] for r in rows} == {"michigan", "topmed", "h3africa"}
    for r in rows:
        assert set(r) >= {"name", "protocol", "url", "description", "location", "enabled", "health"}
        assert r["protocol"] == "cloudgene"
        assert r["health"] == {"status": "unknown", "checked_at": None, "detail": "never checked"}


def test_services_add_remove__round_trip(capsys):
    code, _, _ = run(capsys, "services", "add", "w", "--protocol", "wes", "--url", "http://127.0.0.1:8/",
                     "--set", "engine=cwltool", "--set", "workflow=impute", "--location", "here")
    assert code == 0
    rows = json.loads(run(capsys, "services", "list", "--json")[1])
    (w,) = [r for r in rows if r["name"] == "w"]
    assert (w["protocol"], w["url"], w["location"], w["settings"]) == (
        "wes", "http://127.0.0.1:8", "here", {"engine": "cwltool", "workflow": "impute"})
    assert run(capsys, "services", "remove", "w")[0] == 0
    assert "w" not in {r["name"] for r in json.loads(run(capsys, "services", "list", "--json")[1])}


def test_services_add__duplicate_exits_2(capsys):
    code, out, err = run(capsys, "services", "add", "michigan", "--protocol", "cloudgene", "--url", "https://x")
    assert code == 2 and out == ""
    assert err.strip() == ("error: a service named 'michigan' already exists; choose another name, "
                           "or pass --replace to overwrite it")
    assert run(capsys, "services", "add", "michigan", "--protocol", "cloudgene", "--url", "https://x",
               "--replace")[0] == 0


def test_services_add__unknown_setting_exits_2_and_names_known_keys(capsys):
    code, _, err = run(capsys, "services", "add", "d", "--protocol", "dnastack", "--url", "https://x",
                       "--set", "nope=1")
    assert code == 2 and "known keys: namespace, engine_id, workflow_url" in err


def test_services_remove__unknown_exits_3(capsys):
    code, _, err = run(capsys, "services", "remove", "nosuch")
    assert code == 3 and "unknown service 'nosuch'" in err and len(err.strip().splitlines()) == 1


def test_login__stores_token_and_checks_usage(capsys, home):
    from fedimpute.credentials import Credentials

    assert run(capsys, "login", "topmed", "--token", "tok-123456")[0] == 0
    assert Credentials(home).token("topmed", "tester").get_secret_value() == "tok-123456"  # the caller's own
    assert run(capsys, "login", "topmed")[0] == 2  # neither --token nor --token-stdin
    assert run(capsys, "login", "nosuch", "--token", "x")[0] == 3


def _job_with_history(store) -> Job:
    job = store.add_job(Job(service="michigan", owner="tester", name="study1", panel="hapmap-2", build="hg19"))
    store.update_job(job.job_id, status=JobStatus.QUEUED, remote_id="job-20260114-093015-482", remote_state="1")
    store.update_job(job.job_id, status=JobStatus.RUNNING, remote_state="2", detail="state 2")
    store.add_step_messages([StepMessage(job_id=job.job_id, step_index=0, step="Input Validation",
                                         message_index=0, level=MessageLevel.INFO, text="1 valid VCF file(s) found.")])
    store.upsert_result_file(ResultFile(job_id=job.job_id, name="qc_report.txt", size=760, sha256="0" * 64))
    return job


def test_jobs_show__contract_keys(capsys, store):
    job = _job_with_history(store)
    code, out, _ = run(capsys, "jobs", "show", job.job_id, "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"job_id", "name", "service", "panel", "build", "remote_id", "status", "remote_state",
                        "submitted_at", "started_at", "finished_at", "queue_position", "steps", "events",
                        "results", "error"}
    assert doc["status"] == "running" and doc["remote_state"] == "2"
    assert doc["steps"] == [{"name": "Input Validation", "messages": [
        {"time": None, "level": "info", "text": "1 valid VCF file(s) found."}]}]
    assert [e["status"] for e in doc["events"]] == ["pending", "queued", "running"]
    assert all(e["time"].endswith("Z") for e in doc["events"])
    assert doc["results"][0]["name"] == "qc_report.txt"
    code, out, _ = run(capsys, "jobs", "show", job.job_id)
    assert code == 0 and "Input Validation" in out


def test_jobs_list__filters(capsys, store):
    job = _job_with_history(store)
    store.add_job(Job(service="topmed", owner="someone-else"))
    rows = json.loads(run(capsys, "jobs", "list", "--json")[1])
    assert len(rows) == 2
    rows = json.loads(run(capsys, "jobs", "list", "--status", "running", "--json")[1])
    assert [r["job_id"] for r in rows] == [job.job_id]
    assert json.loads(run(capsys, "jobs", "list", "--owner", "nobody", "--json")[1]) == []
    assert run(capsys, "jobs", "list", "--status", "bogus")[0] == 2


def test_jobs_show__unknown_exits_3(capsys):
    code, out, err = run(capsys, "jobs", "show", "fi-nope", "--json")
    assert code == 3 and out == "" and "unknown job 'fi-nope'" in err


def test_serve__a_users_file_is_refused_and_names_the_fix(capsys, tmp_path):
    """The old plaintext users file would not be a live password store: the error says what to use."""
    code, out, err = run(capsys, "serve", "--basic-auth", str(tmp_path / "users.json"))
    assert code == 2 and out == "" and "fedimpute users add" in err


def test_usage__unknown_flag_exits_2_one_line(capsys):
    code, out, err = run(capsys, "services", "list", "--bogus")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--bogus" in err


def test_entry_point__python_m_fedimpute(cli):
    proc = cli("services", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 3
    proc = cli("jobs", "show", "nope")
    assert proc.returncode == 3 and "Traceback" not in proc.stderr


def _samples_check(document: dict) -> dict:
    (checks,) = [{c["id"]: c for c in f["checks"]} for f in document["files"]]
    return checks["samples"]


def test_check__user_added_cloudgene_refuses_10_samples(capsys, tmp_path):
    from tests.vcfgen import write_vcf

    code, _, err = run(capsys, "services", "add", "mine", "--protocol", "cloudgene", "--url",
                       "https://imp.example.org")
    assert code == 0 and "limits: 20 to 50,000 samples, 5,000 MB per job, builds hg19, hg38" in err
    vcf = write_vcf(tmp_path / "ten.vcf.gz", samples=10)
    code, out, _ = run(capsys, "check", str(vcf), "--service", "mine", "--json")
    assert code == 2
    samples = _samples_check(json.loads(out))
    assert samples["status"] == "fail"
    assert samples["message"].startswith("At least 20 samples must be uploaded. Your submission contains 10 samples")


def test_check__set_min_samples_overrides_the_cloudgene_default(capsys, tmp_path):
    from tests.vcfgen import write_vcf

    assert run(capsys, "services", "add", "mine", "--protocol", "cloudgene", "--url", "https://imp.example.org",
               "--set", "min_samples=5")[0] == 0
    code, out, _ = run(capsys, "check", str(write_vcf(tmp_path / "ten.vcf.gz", samples=10)), "--service", "mine",
                       "--json")
    assert code == 0
    samples = _samples_check(json.loads(out))
    assert samples["status"] == "pass" and "takes 5 to 50,000 samples" in samples["message"]


def test_services_list__builtins_show_their_limits(capsys):
    rows = {r["name"]: r["limits"] for r in json.loads(run(capsys, "services", "list", "--json")[1])}
    assert rows["michigan"] == {"min_samples": 5, "max_samples": 110_000, "max_upload_mb": 5000,
                                "max_concurrent_jobs": 2, "builds": ["hg19", "hg38"]}
    assert rows["topmed"] == {"min_samples": 20, "max_samples": 25_000, "max_upload_mb": 5000,
                              "max_concurrent_jobs": 3, "builds": ["hg19", "hg38"]}
    assert rows["h3africa"] == {"min_samples": 20, "max_samples": 110_000, "max_upload_mb": 2048,
                                "max_concurrent_jobs": 2, "builds": ["hg19", "hg38"]}


def test_submit__10_samples_refused_before_the_upload(capsys, tmp_path, cloudgene_sim, cloudgene_url):
    from tests.vcfgen import write_vcf

    assert run(capsys, "services", "add", "sim", "--protocol", "cloudgene", "--url", cloudgene_url)[0] == 0
    vcf = write_vcf(tmp_path / "ten.vcf.gz", samples=10)
    code, out, err = run(capsys, "submit", str(vcf), "--service", "sim", "--panel", "hapmap-2", "--json")
    assert code == 2 and out == ""
    assert "fail samples (ten.vcf.gz): At least 20 samples must be uploaded." in err
    assert "nothing was uploaded" in err
    assert cloudgene_sim.upload_bytes == 0 and not any("submit" in path for _, path in cloudgene_sim.requests)
    assert json.loads(run(capsys, "jobs", "list", "--json")[1]) == []
