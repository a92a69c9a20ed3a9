"""The DNAstack Workbench adapter beyond the contract: discovery, resolution of namespace,
engine and workflow, the submitted batch, state mapping, run details, outputs, paging, and
the OAuth2 helpers, against the fake Workbench (and respx where a broken server is needed)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import respx
from pydantic import SecretStr

from fedimpute.exceptions import (
    AuthenticationError,
    RemoteRejectedError,
    ServiceUnavailableError,
    UsageError,
)
from fedimpute.models import HealthStatus, JobStatus, Protocol, ServiceConfig
from fedimpute.redaction import redact
from fedimpute.services import dnastack
from fedimpute.services.base import RemoteFile, SubmitOptions
from fedimpute.services.dnastack import (
    DnastackService,
    DnastackSettings,
    map_state,
    output_files,
    parse_run,
    run_params,
)
from fedimpute.services.dnastack import adapter as dnastack_adapter
from fedimpute.services.dnastack.discovery import registry_entries
from fedimpute.services.dnastack.oauth import client_credentials_token, device_code_login
from tests.dnastack_fake.fixtures import (  # noqa: F401
    ALICE,
    ALICE_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    NAMESPACE,
    WORKFLOW,
    dnastack_fake,
    dnastack_url,
)
from tests.dnastack_fake.runs import FAILURE_TEXT
from tests.dnastack_fake.state import make_token
from tests.services.contract import poll_until

PREFIX = "gs://fake-bucket/cohort"
WB = "https://wb.example.org"  # a Workbench mocked with respx
OPTIONS = SubmitOptions(panel="hapmap-2", build="hg19", population="eur", phasing="eagle", r2_filter="0.3",
                        mode="imputation")


def make_config(url: str, **settings: str) -> ServiceConfig:
    base = {"workflow_name": WORKFLOW, "input_prefix": PREFIX}
    return ServiceConfig(name="wb", protocol=Protocol.DNASTACK, url=url,
                         settings={k: v for k, v in {**base, **settings}.items() if v is not None})


@pytest.fixture
async def client():
    async with httpx.AsyncClient() as c:
        yield c


@pytest.fixture
def make_adapter(dnastack_url, client):
    def make(token: str | None = ALICE_TOKEN, **settings: str) -> DnastackService:
        secret = SecretStr(token) if token else None
        return DnastackService(make_config(dnastack_url, **settings), client, secret)
    return make


@pytest.fixture
def vcf(tmp_path):
    path = tmp_path / "chr20.vcf.gz"
    path.write_bytes(b"not read: Workbench takes the copy in the bucket")
    return path


def registry_paths(fake) -> list[str]:
    return [p for m, p, q in fake.requests if "service" in p]


# -- discovery ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", dnastack.REGISTRY_PATHS)
async def test_endpoints__found_at_each_registry_path(path, dnastack_fake, dnastack_url, make_adapter):
    dnastack_fake.registry_path = path
    endpoints = await make_adapter().endpoints()
    assert endpoints.registry == f"{dnastack_url}{path}"
    assert (endpoints.ewes, endpoints.workflows, endpoints.users) == (
        f"{dnastack_url}/ewes", f"{dnastack_url}/workflow", f"{dnastack_url}/user")
    tried = list(dnastack.REGISTRY_PATHS[: dnastack.REGISTRY_PATHS.index(path) + 1])
    assert registry_paths(dnastack_fake) == tried


async def test_endpoints__discovered_once_per_adapter(dnastack_fake, make_adapter):
    adapter = make_adapter()
    await adapter.endpoints()
    await adapter.endpoints()
    await adapter.namespace()
    assert len(registry_paths(dnastack_fake)) == 3


async def test_endpoints__no_registry_names_the_fix(dnastack_fake, make_adapter):
    dnastack_fake.registry_path = "/elsewhere"
    with pytest.raises(RemoteRejectedError, match="no GA4GH service registry .*tried /services"):
        await make_adapter().endpoints()


def _entry(artifact: str, url: str, group: str = "com.dnastack.workbench") -> dict:
    return {"id": artifact, "url": url, "type": {"group": group, "artifact": artifact, "version": "1.0.0"}}


def mocked(client, token: str | None = ALICE_TOKEN, **settings: str) -> DnastackService:
    return DnastackService(make_config(WB, **settings), client, SecretStr(token) if token else None)


@respx.mock
async def test_endpoints__registry_without_ewes_is_refused(client):
    respx.get(f"{WB}/services").respond(json=[_entry("data-connect", "https://dc/", "org.ga4gh")])
    respx.get(url__regex=r".*/service-registry/services").respond(404)
    with pytest.raises(RemoteRejectedError, match="lists no com.dnastack.workbench:ewes-service"):
        await mocked(client).endpoints()


@respx.mock
async def test_endpoints__skips_web_pages_and_foreign_registries(client):
    respx.get(f"{WB}/services").respond(200, html="<html>the Workbench web app</html>")
    respx.get(f"{WB}/service-registry/services").respond(json=[_entry("drs", "https://drs/", "org.ga4gh")])
    respx.get(f"{WB}/api/service-registry/services").respond(json=[_entry("ewes-service", f"{WB}/e/")])
    endpoints = await mocked(client).endpoints()
    assert endpoints.registry == f"{WB}/api/service-registry/services" and endpoints.ewes == f"{WB}/e"


@respx.mock
async def test_endpoints__server_error_is_reported_not_hidden(client):
    respx.get(f"{WB}/services").respond(502, json={"msg": "bad gateway"})
    respx.get(url__regex=r".*/service-registry/services").respond(404)
    with pytest.raises(ServiceUnavailableError, match="bad gateway"):
        await mocked(client).endpoints()


@respx.mock
async def test_endpoints__string_types_and_relative_urls(client):
    respx.get(f"{WB}/services").respond(json={"services": [
        {"id": "e", "url": "/ewes-service/", "type": "com.dnastack.workbench:ewes-service:1.0.0"}]})
    endpoints = await mocked(client, token=None).endpoints()
    assert endpoints.ewes == f"{WB}/ewes-service" and endpoints.users is None


# -- namespace, engine, workflow --------------------------------------------------------------

async def test_namespace__from_users_me(make_adapter):
    assert await make_adapter().namespace() == NAMESPACE


async def test_namespace__setting_skips_the_user_service(dnastack_fake, make_adapter):
    assert await make_adapter(namespace="ns-other").namespace() == "ns-other"
    assert not any(p.endswith("/users/me") for _, p, _ in dnastack_fake.requests)


@respx.mock
async def test_namespace__token_subject_without_user_service(client):
    respx.get(f"{WB}/services").respond(json=[_entry("ewes-service", f"{WB}/e/")])
    assert await mocked(client, token=make_token("ns-from-sub")).namespace() == "ns-from-sub"
    with pytest.raises(UsageError, match="set the namespace setting"):
        await mocked(client, token="opaque-token-1234").namespace()


async def test_engine__default_engine_chosen(make_adapter):
    assert await make_adapter().engine_id() == "cromwell-local"
    assert await make_adapter(engine_id="gcp-batch").engine_id() == "gcp-batch"


async def test_engine__without_default_names_the_setting(dnastack_fake, make_adapter):
    for engine in dnastack_fake.engines[NAMESPACE]:
        engine["default"] = False
    with pytest.raises(UsageError, match=r"no default engine .*gcp-batch, cromwell-local.*--set engine_id="):
        await make_adapter().engine_id()


async def test_workflow__latest_version_found_by_name(dnastack_fake, make_adapter):
    workflow = dnastack_fake.workflows[NAMESPACE][0]
    assert await make_adapter().workflow_url() == f"{workflow['internalId']}/{workflow['latestVersion']}"
    assert ("GET", f"/workflow/{NAMESPACE}/workflows", f"search={WORKFLOW}") in dnastack_fake.requests


async def test_workflow__versions_listed_when_latest_is_missing(dnastack_fake, make_adapter):
    workflow = dnastack_fake.add_workflow(NAMESPACE, "other-wf", ["1", "2", "3"], with_latest=False)
    url = await make_adapter(workflow_name="Other-WF").workflow_url()
    assert url == f"{workflow['internalId']}/{workflow['versions'][-1]['id']}"


async def test_workflow__unknown_name_names_the_setting(make_adapter):
    with pytest.raises(UsageError, match="no workflow named 'nope' .*--set workflow_url="):
        await make_adapter(workflow_name="nope").workflow_url()


async def test_workflow__ambiguous_search_needs_exact_name(dnastack_fake, make_adapter):
    dnastack_fake.add_workflow(NAMESPACE, f"{WORKFLOW}-dev", ["0.1"])
    workflow = dnastack_fake.workflows[NAMESPACE][0]
    assert (await make_adapter().workflow_url()).startswith(workflow["internalId"])


async def test_workflow__none_chosen_names_both_settings(make_adapter):
    with pytest.raises(UsageError, match="workflow_name.*workflow_url"):
        await make_adapter(workflow_name=None).workflow_url()


async def test_workflow__setting_used_without_lookup(dnastack_fake, make_adapter):
    assert await make_adapter(workflow_url="abc/v9").workflow_url() == "abc/v9"
    assert not any("/workflows" in p for _, p, _ in dnastack_fake.requests)


# -- submission ---------------------------------------------------------------------------------

async def test_submit__sends_one_batch_run(dnastack_fake, make_adapter, vcf):
    run_id = await make_adapter().submit([vcf], OPTIONS, job_name="cohort-a")
    body = dnastack_fake.batches[-1]
    workflow = dnastack_fake.workflows[NAMESPACE][0]
    assert body == {
        "workflow_url": f"{workflow['internalId']}/{workflow['latestVersion']}", "workflow_type": "WDL",
        "workflow_type_version": "1.0", "engine_id": "cromwell-local", "default_workflow_params": {},
        "run_requests": [{"workflow_params": {
            "impute.panel": "hapmap-2", "impute.build": "hg19", "impute.population": "eur",
            "impute.phasing": "eagle", "impute.r2_filter": "0.3", "impute.mode": "imputation",
            "impute.vcfs": [f"{PREFIX}/chr20.vcf.gz"]}, "tags": {"fedimpute_job": "cohort-a"}}]}
    assert dnastack_fake.runs[run_id].tags == {"fedimpute_job": "cohort-a"}


async def test_submit__prefix_version_and_extra_params(dnastack_fake, make_adapter, vcf):
    adapter = make_adapter(params_prefix="wf.", workflow_type_version="draft-2", input_prefix="gs://b/x/",
                           extra_params='{"wf.ref_dir": "gs://refs"}')
    await adapter.submit([vcf], SubmitOptions(panel="p", meta=True), job_name="j")
    body = dnastack_fake.batches[-1]
    assert body["workflow_type_version"] == "draft-2"
    assert body["default_workflow_params"] == {"wf.ref_dir": "gs://refs"}
    assert body["run_requests"][0]["workflow_params"] == {"wf.panel": "p", "wf.meta": True,
                                                          "wf.vcfs": ["gs://b/x/chr20.vcf.gz"]}


async def test_submit__missing_input_prefix_names_the_setting(dnastack_fake, make_adapter, vcf):
    with pytest.raises(UsageError, match=r"cannot read local files.*--set input_prefix=gs://"):
        await make_adapter(input_prefix=None).submit([vcf], OPTIONS, job_name="j")
    assert dnastack_fake.requests == []


@pytest.mark.parametrize(("raw", "problem"), [("{nope", "not valid JSON"), ("[1]", "must be a JSON object")])
async def test_submit__bad_extra_params_is_usage_error(raw, problem, make_adapter, vcf):
    with pytest.raises(UsageError, match=problem):
        await make_adapter(extra_params=raw).submit([vcf], OPTIONS, job_name="j")


def test_run_params__aes_refused(vcf):
    with pytest.raises(UsageError, match="drop --aes"):
        run_params("wb", [vcf], SubmitOptions(panel="p", aes=True), DnastackSettings(input_prefix=PREFIX))


async def test_submit__refusal_quotes_the_service(make_adapter, vcf):
    with pytest.raises(RemoteRejectedError, match="Engine nope not found"):
        await make_adapter(engine_id="nope").submit([vcf], OPTIONS, job_name="j")


# -- states and run details -----------------------------------------------------------------------

@pytest.mark.parametrize(("state", "status"), [
    ("QUEUED", JobStatus.QUEUED), ("INITIALIZING", JobStatus.QUEUED), ("PREPROCESSING", JobStatus.QUEUED),
    ("RUNNING", JobStatus.RUNNING), ("PAUSED", JobStatus.RUNNING), ("CANCELING", JobStatus.RUNNING),
    ("COMPLETE", JobStatus.COMPLETED), ("COMPLETE_WITH_ERRORS", JobStatus.FAILED),
    ("EXECUTOR_ERROR", JobStatus.FAILED), ("SYSTEM_ERROR", JobStatus.FAILED),
    ("PREPROCESSING_ERROR", JobStatus.FAILED), ("NOT_PROCESSED", JobStatus.FAILED),
    ("PREEMPTED", JobStatus.FAILED), ("CANCELED", JobStatus.CANCELLED),
    ("UNKNOWN", JobStatus.RUNNING), ("SOMETHING_NEW", JobStatus.RUNNING), (None, JobStatus.RUNNING),
])  # fmt: skip
def test_map_state__table(state, status):
    assert map_state(state) is status


def test_parse_run__list_item_and_unknown_state():
    job = parse_run({"run_id": "r1", "state": "WAITING_FOR_GODOT", "start_time": "2024-05-01T10:00:00Z",
                     "tags": {"fedimpute_job": "n"}})
    assert (job.status, job.remote_state, job.name) == (JobStatus.RUNNING, "WAITING_FOR_GODOT", "n")
    assert not job.status.is_terminal and job.started_at.isoformat() == "2024-05-01T10:00:00+00:00"


async def test_get_job__steps_outputs_and_times(make_adapter, vcf):
    adapter = make_adapter()
    run_id = await adapter.submit([vcf], OPTIONS, job_name="detail")
    job = await poll_until(adapter, run_id, lambda j: j.status.is_terminal, timeout=10, interval=0.05)
    assert (job.status, job.remote_state, job.name) == (JobStatus.COMPLETED, "COMPLETE", "detail")
    assert job.error is None
    events = [m.text for m in job.steps[0].messages]
    assert job.steps[0].name == "Workbench events" and events[0] == f"submitted by {ALICE}"
    assert "state QUEUED -> INITIALIZING" in events and events[-1] == "state RUNNING -> COMPLETE"
    assert any(t.startswith("sent to the engine as ext-") for t in events)
    assert job.steps[1].name == "minimac4" and job.steps[1].messages[0].text == "COMPLETE; exit code 0"
    assert [f.name for f in job.outputs] == ["chr20.dose.vcf.gz", "qc_report.txt"]
    cloud = job.steps[-1]
    assert cloud.name == "outputs in cloud storage"
    assert "gs://fake-workbench-bucket/" in cloud.messages[0].text
    assert job.submitted_at <= job.started_at <= job.finished_at


async def test_get_job__failure_carries_errors_and_stderr_tail(dnastack_fake, make_adapter, vcf):
    dnastack_fake.fail_state = "EXECUTOR_ERROR"
    adapter = make_adapter()
    run_id = await adapter.submit([vcf], OPTIONS, job_name="bad")
    job = await poll_until(adapter, run_id, lambda j: j.status.is_terminal, timeout=10, interval=0.05)
    assert job.status is JobStatus.FAILED and job.remote_state == "EXECUTOR_ERROR" and not job.outputs
    assert job.error.splitlines()[0] == FAILURE_TEXT and "reference panel index is missing" in job.error
    assert job.error.count(FAILURE_TEXT) == 1


async def test_cancel__sleep_param_keeps_run_cancellable(dnastack_fake, make_adapter, vcf):
    adapter = make_adapter(extra_params='{"impute.sleep": 30}')
    run_id = await adapter.submit([vcf], OPTIONS, job_name="slow")
    await poll_until(adapter, run_id, lambda j: j.remote_state == "RUNNING", timeout=5, interval=0.05)
    await asyncio.sleep(0.3)
    assert (await adapter.get_job(run_id)).remote_state == "RUNNING"
    job = await adapter.cancel(run_id)
    assert (job.remote_state, job.status) == ("CANCELING", JobStatus.RUNNING)
    job = await poll_until(adapter, run_id, lambda j: j.status.is_terminal, timeout=5, interval=0.05)
    assert job.status is JobStatus.CANCELLED
    assert ("POST", f"/ewes/{NAMESPACE}/ga4gh/wes/v1/runs/{run_id}/cancel", "") in dnastack_fake.requests


async def test_cancel__finished_run_is_refused(make_adapter, vcf):
    adapter = make_adapter()
    run_id = await adapter.submit([vcf], OPTIONS, job_name="done")
    await poll_until(adapter, run_id, lambda j: j.status.is_terminal, timeout=10, interval=0.05)
    with pytest.raises(RemoteRejectedError, match="already COMPLETE"):
        await adapter.cancel(run_id)


# -- outputs and downloads ----------------------------------------------------------------------

def test_output_files__http_become_files_others_are_listed():
    files, elsewhere = output_files({
        "wf.vcfs": ["https://h/a/chr1.vcf.gz", "https://h/b/chr1.vcf.gz", "gs://bucket/chr2.vcf.gz"],
        "wf.nested": {"report": "http://h/r/report%20one.html?sig=x"}, "wf.count": 3,
        "wf.label": "plain text", "wf.drs": "drs://h/obj"})
    assert [(f.name, f.url) for f in files] == [
        ("chr1.vcf.gz", "https://h/a/chr1.vcf.gz"), ("vcfs/chr1.vcf.gz", "https://h/b/chr1.vcf.gz"),
        ("report one.html", "http://h/r/report%20one.html?sig=x")]
    assert elsewhere == [("wf.vcfs", "gs://bucket/chr2.vcf.gz"), ("wf.drs", "drs://h/obj")]


async def test_download__cloud_storage_url_says_use_cloud_tools(make_adapter, tmp_path):
    remote = RemoteFile(name="chr2.vcf.gz", url="gs://bucket/chr2.vcf.gz")
    with pytest.raises(UsageError, match=r"cannot download.*gsutil cp"):
        await make_adapter().download(remote, tmp_path)


@respx.mock
async def test_download__token_sent_only_to_workbench_hosts(client, tmp_path):
    own = respx.get(f"{WB}/files/a.txt").respond(content=b"own")
    other = respx.get("https://storage.example.com/signed/b.txt").respond(content=b"other")
    adapter = mocked(client)
    await adapter.download(RemoteFile(name="a.txt", url=f"{WB}/files/a.txt"), tmp_path)
    await adapter.download(RemoteFile(name="b.txt", url="https://storage.example.com/signed/b.txt"), tmp_path)
    assert own.calls.last.request.headers["authorization"] == f"Bearer {ALICE_TOKEN}"
    assert "authorization" not in other.calls.last.request.headers
    assert (tmp_path / "b.txt").read_bytes() == b"other"


# -- listing --------------------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["relative", "root", "absolute", "token"])
async def test_list_jobs__follows_every_page(style, dnastack_fake, make_adapter, vcf, monkeypatch):
    monkeypatch.setattr(dnastack_adapter, "PAGE_SIZE", 2)
    dnastack_fake.page_style = style
    adapter = make_adapter()
    ids = [await adapter.submit([vcf], OPTIONS, job_name=f"j{i}") for i in range(5)]
    jobs = await adapter.list_jobs()
    assert sorted(j.remote_id for j in jobs) == sorted(ids) and len(jobs) == 5
    assert {j.name for j in jobs} == {f"j{i}" for i in range(5)}
    pages = [q for m, p, q in dnastack_fake.requests if m == "GET" and p.endswith("/ga4gh/wes/v1/runs")]
    assert len(pages) == 3 and all("page_size=2" in q for q in pages)


@pytest.mark.parametrize(("next_page", "second"), [
    ({"pagination": {"next_page_url": "runs?page_token=1"}}, "runs?page_token=1"),
    ({"next_page_token": "1"}, "runs?page_size=1&page_token=1")])
@respx.mock
async def test_list_jobs__stops_when_a_page_repeats(next_page, second, client, monkeypatch):
    monkeypatch.setattr(dnastack_adapter, "PAGE_SIZE", 1)
    respx.get(f"{WB}/services").respond(json=[_entry("ewes-service", f"{WB}/e/")])
    runs = respx.get(f"{WB}/e/ns/ga4gh/wes/v1/runs").respond(json={
        "runs": [{"run_id": "r1", "state": "COMPLETE"}], **next_page})
    jobs = await mocked(client, namespace="ns").list_jobs()
    assert runs.call_count == 2 and [j.remote_id for j in jobs] == ["r1", "r1"]
    assert str(runs.calls.last.request.url) == f"{WB}/e/ns/ga4gh/wes/v1/{second}"


# -- health and token -----------------------------------------------------------------------------

async def test_health__up_with_ewes_details(make_adapter):
    health = await make_adapter().health()
    assert health.status is HealthStatus.UP and f"namespace {NAMESPACE}" in health.detail


async def test_health__refused_token_is_still_up(make_adapter):
    health = await make_adapter(token="wrong-token-0000").health()
    assert health.status is HealthStatus.UP and "fedimpute login wb" in health.detail


async def test_health__unreachable_is_down(client):
    adapter = DnastackService(make_config("http://127.0.0.1:9"), client, SecretStr(ALICE_TOKEN))
    assert (await adapter.health()).status is HealthStatus.DOWN


async def test_verify_token__user_and_expiry(make_adapter):
    info = await make_adapter().verify_token()
    assert info.valid and info.user == ALICE and info.expires_at.timestamp() > time.time() + 29 * 86400


async def test_verify_token__refused_and_missing(make_adapter):
    refused = await make_adapter(token="wrong-token-0000").verify_token()
    assert refused.valid is False and refused.message.startswith("HTTP 401: ")
    missing = await make_adapter(token=None).verify_token()
    assert missing.valid is False and "fedimpute login wb" in missing.message


async def test_verify_token__one_call_to_the_user_service(dnastack_fake, make_adapter):
    adapter = make_adapter()
    await adapter.endpoints()  # discovery is looked up once per adapter, before the check
    before = len(dnastack_fake.requests)
    assert (await adapter.verify_token()).valid is True
    assert [(m, p) for m, p, q in dnastack_fake.requests[before:]] == [("GET", "/user/users/me")]


async def test_verify_token__revoked_token_is_refused(dnastack_fake, make_adapter):
    with dnastack_fake.lock:
        del dnastack_fake.tokens[ALICE_TOKEN]
    info = await make_adapter().verify_token()
    assert info.valid is False and info.message.startswith("HTTP 401: ") and info.user is None


async def test_verify_token__unreachable_is_unknown_not_refused(client):
    adapter = DnastackService(make_config("http://127.0.0.1:9"), client, SecretStr(ALICE_TOKEN))
    info = await adapter.verify_token()
    assert info.valid is None and info.message.startswith("could not check the token: could not reach")


@respx.mock
async def test_verify_token__server_error_is_unknown(client):
    respx.get(f"{WB}/services").respond(json=[_entry("ewes-service", f"{WB}/e/"),
                                              _entry("workbench-user-service", f"{WB}/u/")])
    respx.get(f"{WB}/u/users/me").respond(502, html="<html>Bad Gateway</html>")
    info = await DnastackService(make_config(WB), client, SecretStr(ALICE_TOKEN)).verify_token()
    assert info.valid is None and info.message.startswith("could not check the token (HTTP 502)")


# -- OAuth2 ---------------------------------------------------------------------------------------

async def test_oauth_configs__read_from_the_registry(dnastack_url, make_adapter):
    adapter = make_adapter()
    configs = await adapter.oauth_configs()
    assert configs[0].token_endpoint == f"{dnastack_url}/oauth/token"
    assert configs[0].resource == f"{dnastack_url}/ewes/" and configs[0].client_id == "fedimpute-cli"
    login = await adapter.login_config()
    assert login.device_code_endpoint == f"{dnastack_url}/oauth/device/code"
    assert login.resource.split(",") == [f"{dnastack_url}/ewes/", f"{dnastack_url}/workflow/",
                                         f"{dnastack_url}/user/"]


async def test_client_credentials__token_works_with_the_adapter(dnastack_fake, dnastack_url, client,
                                                               make_adapter):
    resource = f"{dnastack_url}/ewes/"
    token, expires = await client_credentials_token(client, f"{dnastack_url}/oauth/token", CLIENT_ID,
                                                    CLIENT_SECRET, resource, "openid")
    assert expires == 3600 and redact(f"x {token} y") == "x *** y"
    assert dnastack_fake.token_requests[-1] == {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                                "client_secret": CLIENT_SECRET, "resource": resource,
                                                "scope": "openid"}
    assert (await make_adapter(token=token).verify_token()).user == ALICE


async def test_client_credentials__bad_secret_names_the_fix(dnastack_url, client):
    with pytest.raises(AuthenticationError, match="refused the client 'hub-service-account'") as caught:
        await client_credentials_token(client, f"{dnastack_url}/oauth/token", CLIENT_ID, "wrong-secret-x",
                                       "r")
    assert "wrong-secret-x" not in str(caught.value) and "check the client id and secret" in str(caught.value)


class Browser:
    """Stands in for the user: records prompts and sleeps, approves after ``approve_after`` polls."""

    def __init__(self, fake, approve_after: int | None) -> None:
        self.fake, self.approve_after = fake, approve_after
        self.prompts: list[tuple[str, str]] = []
        self.sleeps: list[float] = []

    def prompt(self, url: str, code: str) -> None:
        self.prompts.append((url, code))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.approve_after is not None and len(self.sleeps) == self.approve_after:
            self.fake.approve_device(ALICE)


async def _device_login(url: str, client, browser: Browser) -> str:
    return await device_code_login(client, f"{url}/oauth/device/code", f"{url}/oauth/token", "fedimpute-cli",
                                   f"{url}/ewes/", "openid offline_access", on_prompt=browser.prompt,
                                   sleep=browser.sleep)


async def test_device_code__approved_after_pending_polls(dnastack_fake, dnastack_url, client):
    browser = Browser(dnastack_fake, approve_after=3)
    token = await _device_login(dnastack_url, client, browser)
    assert dnastack_fake.tokens[token] == ALICE and redact(token) == "***"
    assert browser.sleeps == [1, 1, 1]
    url, code = browser.prompts[0]
    assert url == f"{dnastack_url}/device?user_code={code}"
    assert dnastack_fake.device_requests == [{
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": "fedimpute-cli",
        "resource": f"{dnastack_url}/ewes/", "scope": "openid offline_access"}]
    polls = [r for r in dnastack_fake.token_requests if r["grant_type"].endswith("device_code")]
    assert len(polls) == 3 and set(polls[0]) == {"grant_type", "device_code", "client_id"}


async def test_device_code__slow_down_adds_five_seconds(dnastack_fake, dnastack_url, client):
    dnastack_fake.slow_down_polls = 2
    browser = Browser(dnastack_fake, approve_after=1)
    await _device_login(dnastack_url, client, browser)
    assert browser.sleeps == [1, 6, 11]


async def test_device_code__gives_up_at_expiry(dnastack_fake, dnastack_url, client):
    dnastack_fake.device_expires_in = 3
    browser = Browser(dnastack_fake, approve_after=None)
    with pytest.raises(AuthenticationError, match="expired before it was approved"):
        await _device_login(dnastack_url, client, browser)
    assert browser.sleeps == [1, 1, 1]


async def test_device_code__server_side_expiry_and_denial(dnastack_fake, dnastack_url, client):
    browser = Browser(dnastack_fake, approve_after=None)
    browser.sleep = lambda s: _and_then(dnastack_fake.expire_devices)
    with pytest.raises(AuthenticationError, match="expired"):
        await _device_login(dnastack_url, client, browser)
    browser.sleep = lambda s: _and_then(dnastack_fake.deny_device)
    with pytest.raises(AuthenticationError, match="login was refused"):
        await _device_login(dnastack_url, client, browser)


async def _and_then(action) -> None:
    action()


async def test_device_code__unknown_client_is_refused(dnastack_url, client):
    with pytest.raises(AuthenticationError, match="refused the client 'nobody'"):
        await device_code_login(client, f"{dnastack_url}/oauth/device/code", f"{dnastack_url}/oauth/token",
                                "nobody", "r", on_prompt=lambda u, c: None)


def test_registry_entries__json_shapes():
    assert registry_entries([{"id": 1}, "x"]) == [{"id": 1}]
    assert registry_entries({"services": []}) == []
    assert registry_entries({"msg": "x"}) is None


def test_adapter__found_by_protocol_name_with_honest_flags():
    from fedimpute.services import adapter_class

    cls = adapter_class("dnastack")
    assert cls is DnastackService
    assert (cls.can_cancel, cls.lists_jobs, cls.verifies_token, cls.needs_token, cls.logs_in) == (True,) * 5
    assert cls.can_restart is False
