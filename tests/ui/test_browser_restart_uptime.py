"""In the browser: the Restart button of a dead job, the results' deletion date, and uptime strips.

One served dashboard over a store with alice's jobs on a Cloudgene service (nothing listens at its
URL: no test here sends a request to it) and recorded health checks of the local service.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from fedimpute.catalogue import make_service
from fedimpute.models import HealthRecord, HealthStatus, Job, JobStatus, utcnow
from fedimpute.store import Store
from tests.ui.data import add_local_service
from tests.ui.serving import login, screenshot

pytestmark = pytest.mark.browser

USERS = {"alice": "pw-alice-0123"}


@pytest.fixture(scope="module")
def world(tmp_path_factory, serve_app):
    home = tmp_path_factory.mktemp("restart-home")
    store = Store(home)
    add_local_service(store)
    store.add_service(make_service("cg", "cloudgene", "http://127.0.0.1:9"))
    dead = store.add_job(Job(service="cg", owner="alice", name="dead one", remote_id="job-1",
                             status=JobStatus.FAILED, remote_state="-1"))
    done = store.add_job(Job(service="cg", owner="alice", name="done one", remote_id="job-2",
                             status=JobStatus.COMPLETED, remote_state="4",
                             expires_at=utcnow() + timedelta(days=3, hours=2)))
    now = utcnow()
    for hours, status in ((30, HealthStatus.UP), (20, HealthStatus.UP), (2, HealthStatus.DOWN)):
        store.record_health(HealthRecord(service="local", status=status, checked_at=now - timedelta(hours=hours)))
    return serve_app(home, users=USERS), dead, done


def test_job_detail__restart_button_for_the_dead_job_only(page: Page, world):
    served, dead, done = world
    login(page, served.url, "alice", USERS["alice"])
    page.get_by_text(dead.job_id).click()
    expect(page.get_by_role("button", name="Restart job")).to_be_visible()
    screenshot(page, "job-detail-dead")
    page.get_by_text(done.job_id).click()
    expect(page.get_by_text("the service keeps the results until")).to_be_visible()
    expect(page.get_by_role("button", name="Restart job")).to_have_count(0)
    expect(page.get_by_text(f"{done.expires_at:%Y-%m-%d %H:%M:%S}").first).to_be_visible()  # the table column


def test_services__uptime_strip_per_service(page: Page, world):
    served, _, _ = world
    login(page, served.url, "alice", USERS["alice"])
    page.get_by_role("button", name="Services").click()
    expect(page.get_by_text("66.7% up")).to_be_visible()
    expect(page.locator(".fi-slot.fi-up")).to_have_count(2)
    expect(page.locator(".fi-slot.fi-down")).to_have_count(1)
    expect(page.get_by_text("never checked").first).to_be_visible()
    screenshot(page, "services-uptime")
