"""/results/{job_id}/{file_name} and /results/{job_id}.zip on a real `fedimpute serve`."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from fedimpute.models import Job, JobStatus, ResultFile, utcnow
from fedimpute.paths import results_dir
from fedimpute.store import Store
from tests.conftest import ROOT
from tests.ui.data import add_local_service
from tests.ui.serving import (
    add_accounts,
    dashboard_env,
    free_port,
    login,
    screenshot,
    signed_in,
    stop_process_group,
    wait_until_up,
)

USERS = {"alice": "pw-alice-0123", "bob": "pw-bob-012345"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    work = tmp_path_factory.mktemp("results")
    home = work / "home"
    add_accounts(home, USERS)
    store = Store(home)
    add_local_service(store)
    job = Job(service="local", owner="alice", name="alice's job", status=JobStatus.COMPLETED)
    store.add_job(job)
    folder = results_dir(home, job.job_id)
    folder.mkdir(parents=True)
    contents = {"chr20.info.gz": bytes(range(256)) * 40, "qc report.html": b"<html>qc</html>"}
    for name, data in contents.items():
        (folder / name).write_bytes(data)
        store.upsert_result_file(ResultFile(job_id=job.job_id, name=name, size=len(data),
                                            sha256=hashlib.sha256(data).hexdigest(), path=str(folder / name),
                                            downloaded_at=utcnow()))
    (folder / "not-recorded.txt").write_text("a file on disk the store does not list")
    port = free_port()
    log = work / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", f"from fedimpute.cli.serve import serve; serve(port={port})"],
                                cwd=ROOT, env=dashboard_env(home), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(proc, base, log)
    yield base, job.job_id, contents
    stop_process_group(proc)


@pytest.mark.browser
def test_browser__alice_downloads_through_the_links(page: Page, served):
    """The job's Results tab links its files; the downloaded bytes are the stored ones."""
    base, job_id, contents = served
    login(page, base, "alice", USERS["alice"])
    page.get_by_text(job_id).click()
    page.get_by_text("Results", exact=True).click()  # the detail's tab
    with page.expect_download() as info:
        page.get_by_role("link", name="chr20.info.gz").click()
    downloaded = Path(info.value.path()).read_bytes()
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(contents["chr20.info.gz"]).hexdigest()
    with page.expect_download() as info:
        page.get_by_role("link", name="all files as one zip").click()
    with zipfile.ZipFile(info.value.path()) as archive:
        assert sorted(archive.namelist()) == sorted(contents)
    screenshot(page, "results-links")


def client(base: str, user: str):
    return signed_in(base, user, USERS[user])


def test_the_owner_downloads_a_file(served):
    base, job_id, contents = served
    with client(base, "alice") as alice:
        answer = alice.get(f"/results/{job_id}/chr20.info.gz")
    assert answer.status_code == 200 and answer.content == contents["chr20.info.gz"]
    assert answer.headers["content-length"] == str(len(contents["chr20.info.gz"]))
    assert answer.headers["content-disposition"].startswith("attachment")
    assert hashlib.sha256(answer.content).hexdigest() == hashlib.sha256(contents["chr20.info.gz"]).hexdigest()


def test_a_one_byte_range(served):
    base, job_id, contents = served
    with client(base, "alice") as alice:
        answer = alice.get(f"/results/{job_id}/chr20.info.gz", headers={"Range": "bytes=300-300"})
    assert answer.status_code == 206 and answer.content == contents["chr20.info.gz"][300:301]
    assert answer.headers["content-range"] == f"bytes 300-300/{len(contents['chr20.info.gz'])}"


def test_the_zip_holds_every_file(served):
    base, job_id, contents = served
    with client(base, "alice") as alice:
        answer = alice.get(f"/results/{job_id}.zip")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert archive.testzip() is None
        assert {name: archive.read(name) for name in archive.namelist()} == contents


def test_anyone_else_gets_the_404_of_a_missing_job(served):
    base, job_id, _ = served
    with client(base, "bob") as bob:
        theirs = [bob.get(f"/results/{job_id}/chr20.info.gz"), bob.get(f"/results/{job_id}.zip")]
        missing = [bob.get("/results/fi-no-such-job/chr20.info.gz"), bob.get("/results/fi-no-such-job.zip")]
    assert [r.status_code for r in theirs + missing] == [404] * 4
    assert theirs[0].text == missing[0].text and theirs[1].text == missing[1].text


def test_only_recorded_names_and_never_a_path(served):
    base, job_id, _ = served
    with client(base, "alice") as alice:
        for path in (f"/results/{job_id}/not-recorded.txt", f"/results/{job_id}/..%2F..%2Fusers.json",
                     f"/results/{job_id}/%2Fetc%2Fpasswd"):
            assert alice.get(path).status_code == 404, path


def test_without_a_session_to_login(served):
    base, job_id, _ = served
    for path in (f"/results/{job_id}/chr20.info.gz", f"/results/{job_id}.zip"):
        answer = httpx.get(base + path, follow_redirects=False)
        assert answer.status_code == 302 and answer.headers["location"].startswith("/login")
