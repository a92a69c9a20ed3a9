"""The CLI against a real sapporo WES server running a real CWL workflow."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from tests.vcfgen import write_vcf
from tests.wes_fixtures import DATA


@pytest.fixture
def wes_service(cli, sapporo):
    proc = cli("services", "add", "w", "--protocol", "wes", "--url", sapporo.url,
               "--set", f"workflow={DATA / 'wes' / 'count.cwl'}", "--set", f"panels={DATA / 'wes' / 'panels.json'}",
               "--set", "poll_interval=0.3", "--location", "loopback")
    assert proc.returncode == 0, proc.stderr
    return "w"


def test_wes__panels_submit_show_download(cli, wes_service, sapporo, sapporo_tokens, tmp_path):
    assert cli("login", "w", "--token", sapporo_tokens["alice"]).returncode == 0
    check = json.loads(cli("services", "check", "w", "--json").stdout)
    assert check[0]["health"]["status"] == "up" and "cwltool" in check[0]["health"]["detail"]

    panels = json.loads(cli("panels", "w", "--json").stdout)
    assert [(p["panel_id"], p["build"]) for p in panels] == [("toy-1", "hg19"), ("toy-2", "hg38")]
    assert panels[0]["populations"] == [{"id": "eur", "label": "eur"}, {"id": "afr", "label": "afr"}]

    vcf = write_vcf(tmp_path / "cohort.vcf.gz", sites=42)
    out = tmp_path / "out"
    sub = cli("submit", str(vcf), "--service", "w", "--panel", "toy-1", "--build", "hg19", "--skip-check",
              "--wait", "--download", str(out), "--json", timeout=180)
    assert sub.returncode == 0, sub.stderr
    doc = json.loads(sub.stdout)
    assert doc["status"] == "completed" and doc["service"] == "w"
    assert (out / "counts.tsv").read_text() == "cohort.vcf.gz\t42\n"  # the workflow really ran on our file
    assert (out / "panel.txt").read_text().strip() == "toy-1"

    show = json.loads(cli("jobs", "show", doc["job_id"], "--json").stdout)
    assert show["remote_state"] == "COMPLETE" and show["status"] == "completed"
    run = httpx.get(f"{sapporo.url}/runs/{show['remote_id']}",
                    headers={"Authorization": f"Bearer {sapporo_tokens['alice']}"}).json()
    assert run["request"]["tags"]["fedimpute_key"] == doc["job_id"]  # a lost submission can be found again
    results = {r["name"]: r for r in show["results"]}
    assert set(results) == {"counts.tsv", "panel.txt"}
    for r in results.values():
        assert r["sha256"] == hashlib.sha256(Path(r["path"]).read_bytes()).hexdigest()

    again = cli("results", "download", doc["job_id"], "--json")
    assert again.returncode == 0 and {f["name"] for f in json.loads(again.stdout)} == {"counts.tsv", "panel.txt"}


def test_wes__wrong_token_gets_login_message(cli, wes_service, tmp_path):
    vcf = write_vcf(tmp_path / "c.vcf.gz")
    proc = cli("submit", str(vcf), "--service", "w", "--panel", "toy-1", "--skip-check",
               env={"FEDIMPUTE_TOKEN_W": "not-a-valid-jwt"})
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: w: the token was refused (missing, invalid or expired); run `fedimpute login w` with a new token "
        "from the service's profile page")


def test_wes__unknown_panel_refused_before_upload(cli, wes_service, sapporo_tokens, tmp_path):
    vcf = write_vcf(tmp_path / "c.vcf.gz")
    proc = cli("submit", str(vcf), "--service", "w", "--panel", "nope", "--skip-check",
               env={"FEDIMPUTE_TOKEN_W": sapporo_tokens["alice"]})
    assert proc.returncode == 2 and "unknown panel 'nope' for w; choose one of toy-1, toy-2" in proc.stderr


def test_services_check__wrong_bearer_token_is_invalid_with_status(cli, wes_service):
    proc = cli("services", "check", "w", "--json", env={"FEDIMPUTE_TOKEN_W": "not-a-valid-jwt"})
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["health"]["status"] == "up"
    token = row["token"]
    assert (token["present"], token["valid"], token["user"], token["expires_at"]) == (True, False, None, None)
    assert token["message"].startswith("HTTP 401: ")
    assert "the token for w was refused (HTTP 401" in proc.stderr and "fedimpute login w" in proc.stderr


def test_services_check__right_token_is_valid_with_user(cli, wes_service, sapporo_tokens):
    proc = cli("services", "check", "w", "--json", env={"FEDIMPUTE_TOKEN_W": sapporo_tokens["alice"]})
    token = json.loads(proc.stdout)[0]["token"]
    assert (token["present"], token["valid"], token["user"]) == (True, True, "alice")
    assert token["expires_at"].endswith("Z")


def test_login__wrong_token_exits_1_and_stores_nothing(cli, wes_service, home):
    proc = cli("login", "w", "--token", "not-a-valid-jwt")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: w: the service rejected this token (HTTP 401: the token is missing, invalid or expired); create a "
        "new API token on the service's profile page")
    secrets = home / "secrets.json"
    assert not secrets.exists() or "not-a-valid-jwt" not in secrets.read_text()
    check = json.loads(cli("services", "check", "w", "--json").stdout)
    assert check[0]["token"] == {"present": False, "valid": None, "expires_at": None, "user": None, "message": ""}


def test_login__right_token_is_verified_then_stored(cli, wes_service, sapporo_tokens, home):
    proc = cli("login", "w", "--token-stdin", input=sapporo_tokens["alice"] + "\n")
    assert proc.returncode == 0, proc.stderr
    assert "token for w stored" in proc.stderr and "(user alice, expires " in proc.stderr
    assert sapporo_tokens["alice"] in (home / "secrets.json").read_text()
    token = json.loads(cli("services", "check", "w", "--json").stdout)[0]["token"]
    assert (token["present"], token["valid"], token["user"]) == (True, True, "alice")


def test_login__unreachable_server_warns_and_stores(cli, home):
    added = cli("services", "add", "gone", "--protocol", "wes", "--url", "http://127.0.0.1:9/ga4gh/wes/v1")
    assert added.returncode == 0, added.stderr
    proc = cli("login", "gone", "--token", "some-token")
    assert proc.returncode == 0, proc.stderr
    assert "warning: could not check the token: could not reach the service" in proc.stderr
    assert "some-token" in (home / "secrets.json").read_text()
    row = json.loads(cli("services", "check", "gone", "--json").stdout)[0]
    assert row["health"]["status"] == "down"
    assert row["token"]["present"] is True and row["token"]["valid"] is None
    assert "could not reach the service" in row["token"]["message"]
