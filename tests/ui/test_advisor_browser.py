"""In the browser: the Advisor page ranks the panels for an uploaded cohort, and "use this panel" opens the
Submit form filled in with the winner (a served dashboard with sign-in, as the lab would run it).

The catalogue has a WES service ``lab`` whose panels file names the two-population simulation's panels
and their sites files, so the advice needs no network and no engine.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from fedimpute.catalogue import make_service
from fedimpute.store import Store
from tests.advise.conftest import SPEC, two_pops  # noqa: F401 (fixture)
from tests.ui.serving import login, screenshot

pytestmark = pytest.mark.browser

USERS = {"alice": "pw-alice-0123"}


@pytest.fixture(scope="module")
def advisor_dashboard(tmp_path_factory, serve_app, two_pops):  # noqa: F811
    home = tmp_path_factory.mktemp("advisor-home")
    panels = home.parent / "lab-panels.json"
    panels.write_text(json.dumps([
        {"panel_id": f"pop-{p}", "name": f"Population {p.upper()}", "build": "hg38", "populations": ["all"],
         "samples": SPEC.n_panel, "sites": str(two_pops / f"panel-{p}.vcf.gz")} for p in ("a", "b")]))
    store = Store(home)
    for name in ("michigan", "topmed", "h3africa"):
        store.remove_service(name)
    store.add_service(make_service("lab", "wes", "http://127.0.0.1:9", settings=[f"panels={panels}"]))
    return serve_app(home, users=USERS)


def test_advisor_page__upload_run_rank_and_use_the_winner(page: Page, advisor_dashboard, two_pops):  # noqa: F811
    login(page, advisor_dashboard.url, "alice", USERS["alice"])
    page.get_by_role("button", name="Advisor").click()
    expect(page.get_by_text("Panel advisor")).to_be_visible()
    expect(page.locator(".choices__item--selectable", has_text="lab/pop-b")).to_be_visible()
    page.locator("input[type=file]").set_input_files(str(two_pops / "array.vcf.gz"))
    expect(page.get_by_text("cohort files: array.vcf.gz")).to_be_visible()
    page.get_by_role("button", name="Run the advisor").click()
    expect(page.get_by_text("best: lab/pop-a (expected R² 0.8")).to_be_visible()
    table = page.locator(".tabulator-row")
    expect(table).to_have_count(2)
    expect(table.first).to_contain_text("pop-a")
    expect(table.nth(1)).to_contain_text("pop-b")
    expect(page.get_by_text("--service lab --panel pop-a --build hg38")).to_be_visible()
    expect(page.locator(".bk-Canvas, canvas").first).to_be_visible()  # the plots are drawn
    screenshot(page, "advisor-ranking")
    page.get_by_role("button", name="Use this panel").click()
    expect(page.get_by_text("Submit a job")).to_be_visible()
    expect(page.get_by_role("combobox", name="Reference panel")).to_have_value("Population A (pop-a)")
    expect(page.get_by_text("files: array.vcf.gz")).to_be_visible()
    expect(page.locator(".choices__item--selectable", has_text="lab")).to_be_visible()
    expect(page.get_by_role("combobox", name="Build")).to_have_value("hg38")
    expect(page.get_by_text("ready to submit")).to_be_visible()  # the pre-flight check ran for lab
    screenshot(page, "advisor-prefilled-submit")
