"""The dashboard's SQL: one page at a time, always scoped to the user."""

from __future__ import annotations

import pytest

from fedimpute.ui.queries import ADMIN_COLUMNS, JOB_COLUMNS, JobFilter, first_pages, jobs_page


def test_jobs_page__scoped_to_owner(store, owners):
    """We can read a user's jobs without any other user's job in the result."""
    rows, total = jobs_page(store, JobFilter(owner="bob"))
    assert total == 3 and sorted(rows["job_id"]) == sorted(owners.bob)
    assert list(rows.columns) == list(JOB_COLUMNS) and "owner" not in rows


def test_jobs_page__admin_filter_sees_everyone(store, owners):
    rows, total = jobs_page(store, JobFilter(owner=None), columns=ADMIN_COLUMNS)
    assert total == len(owners.alice) + len(owners.bob) and set(rows["owner"]) == {"alice", "bob"}


def test_jobs_page__filters_search_and_order(store, owners):
    rows, total = jobs_page(store, JobFilter(owner="alice", status="completed"))
    assert total == 1 and rows.loc[0, "job_id"] == owners.alice[0]
    rows, total = jobs_page(store, JobFilter(owner="alice", search="JOB-3"))
    assert total == 1 and rows.loc[0, "name"] == "alice-job-3"
    oldest, _ = jobs_page(store, JobFilter(owner="alice"), order="oldest first")
    newest, _ = jobs_page(store, JobFilter(owner="alice"), order="newest first")
    assert list(oldest["job_id"]) == list(reversed(newest["job_id"]))


def test_jobs_page__pages_and_total(store, owners):
    first, total = jobs_page(store, JobFilter(owner="alice"), page=1, page_size=2)
    third, _ = jobs_page(store, JobFilter(owner="alice"), page=3, page_size=2)
    assert total == 5 and len(first) == 2 and len(third) == 1
    assert not set(first["job_id"]) & set(third["job_id"])


def test_jobs_page__search_text_is_bound_not_interpolated(store, owners):
    rows, total = jobs_page(store, JobFilter(owner="alice", search="'; DROP TABLE jobs; --"))
    assert total == 0 and rows.empty
    assert jobs_page(store, JobFilter(owner=None))[1] == 8


def test_jobs_page__unchanged_reads_compare_equal(store, owners):
    """Two reads of the same page are equal, so a periodic refresh can skip sending them."""
    a, _ = jobs_page(store, JobFilter(owner="alice"))
    b, _ = jobs_page(store, JobFilter(owner="alice"))
    assert a.equals(b)
    assert (a["queue_position"] == "").all() and (a["finished_at"] == "").all()


def test_jobs_page__columns_are_a_fixed_set(store, owners):
    with pytest.raises(ValueError, match="unknown job column"):
        jobs_page(store, JobFilter(owner="bob"), columns=("job_id", "1; DROP TABLE jobs"))


@pytest.mark.parametrize("order", ["newest first", "oldest first", "status", "service", "recently finished"])
def test_first_pages__match_one_query_per_status(store, owners, order):
    """The one-scan pages of every status equal what a query per status returns."""
    pages = first_pages(store, JobFilter(owner="alice", search="job"), page_size=2, order=order)
    for status in (None, "completed", "running", "pending", "failed", "queued"):
        expected = jobs_page(store, JobFilter(owner="alice", status=status, search="job"), page_size=2, order=order)
        got = pages.get(status, (expected[0].iloc[0:0], 0))
        assert got[1] == expected[1] and got[0].equals(expected[0]), (status, got, expected)


def test_shared_first_pages__one_open_per_version_and_each_filter_its_own_rows(store, owners):
    """Sessions re-reading after a sweep cost one DuckDB open between them, and nobody gets another's rows."""
    from fedimpute.models import Job, JobStatus
    from fedimpute.ui.queries import SharedFirstPages, store_version

    shared = SharedFirstPages()
    alice, bob = JobFilter(owner="alice"), JobFilter(owner="bob")
    version = store_version(store)
    shared.get(store, version, alice)
    shared.get(store, version, bob)
    assert shared.opens == 2  # bob had not asked before alice's read
    new = Job(service="local", owner="bob", name="new", status=JobStatus.QUEUED)
    store.add_job(new)
    version = store_version(store)
    alices = shared.get(store, version, alice)  # the first to ask at the new version reads both filters
    bobs = shared.get(store, version, bob)
    assert shared.opens == 3
    assert set(alices[None][0]["job_id"]) == set(owners.alice) and alices[None][1] == len(owners.alice)
    assert set(bobs[None][0]["job_id"]) == {*owners.bob, new.job_id} and bobs[None][1] == len(owners.bob) + 1
    for status, (rows, count) in first_pages(store, bob).items():  # the same pages as a read of its own
        assert bobs[status][0].equals(rows) and bobs[status][1] == count
