"""The panel browser without a browser: search, detail with the user's jobs and their quality, comparison."""

from __future__ import annotations

import panel as pn
from bokeh.document import Document

from fedimpute.ui.components.panel_browser import PanelBrowser
from fedimpute.ui.state import HubState
from tests.ui.panel_data import add_quality_job, add_second_service


def _browser(store, user="alice", **params) -> PanelBrowser:
    browser = PanelBrowser(state=HubState.from_home(store.home, user=user), **params)
    pn.panel(browser).get_root(Document())
    return browser


def test_search__part_of_an_id_name_or_service_any_case(store):
    add_second_service(store)
    browser = _browser(store)
    browser.search = "EUR"
    assert list(browser.rows()["panel_id"]) == ["sim-eur"] and list(browser._table.value["panel_id"]) == ["sim-eur"]
    browser.search = "sim-ci"
    assert sorted(browser.rows()["service"]) == ["cg", "local"]
    browser.param.update(search="hapmap", service="local")
    assert browser.rows().empty


def test_detail__every_service_and_the_users_jobs_with_their_quality(store, owners, tmp_path):
    add_second_service(store)
    quality_job = add_quality_job(store, tmp_path / "results")
    browser = _browser(store, selected="sim-ci")
    browser.selected = ""
    browser.selected = "sim-ci"
    html = browser._detail.object
    assert "offered by cg, local" in html and "Simulated CI panel v2" in html and "400" in html
    jobs = {j.job_id: j for j in browser.jobs}
    assert set(jobs) == {*owners.alice, quality_job}  # alice's sim-ci jobs, none of bob's
    assert jobs[quality_job].r2_common == 0.8125 and "0.812" in html
    assert jobs[owners.alice[0]].r2_common is None and jobs[owners.alice[0]].note == "results not downloaded"
    assert jobs[owners.alice[1]].note == "job running"
    assert "&lt;img src=x" in html  # alice's job name with markup, escaped


def test_compare__lists_the_differences(store):
    add_second_service(store)
    browser = _browser(store, compared=["sim-ci", "sim-eur"])
    frame = browser.comparison().set_index("attribute")
    assert list(frame.columns) == ["sim-ci", "sim-eur", "differs"]
    assert frame.loc["build", "differs"] == "yes" and frame.loc["build", "sim-eur"] == "hg19"
    assert frame.loc["populations", "sim-ci"] == "afr, all" and frame.loc["populations", "differs"] == "yes"
    assert frame.loc["populations only in sim-eur", "sim-eur"] == "eur"
    assert frame.loc["samples", "sim-ci"] == "cg: 400; local: 200"  # two services, two sizes
    html = browser._comparison.object
    assert "6 difference(s): name, build, populations, samples, variants, services</p>" in html
    assert "&lt;b&gt;panel&lt;/b&gt;" in html and "<b>panel</b>" not in html  # a service's markup stays text
    browser.compared = ["sim-ci"]
    assert "choose two or more panels" in browser._comparison.object
