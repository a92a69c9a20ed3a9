"""In the browser: signed-in users see only their own jobs, and service text never runs as code.

One served dashboard (basic auth: alice, bob, and carol the admin) over a store holding jobs of
alice and bob; alice's first job carries a name and step messages with ``<script>`` and
``<img onerror>``.  Everything the server sends to a page (the page and every websocket frame)
is captured and searched for the other user's job ids.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from fedimpute.models import JobStatus
from fedimpute.store import Store
from tests.ui.data import XSS_IMG, XSS_SCRIPT, populate
from tests.ui.serving import login, screenshot

pytestmark = pytest.mark.browser

USERS = {"alice": "pw-alice-0123", "bob": "pw-bob-012345", "carol": "pw-carol-0123"}


@pytest.fixture(scope="module")
def world(tmp_path_factory, serve_app):
    home = tmp_path_factory.mktemp("isolation-home")
    owners = populate(Store(home))
    served = serve_app(home, users=USERS, FEDIMPUTE_ADMINS="carol")
    return served, owners


def capture(page: Page) -> list[str]:
    """Collect every websocket frame the page receives, as text."""
    frames: list[str] = []

    def on_socket(ws) -> None:
        ws.on("framereceived", lambda payload: frames.append(
            payload if isinstance(payload, str) else payload.decode("utf-8", "replace")))

    page.on("websocket", on_socket)
    return frames


def open_as(page: Page, base: str, user: str) -> tuple[list[str], str]:
    frames = capture(page)
    login(page, base, user, USERS[user])
    html = page.goto(f"{base}/dashboard").text()
    expect(page.locator(".tabulator-row").first).to_be_visible()
    time.sleep(1.5)  # a few refresh ticks
    return frames, html


def test_isolation__each_user_sees_only_own_jobs(page: Page, world):
    """We can sign in as alice and no byte of bob's jobs reaches the browser (and the other way round)."""
    served, owners = world
    frames, html = open_as(page, served.url, "alice")
    expect(page.get_by_text("signed in as alice")).to_be_visible()
    expect(page.get_by_text(f"of {len(owners.alice)} (page 1 of 1)")).to_be_visible()
    screenshot(page, "jobs-alice")
    page.get_by_role("button", name="Statistics").click()
    expect(page.get_by_text(f"{len(owners.alice)} job(s), your jobs")).to_be_visible()
    sent = html + "".join(frames)
    assert all(job_id in sent for job_id in owners.alice)
    assert not any(job_id in sent for job_id in owners.bob) and "bob-job" not in sent


def test_isolation__bob_sees_only_his(page: Page, world):
    served, owners = world
    frames, html = open_as(page, served.url, "bob")
    expect(page.get_by_text(f"of {len(owners.bob)} (page 1 of 1)")).to_be_visible()
    sent = html + "".join(frames)
    assert not any(job_id in sent for job_id in owners.alice) and "alice-job" not in sent


def test_isolation__admin_sees_everyone(page: Page, world):
    served, owners = world
    open_as(page, served.url, "carol")
    expect(page.get_by_text("admin: sees every user's jobs")).to_be_visible()
    expect(page.get_by_text(f"of {len(owners.alice) + len(owners.bob)} (page 1 of 1)")).to_be_visible()
    screenshot(page, "jobs-admin")


def test_isolation__wrong_password_is_refused(page: Page, world):
    served, _ = world
    page.goto(f"{served.url}/dashboard")
    page.locator("input[name=username]").fill("alice")
    page.locator("input[name=password]").fill("not-her-password")
    page.locator("input[name=password]").press("Enter")
    expect(page.get_by_text("Wrong user name or password.")).to_be_visible()
    screenshot(page, "login-refused")


def test_service_text__shown_as_text_never_executed(page: Page, world):
    """A job name and step messages holding <script> and <img onerror> show as text; nothing runs."""
    served, owners = world
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_as(page, served.url, "alice")
    page.get_by_text(owners.alice[0]).click()
    expect(page.get_by_text(XSS_SCRIPT).first).to_be_visible()
    expect(page.get_by_text(XSS_IMG).first).to_be_visible()
    time.sleep(1)
    assert dialogs == []
    assert page.locator("img[src='x']").count() == 0 and page.evaluate("document.scripts.length") < 50
    screenshot(page, "job-detail-escaped")


def test_cancel__owner_cancels_her_pending_job(page: Page, world):
    served, owners = world
    job_id = owners.alice[2]  # pending, never sent: cancelled locally
    open_as(page, served.url, "alice")
    page.get_by_text(job_id).click()
    page.get_by_role("button", name="Cancel job").click()
    expect(page.locator(".fi-status.fi-cancelled")).to_be_visible()
    assert Store(served.home).get_job(job_id).status is JobStatus.CANCELLED
