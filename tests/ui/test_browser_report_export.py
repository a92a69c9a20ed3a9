"""Export report from the served dashboard: it downloads, opens offline, holds only the user's jobs,
and a hostile job name is text (its script never runs)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from fedimpute.models import Job, JobStatus
from fedimpute.store import Store
from tests.ui.data import add_local_service
from tests.ui.serving import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
USERS = {"alice": "pw-alice-0123", "bob": "pw-bob-012345"}
EVIL_NAME = "<img src=x onerror=window.__x=1>"


@pytest.fixture(scope="module")
def world(tmp_path_factory, serve_app):
    home = tmp_path_factory.mktemp("report-export") / "home"
    store = Store(home)
    add_local_service(store)
    jobs = {}
    for owner, name in (("alice", EVIL_NAME), ("alice", "alice plain"), ("bob", "bob secret study")):
        job = store.add_job(Job(service="local", owner=owner, name=name, panel="sim-ci"))
        store.update_job(job.job_id, status=JobStatus.COMPLETED, detail="test")
        jobs[name] = job.job_id
    return serve_app(home, users=USERS), jobs


def test_export_report__offline_own_jobs_and_escaped(page: Page, world, tmp_path):
    served, jobs = world
    login(page, served.url, "alice", USERS["alice"])
    page.get_by_role("button", name="Statistics").click()
    page.get_by_role("button", name="Export a report of my jobs").click()
    save = page.get_by_role("button", name="Save the report")
    expect(save).to_be_visible(timeout=240_000)  # a notebook run on a busy 2-core machine
    with page.expect_download() as info:
        save.click()
    report = tmp_path / "report.html"
    info.value.save_as(report)
    screenshot(page, "report-exported")
    html = report.read_text()
    assert jobs[EVIL_NAME] in html and jobs["alice plain"] in html
    assert jobs["bob secret study"] not in html and "bob secret study" not in html
    assert EVIL_NAME not in html and "&lt;img src=x onerror=window.__x=1&gt;" in html
    offline = page.context.new_page()
    offline.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:", "about:"))
                  else r.abort())
    offline.goto(report.as_uri())
    expect(offline.get_by_text(EVIL_NAME).first).to_be_visible()
    assert offline.evaluate("() => window.__x") is None
    assert offline.locator("img[src='x']").count() == 0
