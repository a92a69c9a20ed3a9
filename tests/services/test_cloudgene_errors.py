"""Every error row of the Cloudgene reference (section 6.1) becomes a message that says what to do.

respx plays the server's exact answers; the test asserts the text a user sees.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx
from pydantic import SecretStr

from fedimpute.cli import main
from fedimpute.exceptions import (
    AuthenticationError,
    DownloadLimitError,
    IntegrityError,
    MaintenanceError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RemoteNotFoundError,
    RemoteRejectedError,
    ServiceUnavailableError,
)
from fedimpute.models import Protocol, ServiceConfig
from fedimpute.services.base import RemoteFile
from fedimpute.services.cloudgene import CloudgeneService

URL = "https://mis.example.org"
CFG = ServiceConfig(name="mis", protocol=Protocol.CLOUDGENE, url=URL, app="imputationserver2")


def _env(message: str) -> dict:
    return {"message": message, "success": False}


@pytest.fixture
async def adapter():
    async with httpx.AsyncClient() as client:
        yield CloudgeneService(CFG, client, SecretStr("tok-abcdef"))


ROWS = [  # (situation, route, status, body, exception, user-facing message)
    ("no, invalid or expired token", "/api/v2/jobs/job-1", 401, {"error": "Unauthorized"}, AuthenticationError,
     "mis: the token was refused (missing, invalid or expired); run `fedimpute login mis` with a new token "
     "from the service's profile page"),
    ("revoked or replaced token", "/api/v2/jobs/job-1", 403, {"error": "Forbidden"}, PermissionDeniedError,
     "mis: access denied (HTTP 403 Forbidden); the token may have been revoked or replaced (run `fedimpute "
     "login mis`), or the job belongs to another account"),
    ("someone else's job", "/api/v2/jobs/job-1", 403, _env("Access denied."), PermissionDeniedError,
     "mis: access denied (Access denied.); the token may have been revoked or replaced (run `fedimpute login "
     "mis`), or the job belongs to another account"),
    ("unknown job", "/api/v2/jobs/job-1", 404, _env("Job job-1 not found."), RemoteNotFoundError,
     "mis: job job-1 not found: Job job-1 not found."),
    ("maintenance", "/api/v2/jobs/job-1", 503, _env("This functionality is currently under maintenance."),
     MaintenanceError, "mis: the service is in maintenance (This functionality is currently under maintenance.); "
     "try again later"),
    ("server error", "/api/v2/jobs/job-1", 500, "<html><body>Internal error</body></html>", ServiceUnavailableError,
     "mis: server error during job job-1: HTTP 500 Internal Server Error; try again later"),
]


@pytest.mark.parametrize("situation, route, status, body, exc, message", ROWS, ids=[r[0] for r in ROWS])
async def test_error_rows__job_routes(adapter, situation, route, status, body, exc, message):
    with respx.mock(base_url=URL) as mock:
        kwargs = {"json": body} if isinstance(body, dict) else {"text": body}
        mock.get(route).mock(return_value=httpx.Response(status, **kwargs))
        with pytest.raises(exc) as info:
            await adapter.get_job("job-1")
    assert str(info.value) == message


@pytest.fixture
def vcf(tmp_path) -> Path:
    path = tmp_path / "chr20.vcf.gz"
    path.write_bytes(b"\x1f\x8b fake but the server is mocked")
    return path


SUBMIT_ROWS = [
    ("unknown app", 404, _env("Application 'imputationserver2' not found."), RemoteNotFoundError,
     "mis: submission not found: Application 'imputationserver2' not found."),
    ("unknown form field", 400, _env("Parameter 'format' not found."), RemoteRejectedError,
     "mis: submission rejected: Parameter 'format' not found."),
    ("too many concurrent jobs", 400, _env("Only 3 jobs per user can be executed simultaneously."),
     QuotaExceededError, "mis: Only 3 jobs per user can be executed simultaneously. Wait for one of your jobs "
     "to finish, or cancel one."),
    ("upload too large", 413, {"message": "Request Entity Too Large"}, PayloadTooLargeError,
     "mis: the upload is larger than the service accepts; split the input by chromosome or into fewer samples "
     "per job"),
]


@pytest.mark.parametrize("situation, status, body, exc, message", SUBMIT_ROWS, ids=[r[0] for r in SUBMIT_ROWS])
async def test_error_rows__submit(adapter, vcf, situation, status, body, exc, message):
    from fedimpute.services.base import SubmitOptions
    from tests.services.test_cloudgene_schema import APP

    with respx.mock(base_url=URL) as mock:
        mock.get("/api/v2/server/apps/imputationserver2").mock(return_value=httpx.Response(200, json=APP))
        mock.post("/api/v2/jobs/submit/imputationserver2").mock(return_value=httpx.Response(status, json=body))
        with pytest.raises(exc) as info:
            await adapter.submit([vcf], SubmitOptions(panel="hapmap-2"), job_name="j")
    assert str(info.value) == message
    if exc is QuotaExceededError:
        assert info.value.limit == 3


async def test_error_rows__restart_of_a_job_that_is_not_dead(adapter):
    with respx.mock(base_url=URL) as mock:
        mock.get("/api/v2/jobs/job-1/restart").mock(
            return_value=httpx.Response(400, json=_env("Job job-1 is not pending.")))
        with pytest.raises(RemoteRejectedError) as info:
            await adapter.restart("job-1")
    assert str(info.value) == "mis: restart of job-1 rejected: Job job-1 is not pending."


@pytest.mark.parametrize("status, body, exc, message", [
    (400, _env("number of max downloads exceeded."), DownloadLimitError,
     "mis: number of max downloads exceeded. The file's download quota is used up; ask the service's operators "
     "to reset it"),
    (404, _env("download not found."), RemoteNotFoundError,
     "mis: download of chr_20.zip not found: download not found."),
], ids=["download limit reached", "unknown download hash"])
async def test_error_rows__downloads(adapter, tmp_path, status, body, exc, message):
    remote = RemoteFile(name="chr_20.zip", url=f"{URL}/share/results/h4sh/chr_20.zip")
    with respx.mock(base_url=URL) as mock:
        mock.get("/share/results/h4sh/chr_20.zip").mock(return_value=httpx.Response(status, json=body))
        with pytest.raises(exc) as info:
            await adapter.download(remote, tmp_path)
    assert str(info.value) == message
    assert not (tmp_path / "chr_20.zip").exists() and not (tmp_path / "chr_20.zip.part").exists()


async def test_download__json_error_body_written_as_data_is_detected(adapter, tmp_path):
    """A 200 whose body is the error envelope (seen from some proxies) never lands as the result file."""
    remote = RemoteFile(name="chr_20.zip", url=f"{URL}/share/results/h4sh/chr_20.zip")
    with respx.mock(base_url=URL) as mock:
        route = mock.get("/share/results/h4sh/chr_20.zip").mock(
            return_value=httpx.Response(200, json=_env("number of max downloads exceeded.")))
        with pytest.raises(IntegrityError, match="sent an error instead of the file: number of max downloads"):
            await adapter.download(remote, tmp_path)
    assert route.call_count == 1 and not list(tmp_path.iterdir())


async def test_download__short_body_detected(adapter, tmp_path):
    remote = RemoteFile(name="a.txt", url=f"{URL}/share/results/h/a.txt")
    with respx.mock(base_url=URL) as mock:
        mock.get("/share/results/h/a.txt").mock(
            return_value=httpx.Response(200, content=b"abc", headers={"Content-Length": "10"}))
        with pytest.raises((IntegrityError, ServiceUnavailableError)):
            await adapter.download(remote, tmp_path)
    assert not (tmp_path / "a.txt").exists()


async def test_connection_refused__says_check_url(adapter):
    with respx.mock(base_url=URL) as mock:
        mock.get("/api/v2/jobs/job-1").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(ServiceUnavailableError, match="could not reach the service.*check the URL"):
            await adapter.get_job("job-1")


async def test_malformed_json__is_transient(adapter):
    with respx.mock(base_url=URL) as mock:
        mock.get("/api/v2/jobs/job-1").mock(return_value=httpx.Response(200, content=b'{"id": "job-1", "st'))
        with pytest.raises(ServiceUnavailableError, match="not valid JSON"):
            await adapter.get_job("job-1")


def test_cli__error_row_is_one_line_with_exit_code(capsys, home, monkeypatch):
    """We can see the §6.1 message from the CLI as one line on stderr, with the contract's exit code."""
    from fedimpute.catalogue import make_service
    from fedimpute.models import Job, JobStatus
    from fedimpute.store import Store

    store = Store(home)
    store.add_service(make_service("mis", "cloudgene", URL))
    job = store.add_job(Job(service="mis", owner="t"))
    store.update_job(job.job_id, status=JobStatus.QUEUED, remote_id="job-1")
    monkeypatch.setenv("FEDIMPUTE_TOKEN_MIS", "tok-abcdef")
    with respx.mock(base_url=URL) as mock:
        mock.get("/api/v2/jobs/job-1/cancel").mock(return_value=httpx.Response(401))
        code = main(["jobs", "cancel", job.job_id])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == ["error: mis: the token was refused (missing, invalid or expired); run "
                                        "`fedimpute login mis` with a new token from the service's profile page"]
