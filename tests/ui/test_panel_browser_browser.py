"""In chromium: search the panels, open one in detail with your jobs' quality, compare two."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from fedimpute.store import Store
from tests.ui.panel_data import add_quality_job, add_second_service
from tests.ui.serving import login, screenshot

pytestmark = pytest.mark.browser

USERS = {"alice": "pw-alice-0123"}


def test_panels__search_detail_and_comparison(page: Page, serve_app, home, owners, tmp_path):
    store = Store(home)
    add_second_service(store)
    add_quality_job(store, tmp_path / "results")
    add_quality_job(store, tmp_path / "bob-results", owner="bob")
    served = serve_app(home, users=USERS)
    login(page, served.url, "alice", USERS["alice"])
    page.get_by_role("button", name="Panels").click()
    expect(page.get_by_text("Simulated CI panel v2")).to_be_visible()

    search = page.get_by_role("textbox", name="Search name or id")
    search.fill("EUR")
    search.press("Enter")
    expect(page.get_by_text("Simulated EUR <b>panel</b>")).to_be_visible()  # the service's markup as text
    expect(page.get_by_text("Simulated CI panel v2")).to_have_count(0)
    search.fill("")
    search.press("Enter")
    expect(page.get_by_text("Simulated CI panel v2")).to_be_visible()

    page.get_by_role("combobox", name="Panel", exact=True).select_option("sim-ci")
    expect(page.get_by_text("offered by cg, local")).to_be_visible()
    quality_row = page.locator("tr", has=page.get_by_text("quality job"))
    expect(quality_row).to_have_count(1)  # alice's own; bob's job with this panel is not listed
    expect(quality_row).to_contain_text("0.812")
    expect(page.locator("tr", has=page.get_by_text(owners.alice[0]))).to_contain_text("results not downloaded")
    screenshot(page, "panel-detail")

    page.get_by_role("listbox", name="Compare panels (choose two or more)").select_option(["sim-ci", "sim-eur"])
    expect(page.get_by_text("6 difference(s): name, build, populations, samples, variants, services")).to_be_visible()
    expect(page.locator("tr.fi-differs", has=page.get_by_text("populations only in sim-eur"))).to_contain_text("eur")
    screenshot(page, "panel-compare")
