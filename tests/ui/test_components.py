"""The views without a browser: build their models, drive their widgets, read the state."""

from __future__ import annotations

from pathlib import Path

import panel as pn
from bokeh.document import Document

from fedimpute.ui import (
    VIEWS,
    HubApp,
    JobDetail,
    JobsTable,
    PanelBrowser,
    QualityView,
    ServiceCatalogue,
    StatisticsView,
    SubmitForm,
)
from fedimpute.ui.state import HubState, JobDetailState, JobListState, SubmissionState
from tests.ui.data import XSS_IMG

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "engine" / "array.vcf.gz"


def render(viewable) -> None:
    pn.panel(viewable).get_root(Document())


def test_jobs_table__clicking_a_row_selects_the_job(alice_state, owners):
    table = JobsTable(jobs=JobListState(hub_state=alice_state))
    render(table)
    row = table._table.value.index[table._table.value["job_id"] == owners.alice[3]][0]
    table._table.selection = [int(row)]
    assert alice_state.selected_job_id == owners.alice[3]


def test_jobs_table__pager_moves_through_pages(alice_state):
    jobs = JobListState(hub_state=alice_state, page_size=2)
    table = JobsTable(jobs=jobs)
    render(table)
    assert table._previous.disabled and not table._next.disabled
    table._next.clicks += 1
    table._next.clicks += 1
    assert jobs.page == 3 and table._next.disabled and "jobs 5–5 of 5" in table._where.object
    assert len(table._table.value) == 1


def test_jobs_table__owner_column_only_for_admins(alice_state, store):
    assert "owner" not in JobsTable(jobs=JobListState(hub_state=alice_state))._table.value
    admin = HubState.from_home(store.home, user="carol", admin=True)
    assert set(JobsTable(jobs=JobListState(hub_state=admin))._table.value["owner"]) == {"alice", "bob"}


def test_panel_browser__filters_by_population_build_and_service(alice_state):
    browser = PanelBrowser(state=alice_state)
    render(browser)
    assert len(browser.rows()) == 2
    browser.population = "eur"
    assert list(browser.rows()["panel_id"]) == ["sim-eur"] and list(browser._table.value["panel_id"]) == ["sim-eur"]
    browser.param.update(population="all", build="hg38")
    assert list(browser.rows()["panel_id"]) == ["sim-ci"]
    browser.param.update(build="all", service="michigan")
    assert browser.rows().empty


def test_service_catalogue__health_and_token_status(alice_state):
    catalogue = ServiceCatalogue(state=alice_state)
    render(catalogue)
    rows = catalogue._table.value.set_index("name")
    assert rows.loc["local", "health"] == "unknown" and rows.loc["local", "token"] == "not needed"
    assert rows.loc["michigan", "token"].startswith("missing")


async def test_submit_form__submit_enabled_only_when_nothing_blocks(store, alice_state):
    form = SubmitForm(submission=SubmissionState(hub_state=alice_state))
    render(form)
    assert form._submit.disabled and "add input files" in form._ready.object
    form.submission.services = ["local"]
    form.submission.add_uploads({"a.vcf.gz": FIXTURE.read_bytes()})
    assert form._submit.disabled and "run the pre-flight check" in form._ready.object
    await form.submission.run_preflight()
    assert not form._submit.disabled and "ready to submit" in form._ready.object


def test_job_detail__service_text_is_escaped(alice_state, owners):
    detail = JobDetail(detail=JobDetailState(hub_state=alice_state))
    alice_state.selected_job_id = owners.alice[0]
    header = detail._header()
    assert XSS_IMG not in header.object and "&lt;img src=x onerror=" in header.object
    assert detail._steps.formatters["text"] == {"type": "textarea"}
    render(detail)


def test_job_detail__buttons_follow_capabilities(alice_state, owners):
    detail = JobDetail(detail=JobDetailState(hub_state=alice_state))
    alice_state.selected_job_id = owners.alice[2]  # pending: cancellable, nothing to download
    assert not detail._buttons["cancel"].disabled and detail._buttons["download"].disabled
    alice_state.selected_job_id = owners.alice[0]  # completed
    assert detail._buttons["cancel"].disabled and not detail._buttons["download"].disabled


def test_quality_view__explains_missing_results(store, owners):
    view = QualityView.from_job(store, owners.alice[0])
    assert view.quality is None and "download them first" in view.note
    render(view)


def test_statistics_view__counts_only_own_jobs(alice_state, owners):
    view = StatisticsView(state=alice_state)
    assert sorted(view.jobs["job_id"]) == sorted(owners.alice) and set(view.jobs["owner"]) == {"alice"}
    render(view)
    assert "5</b> job(s)" in view._plots()[0].object


def test_app__views_are_built_when_first_shown(alice_state):
    app = HubApp(state=alice_state)
    assert set(app._views) == {"Jobs"}
    for name in VIEWS:
        app.view = name
        render(app._main)
    assert set(app._views) == set(VIEWS)
    render(app.page())


def test_app__notebook_layout_and_tick(alice_state, store):
    app = HubApp(state=alice_state)
    render(app)
    from fedimpute.models import Job

    store.add_job(Job(service="local", owner="alice", name="late"))
    app.tick()
    assert app.jobs.total == 6
