"""A served session's state (``offload``) never reads the store on the event loop's thread.

Every session of a dashboard server shares one event loop: a store read there waits for the
DuckDB lock while another process holds the file.  These tests drive the state as a served page
does (awaiting its async methods, letting watchers schedule their reads) and record which thread
each store read ran on; a real second process holds the lock where the busy path is tested.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

import fedimpute.ui.components.statistics_view as statistics_module
import fedimpute.ui.state.jobs as jobs_module
from fedimpute.models import JobStatus
from fedimpute.paths import DB_FILENAME
from fedimpute.ui.app import HubApp
from fedimpute.ui.components import StatisticsView
from fedimpute.ui.queries import SharedFirstPages
from fedimpute.ui.state import HubState, JobDetailState
from fedimpute.ui.state.hub import BUSY_NOTICE
from tests.ui.locking import store_locked

HOLD_SECONDS = 4.0  # a read waits 1 s for the lock before it says "busy"


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the loop run until ``condition()`` holds (fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.fixture
def threads(monkeypatch) -> list[threading.Thread]:
    """The thread of every jobs-page, job-detail and statistics read, in order."""
    seen: list[threading.Thread] = []

    def recording(real):
        def read(*args, **kwargs):
            seen.append(threading.current_thread())
            return real(*args, **kwargs)
        return read

    for module, name in ((SharedFirstPages, "get"), (jobs_module, "jobs_page"),
                         (statistics_module, "user_statistics")):
        monkeypatch.setattr(module, name, recording(getattr(module, name)))
    monkeypatch.setattr(JobDetailState, "_snapshot", recording(JobDetailState._snapshot))
    return seen


@pytest.fixture
def served_state(store, owners) -> HubState:
    return HubState.from_home(store.home, user="alice", offload=True)


async def test_offload__every_read_of_a_served_session_runs_off_the_loop_thread(served_state, owners, threads):
    app = HubApp(state=served_state)
    assert threads == [] and app.jobs.total == 0  # building the session read nothing
    await app.load()
    assert app.jobs.total == len(owners.alice) and "local" in {s.name for s in served_state.services}
    app.jobs.search = "alice-job-3"  # a watcher: schedules its read
    await until(lambda: app.jobs.total == 1)
    app.jobs.page_size = 2
    app.jobs.search = ""
    await until(lambda: app.jobs.total == len(owners.alice))
    app.jobs.page = 2  # not read ahead: a read of its own
    await until(lambda: app.jobs.rows["job_id"].tolist() == [owners.alice[2], owners.alice[1]])
    served_state.selected_job_id = owners.alice[0]
    await until(lambda: app.detail.job is not None)
    assert list(app.detail.steps["step"]) == ["Input Validation"] * 2
    statistics = StatisticsView(state=served_state)
    await until(lambda: not statistics.stale)
    assert sorted(statistics.jobs["job_id"]) == sorted(owners.alice)
    assert len(threads) >= 5 and threading.main_thread() not in threads


async def test_offload__selection_overtaken_by_another_shows_the_last(served_state, owners, monkeypatch):
    """A slow read of the job clicked first never replaces the job clicked after it."""
    first, second = owners.alice[0], owners.alice[1]
    release, finished = threading.Event(), []
    real_snapshot, real_load = JobDetailState._snapshot, JobDetailState.load_async

    def snapshot(self, job_id):
        if job_id == first:
            assert release.wait(30)
        return real_snapshot(self, job_id)

    async def load_async(self, job_id):
        await real_load(self, job_id)
        finished.append(job_id)

    monkeypatch.setattr(JobDetailState, "_snapshot", snapshot)
    monkeypatch.setattr(JobDetailState, "load_async", load_async)
    detail = JobDetailState(hub_state=served_state)
    served_state.selected_job_id = first
    served_state.selected_job_id = second
    await until(lambda: finished == [second])
    release.set()
    await until(lambda: finished == [second, first])
    assert detail.job.job_id == second


async def test_offload__another_users_job_stays_unknown(served_state, owners):
    detail = JobDetailState(hub_state=served_state)
    served_state.selected_job_id = owners.bob[0]
    await until(lambda: "unknown job" in detail.message)
    assert detail.job is None


async def test_offload__owner_cancels_off_the_loop(served_state, owners, store, monkeypatch):
    """The Hub's request (and its store writes) run on a loop of their own in a worker thread."""
    ran_on = []
    real_cancel = served_state.hub.cancel

    async def cancel(job_id):
        ran_on.append((threading.current_thread(), asyncio.get_running_loop()))
        return await real_cancel(job_id)

    monkeypatch.setattr(served_state.hub, "cancel", cancel)
    served_state.selected_job_id = owners.alice[2]  # pending, never sent: cancelled locally
    detail = JobDetailState(hub_state=served_state)
    await until(lambda: detail.job is not None)
    await detail.cancel()
    [(thread, loop)] = ran_on
    assert thread is not threading.main_thread() and loop is not asyncio.get_running_loop()
    assert store.get_job(owners.alice[2]).status is JobStatus.CANCELLED
    assert detail.job.status is JobStatus.CANCELLED and "cancelled" in detail.message


async def test_offload__store_held_by_another_process_says_busy_and_loop_keeps_running(served_state, owners,
                                                                                    store, tmp_path, threads):
    """While a second process holds the file, reads wait for it in their thread (never on the loop's),
    the page says "busy, retrying" and keeps its rows; the next tick recovers."""
    app = HubApp(state=served_state)
    await app.load()
    shown = app.jobs.rows.copy()
    with store_locked(store.path.parent / DB_FILENAME, tmp_path / "locked", HOLD_SECONDS) as holder:
        del threads[:]  # only the reads made while the lock is held
        app.jobs.search = "alice-job-3"
        served_state.selected_job_id = owners.alice[0]
        await until(lambda: served_state.store_busy == BUSY_NOTICE and app.detail.message == BUSY_NOTICE)
        await app.tick_async()
        held_throughout = holder.poll() is None
        blocked_reads = list(threads)
        assert BUSY_NOTICE in app.jobs.error and app.jobs.rows.equals(shown) and app.detail.job is None
        await asyncio.to_thread(holder.wait, HOLD_SECONDS + 30)
    assert held_throughout, "the lock was released before the reads gave up"
    # the waits for the lock happened in worker threads: the loop itself never waited (no timing involved)
    assert len(blocked_reads) >= 2 and threading.main_thread() not in blocked_reads
    await app.tick_async()  # the retry: nothing was written, yet everything that failed is read again
    assert served_state.store_busy == "" and app.jobs.error == "" and app.jobs.total == 1
    assert app.detail.job is not None and app.detail.job.job_id == owners.alice[0] and app.detail.message == ""
