"""The dashboard's param state, without a browser: isolation, paging, detail, intents."""

from __future__ import annotations

import gzip

import pytest

from fedimpute.exceptions import JobNotFoundError
from fedimpute.models import Job, JobStatus, ResultFile, utcnow
from fedimpute.ui.state import HubState, JobDetailState, JobListState


def test_hub_state__another_users_job_is_unknown(alice_state, owners):
    """We can look up our own jobs, and another user's job looks like it does not exist."""
    assert alice_state.get_job(owners.alice[1]).owner == "alice"
    with pytest.raises(JobNotFoundError):
        alice_state.get_job(owners.bob[0])


def test_hub_state__admin_sees_all_but_acts_on_own(store, owners):
    admin = HubState.from_home(store.home, user="carol", admin=True)
    bobs = admin.get_job(owners.bob[0])
    assert admin.job_filter().owner is None and not admin.may_act_on(bobs)


def test_hub_state__catalogue_has_token_status_not_tokens(alice_state, monkeypatch):
    monkeypatch.setenv("FEDIMPUTE_TOKEN_MICHIGAN", "very-secret-token")
    alice_state.refresh_catalogue()
    assert alice_state.tokens["michigan"] == "from the environment" and alice_state.tokens["local"] == "not needed"
    assert "very-secret-token" not in repr(alice_state.param.values())
    assert {p.panel_id for p in alice_state.panels} == {"sim-ci", "sim-eur"}


def test_job_list__shows_only_own_jobs(alice_state, owners):
    jobs = JobListState(hub_state=alice_state)
    assert jobs.total == 5 and set(jobs.rows["job_id"]) == set(owners.alice)


def test_job_list__filter_change_goes_back_to_page_one(alice_state):
    jobs = JobListState(hub_state=alice_state, page_size=2)
    jobs.next_page()
    assert jobs.page == 2 and len(jobs.rows) == 2
    jobs.status = "running"
    assert jobs.page == 1 and jobs.total == 1 and jobs.rows.loc[0, "status"] == "running"
    jobs.status, jobs.search = "all", "job-4"
    assert jobs.total == 1


def test_job_list__unchanged_refresh_assigns_nothing(alice_state, store):
    jobs = JobListState(hub_state=alice_state)
    events = []
    jobs.param.watch(lambda *e: events.extend(e), ["rows", "total"])
    assert jobs.refresh() is False and events == []
    store.add_job(Job(service="local", owner="alice", name="new one"))
    store.add_job(Job(service="local", owner="bob", name="not hers"))
    assert jobs.refresh() is True and jobs.total == 6 and "new one" in set(jobs.rows["name"])
    assert "not hers" not in set(jobs.rows["name"])


def test_job_list__services_follow_the_catalogue(alice_state):
    jobs = JobListState(hub_state=alice_state)
    assert {"all", "local", "michigan"} <= set(jobs.param.service.objects)


def test_job_detail__follows_the_selection(alice_state, owners):
    detail = JobDetailState(hub_state=alice_state)
    alice_state.selected_job_id = owners.alice[0]
    assert detail.job.job_id == owners.alice[0]
    assert list(detail.steps["step"]) == ["Input Validation"] * 2
    assert "<script>" in detail.steps.loc[0, "text"]  # kept verbatim: views escape it
    assert list(detail.events["status"]) == ["completed"]
    alice_state.selected_job_id = None
    assert detail.job is None and detail.steps.empty


def test_job_detail__another_users_job_is_not_loaded(alice_state, owners):
    detail = JobDetailState(hub_state=alice_state)
    alice_state.selected_job_id = owners.bob[0]
    assert detail.job is None and "unknown job" in detail.message


def test_job_detail__refresh_sees_changes_only(alice_state, owners, store):
    alice_state.selected_job_id = owners.alice[1]
    detail = JobDetailState(hub_state=alice_state)
    assert detail.refresh() is False
    store.update_job(owners.alice[1], status=JobStatus.COMPLETED, detail="remote state COMPLETE")
    assert detail.refresh() is True and detail.job.status is JobStatus.COMPLETED
    assert list(detail.events["status"]) == ["running", "completed"]


async def test_job_detail__owner_cancels_a_pending_job(alice_state, owners, store):
    """We can cancel our own job; a job that never reached the service is cancelled locally."""
    alice_state.selected_job_id = owners.alice[2]  # pending, no remote id
    detail = JobDetailState(hub_state=alice_state)
    assert detail.can_cancel and not detail.can_download
    await detail.cancel()
    assert store.get_job(owners.alice[2]).status is JobStatus.CANCELLED
    assert detail.job.status is JobStatus.CANCELLED and not detail.can_cancel


async def test_job_detail__admin_cannot_cancel_others(store, owners):
    admin = HubState.from_home(store.home, user="carol", admin=True)
    admin.selected_job_id = owners.bob[2]
    detail = JobDetailState(hub_state=admin)
    assert detail.job is not None and not detail.can_cancel
    await detail.cancel()
    assert store.get_job(owners.bob[2]).status is JobStatus.PENDING


def test_job_detail__quality_of_downloaded_results(alice_state, owners, store, tmp_path):
    info = tmp_path / "chr20.info.gz"
    lines = ["SNP\tREF(0)\tALT(1)\tALT_Frq\tMAF\tAvgCall\tRsq\tGenotyped",
             "chr20:1:A:G\tA\tG\t0.2\t0.2\t0.99\t0.95\tImputed",
             "chr20:2:A:G\tA\tG\t0.0005\t0.0005\t0.99\t0.10\tImputed"]
    info.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    job_id = owners.alice[0]
    store.upsert_result_file(ResultFile(job_id=job_id, name="chr20.info.gz", size=info.stat().st_size,
                                        sha256="0" * 64, path=str(info), downloaded_at=utcnow()))
    alice_state.selected_job_id = job_id
    detail = JobDetailState(hub_state=alice_state)
    assert detail.quality["variants"] == 2 and detail.quality_note == ""
    assert list(detail.results["state"]) == ["downloaded"]


def test_job_detail__no_quality_before_completion(alice_state, owners):
    alice_state.selected_job_id = owners.alice[1]
    detail = JobDetailState(hub_state=alice_state)
    assert detail.quality is None and "running" in detail.quality_note


def test_job_list__status_switch_is_answered_from_the_pages_read(alice_state, store, monkeypatch):
    """We can switch the status filter without opening DuckDB again, until the store changes."""
    import fedimpute.ui.state.jobs as jobs_module

    shared = jobs_module.shared_first_pages(alice_state.store)
    opened = shared.opens
    jobs = JobListState(hub_state=alice_state)
    jobs.status = "running"
    jobs.status = "failed"
    assert shared.opens - opened == 1 and jobs.total == 1 and jobs.rows.loc[0, "status"] == "failed"
    store.add_job(Job(service="local", owner="alice", name="another failure", status=JobStatus.FAILED))
    jobs.status = "all"
    jobs.status = "failed"
    assert shared.opens - opened == 2 and jobs.total == 2
