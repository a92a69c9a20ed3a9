"""In the browser, end to end with the local engine: panels, pre-flight, submit, completed, quality.

One module-scoped FEDIMPUTE_HOME with the committed CI panel, the local engine and a served
dashboard whose monitor sweeps every second (and downloads results of completed jobs).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from fedimpute.engine.tools import missing_tools
from fedimpute.models import JobStatus
from fedimpute.store import Store
from tests.ui.serving import login, screenshot

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "engine"
USERS = {"alice": "pw-alice-0123"}
JOB_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def engine_dashboard(tmp_path_factory, serve_app):
    missing = missing_tools("bcftools", "tabix", "minimac4", "beagle", "eagle")
    if missing:
        pytest.fail(f"missing tools {missing}: run scripts/setup.sh (Debian) or use environment.yml")
    from fedimpute.engine.panels import add_panel
    from fedimpute.engine.server import engine_start, engine_stop

    home = tmp_path_factory.mktemp("engine-home")
    add_panel(FIXTURE / "ref.vcf.gz", panel_id="sim-ci", name="Simulated CI panel", build="hg38",
              populations=["all"], genetic_map=FIXTURE / "map.plink", fasta=FIXTURE / "ref.fa.gz", home=home)
    engine_start(home=home)
    try:
        yield serve_app(home, users=USERS, FEDIMPUTE_MONITOR_PERIOD="1")
    finally:
        engine_stop(home)


def test_dashboard__browse_panels(page: Page, engine_dashboard):
    """We can discover the local engine's panels and filter them by build and population."""
    login(page, engine_dashboard.url, "alice", USERS["alice"])
    expect(page.get_by_text("no jobs match")).to_be_visible()
    page.get_by_role("button", name="Panels").click()
    page.get_by_role("combobox", name="Service").select_option("local")
    page.get_by_role("button", name="Discover panels").click()
    expect(page.get_by_text("Simulated CI panel")).to_be_visible()
    page.get_by_role("combobox", name="Build").select_option("hg19")
    expect(page.get_by_text("Simulated CI panel")).to_have_count(0)
    page.get_by_role("combobox", name="Build").select_option("hg38")
    page.get_by_role("combobox", name="Population").select_option("all")
    expect(page.get_by_text("Simulated CI panel")).to_be_visible()
    screenshot(page, "panels")


def choose_service(page: Page, name: str) -> None:
    """Pick ``name`` in the services MultiChoice (a Choices.js list)."""
    page.locator(".choices__input--cloned").first.click()
    page.locator(".choices__item--choice", has_text=name).first.click()
    page.keyboard.press("Escape")


def test_dashboard__preflight_submit_and_quality(page: Page, engine_dashboard):
    """We can check a file, submit it to the local engine, watch it complete and see its quality."""
    login(page, engine_dashboard.url, "alice", USERS["alice"])
    page.get_by_role("button", name="Submit").click()
    submit = page.get_by_role("button", name="Submit", exact=True).last
    expect(submit).to_be_disabled()
    choose_service(page, "local")
    expect(page.get_by_role("combobox", name="Reference panel")).to_have_value("Simulated CI panel (sim-ci)")
    page.locator("input[type=file]").set_input_files(str(FIXTURE / "array.vcf.gz"))
    expect(page.get_by_text("pre-flight passed")).to_be_visible()
    expect(page.get_by_text("ready to submit")).to_be_visible()
    screenshot(page, "submit-preflight")
    expect(submit).to_be_enabled()
    submit.click()
    expect(page.locator(".fi-status.fi-completed")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    page.get_by_text("Quality", exact=True).click()
    expect(page.get_by_text("3,714 variants")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(page.locator("canvas").first).to_be_visible()
    expect(page.get_by_text("[0.05, 0.5]")).to_be_visible()
    screenshot(page, "job-quality")
    page.get_by_text("Timeline", exact=True).click()
    expect(page.get_by_text("remote state COMPLETE")).to_be_visible()
    screenshot(page, "job-timeline")
    [job] = Store(engine_dashboard.home).list_jobs()
    assert job.owner == "alice" and job.status is JobStatus.COMPLETED


def test_dashboard__services_and_statistics(page: Page, engine_dashboard):
    login(page, engine_dashboard.url, "alice", USERS["alice"])
    page.get_by_role("button", name="Services").click()
    expect(page.get_by_text("this machine")).to_be_visible()
    screenshot(page, "services")
    page.get_by_role("button", name="Statistics").click()
    expect(page.get_by_text("1 job(s), your jobs")).to_be_visible()
    expect(page.get_by_text("Per service (medians)")).to_be_visible()
    expect(page.locator("canvas").first).to_be_visible()
    screenshot(page, "statistics")
