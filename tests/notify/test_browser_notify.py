"""In the browser: alice adds a webhook channel on the Settings page, sends a test message to a real
receiver on loopback, and never sees the URL's token again; bob does not see her channel.

One served dashboard with sign-in; every websocket frame the server sends to the page is searched
for the planted token and password.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.notify.conftest import HOOK_PASSWORD, HOOK_TOKEN
from tests.ui.conftest import (  # the dashboard tests' served app and system chromium
    browser,
    browser_context_args,
    browser_type,
    browser_type_launch_args,
    context,
    playwright,
    serve_app,
)
from tests.ui.serving import login, screenshot

pytestmark = pytest.mark.browser

USERS = {"alice": "pw-alice-0123", "bob": "pw-bob-012345"}
PLACEHOLDER = "mailtos://USER:PASSWORD@smtp.example.org?to=you@example.org"


@pytest.fixture(scope="module")
def world(tmp_path_factory, serve_app):
    return serve_app(tmp_path_factory.mktemp("notify-home"), users=USERS)


def received(page: Page) -> list[str]:
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))))
    return frames


def test_settings__alice_adds_and_tests_a_webhook_bob_never_sees_it(page: Page, world, webhook):
    frames = received(page)
    login(page, world.url, "alice", USERS["alice"])
    page.get_by_role("button", name="Settings", exact=True).click()
    url = page.get_by_placeholder(PLACEHOLDER)
    url.fill(webhook.url())
    page.get_by_role("button", name="Add channel").click()
    expect(page.get_by_text(re.compile(r"added ch-[0-9a-f]{8} \(json 127\.0\.0\.1:\d+\)"))).to_be_visible()
    expect(url).to_have_value("")
    page.get_by_role("button", name="Send a test message").click()
    expect(page.get_by_text(re.compile(r"ch-[0-9a-f]{8} \(json 127\.0\.0\.1:\d+\): ok"))).to_be_visible()
    assert webhook.delivered()[0]["title"] == "fedimpute: test notification"
    screenshot(page, "settings-notifications")
    for secret in (HOOK_TOKEN, HOOK_PASSWORD):
        assert secret not in page.content() and not any(secret in f for f in frames)
        assert secret not in world.log_text()

    page.goto(f"{world.url}/logout")
    login(page, world.url, "bob", USERS["bob"])
    page.get_by_role("button", name="Settings", exact=True).click()
    expect(page.get_by_text("No channels yet: add one below.")).to_be_visible()  # read, and none is hers
    expect(page.get_by_text(re.compile(r"ch-[0-9a-f]{8}"))).to_have_count(0)
