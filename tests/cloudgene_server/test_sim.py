"""Tests of the Cloudgene simulator over real HTTP (uvicorn on a free port, httpx as the client)."""

# ruff: noqa: F811  (the fixtures are imported by name, as pytest_plugins is not used here)

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
import pyzipper

from tests.cloudgene_server import CloudgeneSim, Fault
from tests.cloudgene_server.fixtures import ALICE_TOKEN, BOB_TOKEN, cloudgene_sim, cloudgene_url  # noqa: F401

APP = "/api/v2/jobs/submit/imputationserver2"
ROOT = Path(__file__).resolve().parents[2]


def vcf_gz(samples: int = 25, sites: int = 30, chrom: str = "20") -> bytes:
    """A small unphased VCF (hg19 naming by default), gzip-compressed with the standard library."""
    header = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
    lines = ["##fileformat=VCFv4.2", "\t".join(header + [f"S{i}" for i in range(samples)])]
    for j in range(sites):
        genotypes = ["0/1" if (i + j) % 3 == 0 else "0/0" for i in range(samples)]
        lines.append(
            "\t".join(
                [
                    chrom,
                    str(100_000 + 1_000 * j),
                    f"rs{j}",
                    "ACGT"[j % 4],
                    "CGTA"[j % 4],
                    ".",
                    "PASS",
                    ".",
                    "GT",
                    *genotypes,
                ]
            )
        )
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)  # the same bytes whenever it is made


@pytest.fixture
def client(cloudgene_url):
    with httpx.Client(base_url=cloudgene_url, headers={"X-Auth-Token": ALICE_TOKEN}, timeout=10) as c:
        yield c


@pytest.fixture
def manual(cloudgene_sim):
    """Freeze the wall-clock lifecycle so tests move jobs on with sim.advance()/run_to_end()."""
    cloudgene_sim.step_seconds = 3600
    return cloudgene_sim


def submit(client, data: bytes | None = None, name: str = "study.vcf.gz", **fields) -> httpx.Response:
    fields.setdefault("refpanel", "apps@hapmap-2@2.0.0")
    files = [("files", (name, vcf_gz() if data is None else data, "application/octet-stream"))]
    return client.post(APP, data=fields, files=files)


def errors(job: dict) -> list[tuple[str, str]]:
    return [(s["name"], m["message"]) for s in job["steps"] for m in s["logMessages"] if m["type"] == 1]


def test_verify_token(client, cloudgene_url, cloudgene_sim):
    good = httpx.post(f"{cloudgene_url}/api/v2/tokens/verify", data={"token": ALICE_TOKEN}).json()
    assert good["valid"] is True and good["username"] == "alice" and good["mail"] == "alice@example.org"
    assert good["message"] == "API Token was created by %s and is valid."
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", good["expire"])
    bad = httpx.post(f"{cloudgene_url}/api/v2/tokens/verify", data={"token": "nope"})
    assert bad.status_code == 200 and bad.json()["valid"] is False and bad.json()["username"] is None
    assert httpx.get(f"{cloudgene_url}/api/v2/jobs").status_code == 401
    assert (
        httpx.get(
            f"{cloudgene_url}/api/v2/jobs", headers={"X-Auth-Token": f"Bearer {ALICE_TOKEN}"}
        ).status_code
        == 401
    )
    cloudgene_sim.revoke_token(BOB_TOKEN)
    assert httpx.get(f"{cloudgene_url}/api/v2/jobs", headers={"X-Auth-Token": BOB_TOKEN}).status_code == 403
    cloudgene_sim.expire_token(ALICE_TOKEN)
    assert client.get("/api/v2/jobs").status_code == 401


def test_server_info_and_app_schema(client, cloudgene_url):
    anonymous = httpx.get(f"{cloudgene_url}/api/v2/server").json()
    assert anonymous["apps"] == [] and anonymous["loggedIn"] is False and anonymous["maintenace"] is False
    info = client.get("/api/v2/server").json()
    assert info["apps"][0]["id"] == "imputationserver2@2.0.12" and info["user"]["name"] == "Alice Example"
    app = client.get("/api/v2/server/apps/imputationserver2").json()
    params = {p["id"]: p for p in app["params"]}
    assert "password" not in params and params["files"]["source"] == "upload"
    keys = [v["key"] for v in params["refpanel"]["values"]]
    assert keys == ["apps@hapmap-2@2.0.0", "apps@1000g-phase-3-v5@2.0.0"] and all(
        k.count("@") == 2 for k in keys
    )
    population = params["population"]
    assert population["type"] == "binded_list" and population["bind"] == "refpanel"
    assert [v["key"] for v in population["values"][0]["values"]] == ["eur", "afr", "off"]
    assert [v["key"] for v in params["build"]["values"]] == ["hg19", "hg38"] and params["build"][
        "value"
    ] == "hg19"
    assert [v["key"] for v in params["r2Filter"]["values"]] == ["0", "0.001", "0.1", "0.2", "0.3"]
    assert {v["key"] for v in params["phasing"]["values"]} == {"eagle", "beagle", "no_phasing"}
    assert params["aesEncryption"]["type"] == params["meta"]["type"] == "checkbox"
    assert "bind" not in params["build"] and params["build"]["values"][0]["label"] is None
    assert httpx.get(f"{cloudgene_url}/api/v2/server/apps/imputationserver2").status_code == 404


def test_submit_run_download_and_decrypt(client, cloudgene_sim):
    reply = submit(client, **{"job-name": "study <1>", "population": "eur"})
    assert reply.status_code == 200 and reply.json()["success"] is True
    job_id = reply.json()["id"]
    assert re.fullmatch(r"job-\d{8}-\d{6}-\d{3}", job_id)
    seen, deadline = [], time.monotonic() + 15
    while (job := client.get(f"/api/v2/jobs/{job_id}/status").json())["state"] in (1, 2, 3):
        seen.append(job["state"])
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (
        job["state"] == 4 and 2 in seen and job["name"] == "study &lt;1&gt;" and job["positionInQueue"] == -1
    )
    assert [s["name"] for s in job["steps"]] == [
        "Input Validation",
        "Quality Control",
        "Phasing and Imputation",
        "Summary",
    ]
    assert "Samples: 25\nChromosomes: 20\nSNPs: 30" in job["steps"][0]["logMessages"][0]["message"]
    password = re.search(r"password: <b>(.+)</b>", job["steps"][-1]["logMessages"][-1]["message"]).group(1)
    files = {f["name"]: f for f in job["outputParams"][0]["files"]}
    assert set(files) == {
        "chr_20.zip",
        "qc_report.txt",
        "statistics/snps-excluded.txt",
        "statistics/chunks-excluded.txt",
    }
    zipped = client.get(f"/share/results/{files['chr_20.zip']['hash']}/chr_20.zip")
    assert zipped.status_code == 200 and int(zipped.headers["content-length"]) == len(zipped.content)
    with pyzipper.AESZipFile(io.BytesIO(zipped.content)) as archive:
        archive.setpassword(password.encode())
        assert archive.infolist()[0].flag_bits & 1  # encrypted with ZipCrypto
        dose = gzip.decompress(archive.read("chr20.dose.vcf.gz")).decode().splitlines()
        info = gzip.decompress(archive.read("chr20.info.gz")).decode().splitlines()
    header = next(line for line in dose if line.startswith("#CHROM")).split("\t")
    assert header[9:] == [f"S{i}" for i in range(25)]
    records = [line.split("\t") for line in dose if not line.startswith("#")]
    assert sum("TYPED" in r[7] for r in records) == 30 and any("IMPUTED" in r[7] for r in records)
    assert info[0] == "##fileformat=VCFv4.1" and info[-1].split("\t")[:2] == records[-1][:2]  # Michigan 2
    stats = client.get(
        f"/share/results/{files['statistics/snps-excluded.txt']['hash']}/statistics/snps-excluded.txt"
    )
    assert stats.status_code == 200
    assert client.get(f"/api/v2/jobs/{job_id}").json()["outputParams"][0]["files"][0]["count"] == 9


def test_aes_user_password_qc_only_and_md5(client, manual):
    manual.md5_sidecars = True
    aes = submit(client, aesEncryption="true", password="pw-123").json()["id"]
    qc_only = submit(client, mode="qc_only", meta="false").json()["id"]
    assert manual.run_to_end() is None
    job = client.get(f"/api/v2/jobs/{aes}").json()
    assert "password" not in job["steps"][-1]["logMessages"][0]["message"]
    files = {f["name"]: f for f in job["outputParams"][0]["files"]}
    zipped = client.get(f"/share/results/{files['chr_20.zip']['hash']}/chr_20.zip").content
    with pyzipper.AESZipFile(io.BytesIO(zipped)) as archive:
        archive.setpassword(b"pw-123")
        assert set(archive.namelist()) == {"chr20.dose.vcf.gz", "chr20.info.gz"}
        assert gzip.decompress(archive.read("chr20.info.gz")).startswith(b"##fileformat=VCF")
    assert zipfile.ZipFile(io.BytesIO(zipped)).infolist()[0].compress_type == 99  # WinZip AES marker
    md5 = client.get(f"/share/results/{files['chr_20.zip.md5']['hash']}/chr_20.zip.md5").text
    assert md5 == f"{hashlib.md5(zipped).hexdigest()}  chr_20.zip\n"
    qc_job = client.get(f"/api/v2/jobs/{qc_only}").json()
    assert qc_job["state"] == 4 and not any(
        f["name"].endswith(".zip") for f in qc_job["outputParams"][0]["files"]
    )
    assert "Phasing and Imputation" not in [s["name"] for s in qc_job["steps"]]


@pytest.mark.parametrize(
    "data,name,fields,expected",
    [
        (vcf_gz(samples=5), "a.vcf.gz", {}, ("Input Validation", "At least 20 samples must be uploaded.")),
        (
            b"not gzip at all",
            "a.vcf.gz",
            {},
            (
                "Input Validation",
                "The provided VCF file is malformed.\nError: the compression of 'a.vcf.gz' is not BGZF",
            ),
        ),
        (
            vcf_gz(chrom="chr20"),
            "a.vcf.gz",
            {},
            (
                "Input Validation",
                "Your upload data contains chromosome 'chr20'. "
                "This is not a valid hg19 encoding. Please ensure that your input data "
                "is build hg19 and chromosome is encoded as '20'.",
            ),
        ),
        (vcf_gz(), "a.vcf", {}, ("Input Validation", "No vcf.gz input files detected.")),
        (
            vcf_gz(),
            "a.vcf.gz",
            {"population": "xyz"},
            (
                "Input Validation",
                "Population 'xyz' is not supported by "
                "reference panel 'hapmap-2'.\nAvailable populations:\n - eur\n"
                " - afr\n - off",
            ),
        ),
        (vcf_gz(sites=2), "a.vcf.gz", {}, ("Quality Control", "<b>Error:</b> No chunks passed the QC step.")),
    ],
)
def test_pipeline_failures_end_in_state_5(client, manual, data, name, fields, expected):
    job_id = submit(client, data, name, **fields).json()["id"]
    assert manual.run_to_end(job_id) == 5
    job = client.get(f"/api/v2/jobs/{job_id}").json()
    step, text = errors(job)[0]
    assert step == expected[0]
    assert text == expected[1] or (step == "Quality Control" and expected[1] in text)
    assert errors(job)[-1][1] == "Pipeline execution failed." and job["endTime"] > 0


def test_unknown_refpanel_fails_immediately(client):
    job_id = submit(client, refpanel="apps@nope@1.0").json()["id"]
    job = client.get(f"/api/v2/jobs/{job_id}").json()
    assert job["state"] == 5 and job["steps"] == []


def test_form_rules(client, manual):
    bad = submit(client, format="vcf")
    assert bad.status_code == 400 and bad.json() == {
        "message": "Parameter 'format' not found.",
        "success": False,
    }
    ok = client.post(
        APP,
        data={"input-refpanel": "hapmap-2", "files-pattern": "*.vcf.gz", "meta": "false"},
        files=[("input-files", ("x.vcf.gz", vcf_gz(), "application/octet-stream"))],
    )
    assert ok.status_code == 200
    job = manual.jobs[ok.json()["id"]]
    assert job.params["meta"] == "true" and job.panel["id"] == "hapmap-2" and job.name == job.id
    assert manual.upload_bytes == 2 * len(vcf_gz()) and job.inputs[0].path.read_bytes() == vcf_gz()
    missing = client.post("/api/v2/jobs/submit/foo", files=[("files", ("x.vcf.gz", b"x"))])
    assert missing.status_code == 404 and missing.json()["message"] == "Application 'foo' not found."
    assert client.post(
        f"{APP}@2.0.12", data={"refpanel": "hapmap-2"}, files=[("files", ("x.vcf.gz", b""))]
    ).is_success


def test_queue_positions_and_concurrency_limit(client, manual, cloudgene_url):
    first, second = submit(client).json()["id"], submit(client).json()["id"]
    third = submit(client)
    assert third.status_code == 400
    assert third.json() == {
        "message": "Only 2 jobs per user can be executed simultaneously.",
        "success": False,
    }
    with httpx.Client(base_url=cloudgene_url, headers={"X-Auth-Token": BOB_TOKEN}) as bob:
        bobs = submit(bob).json()["id"]
        assert bob.get(f"/api/v2/jobs/{first}").json() == {"message": "Access denied.", "success": False}
        assert bob.get(f"/api/v2/jobs/{bobs}").json()["positionInQueue"] == 1
    states = {j: client.get(f"/api/v2/jobs/{j}").json() for j in (first, second)}
    assert (states[first]["state"], states[first]["positionInQueue"]) == (2, 0)
    assert (states[second]["state"], states[second]["positionInQueue"], states[second]["startTime"]) == (
        1,
        0,
        0,
    )
    cancelled = client.get(f"/api/v2/jobs/{second}/cancel").json()
    assert cancelled["state"] == 6 and errors(cancelled)[-1][1] == "Pipeline execution canceled."
    listing = client.get("/api/v2/jobs").json()
    assert [j["id"] for j in listing["data"]] == [second, first] and listing["pages"] == [1]
    assert listing["data"][0]["steps"] == [] and listing["data"][1]["steps"] != []
    assert client.get("/api/v2/jobs", params={"page": 1}).json()["pageSize"] == 15
    missing = client.get("/api/v2/jobs/job-20000101-000000-000")
    assert (
        missing.status_code == 404 and missing.json()["message"] == "Job job-20000101-000000-000 not found."
    )


def test_kill_restart_cancel_finished_and_delete(client, manual):
    job_id = submit(client).json()["id"]
    assert client.get(f"/api/v2/jobs/{job_id}/restart").json()["message"] == f"Job {job_id} is not pending."
    manual.kill(job_id)
    assert client.get(f"/api/v2/jobs/{job_id}").json()["state"] == -1
    restarted = client.get(f"/api/v2/jobs/{job_id}/restart").json()
    assert restarted == {
        "success": True,
        "message": "Your job was successfully added to the job queue.",
        "type": 0,
        "time": 0,
    }
    assert manual.run_to_end(job_id) == 4
    assert client.get(f"/api/v2/jobs/{job_id}/cancel").json()["state"] == 4
    assert client.delete(f"/api/v2/jobs/{job_id}").status_code == 403  # API tokens may not delete
    manual.add_session_token("alice", "session-jwt")
    assert (
        client.delete(f"/api/v2/jobs/{job_id}", headers={"X-Auth-Token": "session-jwt"}).json()["state"] == 10
    )
    assert client.get(f"/api/v2/jobs/{job_id}").status_code == 404
    assert client.get("/api/v2/jobs").json() == {
        "count": 0,
        "page": 0,
        "pageSize": 0,
        "prev": None,
        "next": None,
        "pages": [],
        "data": [],
    }


def test_download_limit_and_retire(client, manual):
    manual.max_downloads = 2
    job_id = submit(client).json()["id"]
    manual.run_to_end(job_id)
    report = next(
        f
        for f in client.get(f"/api/v2/jobs/{job_id}").json()["outputParams"][0]["files"]
        if f["name"] == "qc_report.txt"
    )
    url = f"/share/results/{report['hash']}/qc_report.txt"
    assert [client.get(url).status_code for _ in range(2)] == [200, 200]
    over = client.get(url)
    assert over.status_code == 400 and over.json() == {
        "message": "number of max downloads exceeded.",
        "success": False,
    }
    assert manual.download_gets["qc_report.txt"] == 3
    assert client.get(f"/share/results/{'0' * 64}/qc_report.txt").json()["message"] == "download not found."
    zipped = next(
        f
        for f in client.get(f"/api/v2/jobs/{job_id}").json()["outputParams"][0]["files"]
        if f["name"] == "chr_20.zip"
    )
    assert manual.retire(job_id) == 7
    gone = client.get(f"/share/results/{zipped['hash']}/chr_20.zip")
    assert gone.status_code == 404 and gone.json()["message"] == "File not found in workspace."


def test_maintenance(client, cloudgene_sim):
    job_id = submit(client).json()["id"]
    cloudgene_sim.maintenance = True
    body = {"message": "This functionality is currently under maintenance.", "success": False}
    for reply in (client.get(f"/api/v2/jobs/{job_id}"), client.get("/api/v2/jobs"), submit(client)):
        assert reply.status_code == 503 and reply.json() == body
    assert client.get("/api/v2/server").json()["maintenace"] is True


@pytest.mark.parametrize(
    "fault,check",
    [
        (
            Fault("^/api/v2/jobs$", "status", status=500),
            lambda r: r.status_code == 500 and r.json()["success"] is False,
        ),
        (Fault("^/api/v2/jobs$", "html"), lambda r: r.status_code == 502 and r.text.startswith("<html>")),
        (Fault("^/api/v2/jobs$", "malformed"), lambda r: r.status_code == 200 and not _is_json(r.text)),
        (
            Fault("^/api/v2/jobs$", "delay", seconds=0.3),
            lambda r: r.status_code == 200 and r.elapsed.total_seconds() >= 0.3,
        ),
    ],
)
def test_http_faults(client, cloudgene_sim, fault, check):
    cloudgene_sim.faults.append(fault)
    assert check(client.get("/api/v2/jobs"))
    assert client.get("/api/v2/jobs").status_code == 200  # times=1: the next request is clean
    assert cloudgene_sim.requests[-2:] == [("GET", "/api/v2/jobs")] * 2


def test_reset_fault_is_a_transport_error(client, cloudgene_sim):
    cloudgene_sim.faults.append(Fault("/status$", "reset", times=2))
    job_id = submit(client).json()["id"]
    for _ in range(2):
        with pytest.raises(httpx.TransportError):
            client.get(f"/api/v2/jobs/{job_id}/status")
    assert client.get(f"/api/v2/jobs/{job_id}/status").status_code == 200


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_foreground_process_discarding_uploads(tmp_path):
    command = [
        sys.executable,
        "-m",
        "tests.cloudgene_server",
        "--port",
        "0",
        "--discard-uploads",
        "--step-seconds",
        "0",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT) as proc:
        try:
            line = proc.stdout.readline().strip()
            assert line.startswith("READY http://127.0.0.1:")
            with httpx.Client(base_url=line.split()[1], headers={"X-Auth-Token": ALICE_TOKEN}) as c:
                job_id = submit(c, b"\0" * 100_000).json()["id"]
                job = c.get(f"/api/v2/jobs/{job_id}").json()
            assert job["state"] == 4 and any(
                f["name"] == "chr_20.zip" for f in job["outputParams"][0]["files"]
            )
        finally:
            proc.terminate()
            assert proc.wait(10) == 0


def test_engine_slots_and_unique_ids(tmp_path):
    sim = CloudgeneSim(workdir=tmp_path, engine_slots=2, step_seconds=3600, max_running_per_user=10)
    sim.add_user("u", "t")
    ids = [
        sim.submit(sim.users["u"], "imputationserver2", [("refpanel", "hapmap-2")], [], None, "")
        for _ in range(4)
    ]
    assert len(set(ids)) == 4
    assert [sim.jobs[i].state for i in ids] == [2, 2, 1, 1]
    assert [sim.position(sim.jobs[i]) for i in ids] == [0, 0, 0, 1]
