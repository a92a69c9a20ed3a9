"""The engine as a federated node: partner tokens, TLS, partner scoping, a second home submitting to it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fedimpute.credentials import Credentials
from fedimpute.engine.node_tokens import token_hash
from fedimpute.engine.options import EngineOptions
from fedimpute.exceptions import UsageError
from tests.conftest import run_cli
from tests.engine.conftest import FIXTURE

pytestmark = pytest.mark.slow


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made here (never a committed key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fedimpute test node")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "node.pem", folder / "node.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


def _in(home: Path):
    def cli(*args: str, **kw):
        return run_cli(*args, env={"FEDIMPUTE_HOME": str(home)}, **kw)
    return cli


@pytest.fixture
def node(tmp_path):
    """A node home with the CI panel, two partner tokens, and the engine on https://127.0.0.1."""
    home = tmp_path / "node"
    cli = _in(home)
    added = cli("engine", "add-panel", str(FIXTURE / "ref.vcf.gz"), "--id", "sim-ci", "--name", "Simulated CI panel",
                "--build", "hg38", "--population", "all", "--map", str(FIXTURE / "map.plink"))
    assert added.returncode == 0, added.stderr
    tokens = {name: json.loads(cli("engine", "tokens", "add", name, "--json").stdout)["token"]
              for name in ("site-a", "site-b")}
    cert, key = _self_signed(tmp_path)
    started = cli("engine", "start", "--address", "127.0.0.1", "--ssl-certfile", str(cert), "--ssl-keyfile", str(key),
                  "--json", timeout=180)
    assert started.returncode == 0, started.stderr
    status = json.loads(started.stdout)
    try:
        yield {"home": home, "cli": cli, "tokens": tokens, "cert": cert, "status": status}
    finally:
        cli("engine", "stop")


def _partner(tmp_path: Path, name: str, node: dict) -> tuple:
    home = tmp_path / name
    cli = _in(home)
    added = cli("services", "add", "node", "--protocol", "wes", "--url", node["status"]["public_url"],
                "--set", "workflow=impute", "--set", f"ca_bundle={node['cert']}")
    assert added.returncode == 0, added.stderr
    login = cli("login", "node", "--token-stdin", "--shared", input=node["tokens"][name])
    assert login.returncode == 0, login.stderr
    return home, cli


def test_node__partner_submits_follows_downloads_over_https(node, tmp_path):
    status = node["status"]
    assert status["public_url"].startswith("https://127.0.0.1:") and status["partners"] == ["site-a", "site-b"]
    _, a = _partner(tmp_path, "site-a", node)
    panels = json.loads(a("panels", "node", "--json").stdout)
    assert [(p["panel_id"], p["samples"], p["variants"]) for p in panels] == [("sim-ci", 200, 3714)]

    out = tmp_path / "a-results"
    sub = a("submit", str(FIXTURE / "array.vcf.gz"), "--service", "node", "--panel", "sim-ci", "--build", "hg38",
            "--wait", "--download", str(out), "--json", timeout=600)
    assert sub.returncode == 0, sub.stderr
    job = json.loads(sub.stdout)
    assert job["status"] == "completed"
    assert (out / "chr20.dose.vcf.gz").stat().st_size > 0 and (out / "qc_report.txt").exists()
    quality = json.loads(a("quality", job["job_id"], "--json").stdout)
    assert quality["variants"] == 3714 and quality["bins"][-1]["mean_r2"] > 0.9

    public, cert = status["public_url"], str(node["cert"])
    bearer = {name: {"Authorization": f"Bearer {t}"} for name, t in node["tokens"].items()}
    with httpx.Client(verify=ssl.create_default_context(cafile=cert)) as http:
        # the other partner sees nothing of site-a's run: not listed, and 404 like a missing run
        listed_b = http.get(f"{public}/runs", headers=bearer["site-b"]).json()["runs"]
        assert job["remote_id"] not in [r["run_id"] for r in listed_b]
        for method, path in (("GET", ""), ("GET", "/status"), ("GET", "/outputs"), ("POST", "/cancel"),
                             ("GET", "/outputs/chr20.dose.vcf.gz")):
            seen = http.request(method, f"{public}/runs/{job['remote_id']}{path}", headers=bearer["site-b"])
            assert seen.status_code == 404, (path, seen.text)
        assert job["remote_id"] in [r["run_id"] for r in http.get(f"{public}/runs", headers=bearer["site-a"])
                                    .json()["runs"]]
        # wrong token, no token: 401; service-info stays open
        assert http.get(f"{public}/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get(f"{public}/runs").status_code == 401
        assert http.get(f"{public}/service-info").status_code == 200

    # the node's owner sees every run, with the partner that made it
    runs = json.loads(node["cli"]("engine", "runs", "--json").stdout)
    assert {"run_id": job["remote_id"], "partner": "site-a"}.items() <= next(
        r for r in runs if r["run_id"] == job["remote_id"]).items()

    # the home's own fedimpute keeps working through its own token while partners need theirs
    own = node["cli"]("submit", str(FIXTURE / "array.vcf.gz"), "--service", "local", "--panel", "sim-ci",
                      "--build", "hg38", "--mode", "qc-only", "--wait", "--json", timeout=300)
    assert own.returncode == 0 and json.loads(own.stdout)["status"] == "completed", own.stderr
    owner = Credentials(node["home"], environment=False).token("local").get_secret_value()
    kept = json.loads((node["home"] / "engine" / "tokens.json").read_text())["tokens"]["owner"]
    assert kept["sha256"] == token_hash(owner)
    assert owner.encode() not in (node["home"] / "fedimpute.duckdb").read_bytes()

    # revoked: the next request is refused
    assert node["cli"]("engine", "tokens", "revoke", "site-a").returncode == 0
    assert [t["name"] for t in json.loads(node["cli"]("engine", "tokens", "list", "--json").stdout)] == ["site-b"]
    with httpx.Client(verify=ssl.create_default_context(cafile=cert)) as http:
        assert http.get(f"{public}/runs", headers=bearer["site-a"]).status_code == 401
    refused = a("jobs", "show", job["job_id"], "--json")
    assert refused.returncode == 0  # the local record stays; the service check says the token is refused
    check = json.loads(a("services", "check", "node", "--json").stdout)
    assert check[0]["token"]["valid"] is False


def test_node__partner_cannot_run_other_workflows_or_read_node_files(node):
    public, cert = node["status"]["public_url"], str(node["cert"])
    bearer = {"Authorization": f"Bearer {node['tokens']['site-b']}"}
    vcf = (FIXTURE / "array.vcf.gz").read_bytes()

    def post(params: dict, **extra: str) -> httpx.Response:
        data = {"workflow_params": json.dumps(params), "workflow_type": "CWL", "workflow_type_version": "v1.2",
                "workflow_url": "impute.cwl", **extra}
        with httpx.Client(verify=ssl.create_default_context(cafile=cert)) as http:
            return http.post(f"{public}/runs", headers=bearer, data=data,
                             files=[("workflow_attachment", ("inputs/array.vcf.gz", vcf))])

    good = {"vcfs": [{"class": "File", "location": "inputs/array.vcf.gz"}], "panel": "sim-ci"}
    secret = node["home"] / "users.json"
    for bad, said in (
        ({**good, "panel_vcf": {"class": "File", "location": f"file://{secret}"}}, "not accepted from partners"),
        ({**good, "panel": "other"}, "unknown panel"),
        ({**good, "vcfs": [{"class": "File", "location": f"file://{secret}"}]}, "not one of the attached"),
    ):
        answer = post(bad)
        assert answer.status_code == 400 and said in answer.json()["msg"], answer.text
    # a partner's workflow URL and download-by-URL attachments are ignored: the node runs its own workflow
    accepted = post({**good, "mode": "qc-only"}, workflow_url="https://example.invalid/evil.cwl",
                    workflow_attachment_obj=json.dumps([{"file_name": "x", "file_url": "http://127.0.0.1:1/"}]))
    assert accepted.status_code == 200, accepted.text
    run_id = accepted.json()["run_id"]
    with httpx.Client(verify=ssl.create_default_context(cafile=cert)) as http:
        log = http.get(f"{public}/runs/{run_id}", headers=bearer).json()
    assert log["request"]["workflow_url"] == "impute.cwl"
    assert str(node["home"].resolve()) not in json.dumps(log)  # the node's folders are not the partner's to see
    assert log["request"]["tags"]["fedimpute_partner"] == "site-b"
    assert "127.0.0.1:1/" not in json.dumps(log) and "evil" not in json.dumps(log)


def test_engine_options__exposure_fails_closed(tmp_path):
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    with pytest.raises(UsageError, match="without TLS"):
        EngineOptions(address="0.0.0.0").check(has_partners=True)
    with pytest.raises(UsageError, match="without partner tokens"):
        EngineOptions(address="0.0.0.0", ssl_certfile=str(cert), ssl_keyfile=str(cert)).check(has_partners=False)
    with pytest.raises(UsageError, match="both"):
        EngineOptions(ssl_certfile=str(cert)).check(has_partners=False)
    with pytest.raises(UsageError, match="Toil options"):
        EngineOptions(batch_system="slurm").check(has_partners=False)
    assert EngineOptions(address="0.0.0.0", insecure_http=True).check(has_partners=True).address == "0.0.0.0"


def test_engine_tokens__shown_once_kept_hashed(home, cli):
    made = cli("engine", "tokens", "add", "site-c", "--json")
    token = json.loads(made.stdout)["token"]
    stored = (home / "engine" / "tokens.json")
    assert token not in stored.read_text() and oct(stored.stat().st_mode & 0o777) == "0o600"
    assert cli("engine", "tokens", "add", "site-c").returncode == 2  # one token per partner name
    assert cli("engine", "tokens", "add", "owner").returncode == 2
    assert token not in cli("engine", "tokens", "list", "--json").stdout
    assert cli("engine", "tokens", "revoke", "nobody").returncode == 2
    assert os.environ["FEDIMPUTE_HOME"] == str(home)


def test_add_panel__name_and_build_from_the_header(home, cli, tmp_path):
    import subprocess

    panel = tmp_path / "with-contig.vcf.gz"
    header = tmp_path / "h.txt"
    original = subprocess.run(["bcftools", "view", "-h", str(FIXTURE / "ref.vcf.gz")], capture_output=True, text=True,
                              check=True).stdout
    header.write_text(original.replace("length=1101000", "length=64444167"))  # chr20 of GRCh38
    subprocess.run(["bcftools", "reheader", "-h", str(header), "-o", str(panel), str(FIXTURE / "ref.vcf.gz")],
                   check=True)
    added = cli("engine", "add-panel", str(panel), "--id", "hdr", "--json")
    assert added.returncode == 0, added.stderr
    manifest = json.loads(added.stdout)
    assert (manifest["build"], manifest["name"]) == ("hg38", "hdr")
    refused = cli("engine", "add-panel", str(FIXTURE / "ref.vcf.gz"), "--id", "nohdr")
    assert refused.returncode == 2 and "--build" in refused.stderr


def test_local_service__chunking_settings_reach_the_workflow_and_survive_a_restart(home, cli, ci_panel):
    import asyncio

    from fedimpute.hub import Hub
    from fedimpute.services.base import SubmitOptions

    assert cli("services", "add", "local", "--protocol", "local", "--url", "http://127.0.0.1:9/ga4gh/wes/v1",
               "--set", "chunk_size=1000000", "--set", "chunk_flank=250000").returncode == 0
    assert cli("services", "add", "bad", "--protocol", "local", "--url", "http://127.0.0.1:9",
               "--set", "chunk_size=10").returncode == 2  # below 100 kb: refused with the rule

    async def params() -> dict:
        async with Hub().adapter("local") as adapter:
            return adapter._params([FIXTURE / "array.vcf.gz"], SubmitOptions(panel="sim-ci"))

    assert {k: v for k, v in asyncio.run(params()).items() if k.startswith("chunk")} == \
        {"chunk_size": 1000000, "chunk_flank": 250000}
    assert cli("engine", "start", timeout=120).returncode == 0  # re-registers `local` at the engine's URL
    try:
        (local,) = [s for s in json.loads(cli("services", "list", "--json").stdout) if s["name"] == "local"]
        assert local["url"] != "http://127.0.0.1:9/ga4gh/wes/v1"
        assert {k: local["settings"][k] for k in ("chunk_size", "chunk_flank", "workflow")} == \
            {"chunk_size": "1000000", "chunk_flank": "250000", "workflow": "impute"}
    finally:
        cli("engine", "stop")


async def test_gateway__exposed_engine_needs_a_token_even_without_partners(home):
    """Revoking the last partner token of an engine on a network address must not open it."""
    from fedimpute.engine.gateway import Gateway, make_app

    async def runs(exposed: bool) -> int:
        gw = Gateway("http://127.0.0.1:9/ga4gh/wes/v1", home, exposed=exposed)
        transport = httpx.ASGITransport(app=make_app(gw))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as http:
            status = (await http.get("/ga4gh/wes/v1/runs")).status_code
        await gw.client.aclose()
        return status

    assert await runs(exposed=True) == 401
    assert await runs(exposed=False) == 502  # passed on (no WES server behind it here), not refused
