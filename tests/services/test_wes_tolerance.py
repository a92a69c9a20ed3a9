"""The WES adapter tolerates the known server differences (respx plays each server's shape)."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from fedimpute.exceptions import AuthenticationError, RemoteNotFoundError, ServiceUnavailableError
from fedimpute.models import JobStatus, Protocol, ServiceConfig
from fedimpute.services.wes import WesService
from fedimpute.services.wes_parse import map_state, parse_outputs

URL = "https://wes.example.org/ga4gh/wes/v1"


@pytest.fixture
async def wes():
    cfg = ServiceConfig(name="w", protocol=Protocol.WES, url=URL)
    async with httpx.AsyncClient() as client:
        yield WesService(cfg, client, SecretStr("tok-123456"))


@pytest.mark.parametrize("state, status", [
    ("QUEUED", JobStatus.QUEUED), ("INITIALIZING", JobStatus.QUEUED), ("RUNNING", JobStatus.RUNNING),
    ("PAUSED", JobStatus.RUNNING), ("CANCELING", JobStatus.RUNNING), ("COMPLETE", JobStatus.COMPLETED),
    ("EXECUTOR_ERROR", JobStatus.FAILED), ("SYSTEM_ERROR", JobStatus.FAILED), ("PREEMPTED", JobStatus.FAILED),
    ("CANCELED", JobStatus.CANCELLED), ("UNKNOWN", JobStatus.RUNNING), ("SOMETHING_NEW", JobStatus.RUNNING),
])
def test_map_state__unknown_is_never_terminal(state, status):
    assert map_state(state) is status


async def test_list__workflows_key_and_tokens(wes):
    with respx.mock(base_url=URL) as mock:
        mock.get("/runs", params={"page_token": "p2"}).mock(return_value=httpx.Response(
            200, json={"workflows": [{"run_id": "b", "state": "COMPLETE"}], "next_page_token": ""}))
        mock.get("/runs").mock(return_value=httpx.Response(
            200, json={"workflows": [{"run_id": "a", "state": "RUNNING"}], "next_page_token": "p2"}))
        jobs = await wes.list_jobs()
    assert [(j.remote_id, j.status) for j in jobs] == [("a", JobStatus.RUNNING), ("b", JobStatus.COMPLETED)]


def test_outputs__object_list_and_file_urls():
    files, notes = parse_outputs([{"file_name": "sub/x.txt", "file_url": "http://h/runs/1/outputs/sub/x.txt"}])
    assert [(f.name, f.url) for f in files] == [("sub/x.txt", "http://h/runs/1/outputs/sub/x.txt")]
    files, notes = parse_outputs({"sorted": {"class": "File", "location": "file:///srv/out/sorted.txt",
                                             "basename": "sorted.txt"},
                                  "report": {"class": "File", "location": "https://h/r.html", "size": 12}})
    assert [f.name for f in files] == ["r.html"]
    assert notes == ["output sorted (sorted.txt) is at file:///srv/out/sorted.txt, not downloadable over HTTP"]


async def test_run_log__relative_stderr_url_fetched_on_failure(wes):
    with respx.mock(base_url="https://wes.example.org") as mock:
        mock.get("/ga4gh/wes/v1/runs/r1").mock(return_value=httpx.Response(200, json={
            "run_id": "r1", "state": "EXECUTOR_ERROR",
            "run_log": {"stderr": "../../../../toil/wes/v1/logs/r1/stderr", "exit_code": 1}}))
        log = mock.get("/toil/wes/v1/logs/r1/stderr").mock(
            return_value=httpx.Response(200, text="INFO [job x] start\nERROR boom: no such file\n"))
        job = await wes.get_job("r1")
    assert log.called and job.status is JobStatus.FAILED
    assert job.error == "EXECUTOR_ERROR (exit code 1): ERROR boom: no such file"


async def test_errors__rfc7807_and_msg_bodies(wes):
    with respx.mock(base_url=URL) as mock:
        mock.get("/runs/r1").mock(return_value=httpx.Response(
            500, json={"type": "about:blank", "title": "Internal Server Error", "detail": "boom", "status": 500}))
        with pytest.raises(ServiceUnavailableError, match="boom"):
            await wes.get_job("r1")
        mock.get("/runs/r2").mock(return_value=httpx.Response(
            404, json={"msg": "The requested workflow run wasn't found.", "status_code": 404}))
        with pytest.raises(RemoteNotFoundError, match="wasn't found"):
            await wes.get_job("r2")
        mock.get("/runs/nope").mock(return_value=httpx.Response(
            400, json={"msg": "Invalid run_id format: nope", "status_code": 400}))
        with pytest.raises(RemoteNotFoundError, match="not found: Invalid run_id format"):
            await wes.get_job("nope")
        mock.get("/runs/r3").mock(return_value=httpx.Response(401, json={"msg": "Invalid token", "status_code": 401}))
        with pytest.raises(AuthenticationError, match="fedimpute login w"):
            await wes.get_job("r3")


async def test_tasks__missing_endpoint_is_empty(wes):
    with respx.mock(base_url=URL) as mock:
        mock.get("/runs/r1/tasks").mock(return_value=httpx.Response(
            400, json={"msg": "Sorry, this endpoint is not implemented", "status_code": 400}))
        assert await wes.tasks("r1") == []
