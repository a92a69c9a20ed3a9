"""In the browser: a user's own token in Settings (checked by the Cloudgene simulator, never shown),
and the Admin page, which only admins see.

One served dashboard with sign-in (alice, bob, and carol the admin) whose catalogue holds the
Cloudgene simulator, served from this test process on loopback where the dashboard's process
reaches it.  Every websocket frame the server sends to alice's page is searched for her token.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from fedimpute.catalogue import make_service
from fedimpute.credentials import Credentials
from fedimpute.store import Store
from tests.cloudgene_server.fixtures import ALICE_TOKEN
from tests.cloudgene_server.server import serve_in_thread
from tests.cloudgene_server.state import CloudgeneSim
from tests.ui.serving import login, screenshot

pytestmark = pytest.mark.browser

USERS = {"alice": "pw-alice-0123", "bob": "pw-bob-012345", "carol": "pw-carol-0123"}


@pytest.fixture(scope="module")
def world(tmp_path_factory, serve_app):
    sim = CloudgeneSim(workdir=tmp_path_factory.mktemp("cloudgene-sim"))
    sim.add_user("alice", ALICE_TOKEN)
    home = tmp_path_factory.mktemp("settings-home")
    with serve_in_thread(sim) as handle:
        Store(home).add_service(make_service("sim", "cloudgene", handle.url))
        yield serve_app(home, users=USERS, admins=("carol",))


def received(page: Page) -> list[str]:
    """Every websocket frame the server sends to the page, as text."""
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))))
    return frames


def nav(page: Page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def test_settings__alice_sets_her_token_and_never_sees_it(page: Page, world):
    frames = received(page)
    login(page, world.url, "alice", USERS["alice"])
    nav(page, "Settings").click()
    expect(page.get_by_text("no token: paste yours below").first).to_be_visible()
    page.get_by_role("combobox", name="Service").select_option("sim")
    token = page.get_by_placeholder("paste the token from the service's profile page")
    token.fill(ALICE_TOKEN)
    page.get_by_role("button", name="Save token").click()
    expect(page.get_by_text("your token for sim is set (valid until")).to_be_visible()
    expect(page.get_by_text("your token: set (valid until")).to_be_visible()
    expect(token).to_have_value("")
    screenshot(page, "settings-token")
    assert ALICE_TOKEN not in page.content() and not any(ALICE_TOKEN in f for f in frames)
    assert Credentials(world.home).has_own_token("sim", "alice")
    assert not Credentials(world.home).has_own_token("sim", "bob")
    assert ALICE_TOKEN not in world.log_text()


def test_navigation__bob_has_no_admin_entry(page: Page, world):
    login(page, world.url, "bob", USERS["bob"])
    expect(nav(page, "Settings")).to_be_visible()
    expect(nav(page, "Jobs")).to_be_visible()
    expect(nav(page, "Admin")).to_have_count(0)


def test_admin__carol_adds_and_removes_a_user(page: Page, world):
    login(page, world.url, "carol", USERS["carol"])
    nav(page, "Admin").click()
    users = page.locator(".tabulator").first
    for name in USERS:
        expect(users.get_by_text(name, exact=True)).to_be_visible()
    page.get_by_placeholder("name of the new user").fill("dave")
    page.get_by_placeholder("password of the new user").fill("pw-dave-0123456789")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_text("added user dave")).to_be_visible()
    expect(users.get_by_text("dave", exact=True)).to_be_visible()
    page.get_by_role("combobox", name="User", exact=True).select_option("dave")
    page.get_by_role("button", name="Remove user").click()
    expect(page.get_by_text("removed user dave; their sessions have ended")).to_be_visible()
    expect(users.get_by_text("dave", exact=True)).to_have_count(0)
    screenshot(page, "admin-users")
    page.get_by_role("combobox", name="User", exact=True).select_option("carol")
    page.get_by_role("button", name="Remove user").click()
    expect(page.get_by_text("you cannot remove your own account")).to_be_visible()
    assert "pw-dave-0123456789" not in page.content()
