"""The running-jobs board without a browser: which jobs, what each row says, the phases, the refresh."""

from __future__ import annotations

from datetime import timedelta

import panel as pn
from bokeh.document import Document

from fedimpute.models import Job, JobStatus, utcnow
from fedimpute.ui.components.board_view import BoardView, board_html
from fedimpute.ui.state.board import BoardState
from tests.ui.data import XSS_IMG


def _progress(store, job_id, *rows):
    """Progress rows of a running job, spread between its creation and now."""
    start = store.get_job(job_id).created_at
    gap = (utcnow() - start) / (len(rows) + 1)
    store.add_progress([{"job_id": job_id, "time": start + gap * (i + 1), "status": "running",
                         "step": step, "step_index": i, "done": done, "total": total, "unit": unit,
                         "fraction": fraction} for i, (step, done, total, unit, fraction) in enumerate(rows)])


def test_board__the_users_active_jobs_only(alice_state, owners):
    board = BoardState(hub_state=alice_state)
    active = {owners.alice[i] for i in (1, 2, 4)}  # running, pending, queued (0 completed, 3 failed)
    assert set(board.rows["job_id"]) == active
    assert set(board.rows["status"]) == {"running", "pending", "queued"}
    rows = board.rows.set_index("job_id")
    assert rows.loc[owners.alice[2], "step"] == "waiting to be sent"
    assert rows.loc[owners.alice[1], "progress"] == "unknown"  # no report from the service: no fraction
    assert (rows["eta"] == "no estimate").all()  # no finished job on `local` to learn from


def test_board__progress_rows_give_step_fraction_and_phases(alice_state, store, owners):
    running = owners.alice[1]
    _progress(store, running, ("Input Validation", 0, 4, "steps", 0.0), ("Quality Control", 1, 4, "steps", 0.25),
              ("Phasing and Imputation", 1, 4, "chunks", 0.5625))
    board = BoardState(hub_state=alice_state)
    row = board.rows.set_index("job_id").loc[running]
    assert row["step"] == "Phasing and Imputation: 1 of 4 chunks done (56%)" and row["progress"] == "56%"
    phases = board.phases[board.phases["job_id"] == running]
    assert list(phases["phase"]) == ["waiting to be sent", "Input Validation", "Quality Control",
                                     "Phasing and Imputation"]
    assert (phases["start"] <= phases["end"]).all() and phases["start"].is_monotonic_increasing


def test_board__refresh_reads_only_after_a_write(alice_state, store):
    board = BoardState(hub_state=alice_state)
    assert board.refresh(if_changed=True) is False
    store.add_job(Job(service="local", owner="alice", name="new one", status=JobStatus.QUEUED))
    assert board.refresh(if_changed=True) is True and "new one" in set(board.rows["name"])


def test_board__names_and_steps_are_escaped(alice_state, store):
    job = store.add_job(Job(service="local", owner="alice", name=f"evil {XSS_IMG}", status=JobStatus.RUNNING))
    _progress(store, job.job_id, (f"step {XSS_IMG}", None, None, None, None))
    html = board_html(BoardState(hub_state=alice_state).rows)
    assert XSS_IMG not in html and html.count("&lt;img src=x onerror=") == 2


def test_board_view__builds_with_its_plot(alice_state, store, owners):
    _progress(store, owners.alice[1], ("Quality Control", 1, 4, "steps", 0.25))
    view = BoardView(board=BoardState(hub_state=alice_state))
    pn.panel(view).get_root(Document())
    assert 'value="25"' in view._table.object and "3</b> active job(s)" in view._table.object
    assert isinstance(view._plot.objects[0], pn.pane.HoloViews)


def test_board__eta_from_three_finished_jobs_on_the_service(alice_state, store, owners):
    from tests.progress.history import T0, add_finished

    for i, minutes in enumerate((100, 120, 140)):
        add_finished(store, start=T0 + timedelta(hours=i), queue_min=5, run_min=minutes, service="local",
                     panel="sim-ci", build="hg38")
    row = BoardState(hub_state=alice_state).rows.set_index("job_id").loc[owners.alice[1]]  # running since now
    assert row["based_on"] == 3 and row["eta"].endswith(" UTC") and "–" in row["eta_range"]
    assert "from 3 past jobs" in board_html(BoardState(hub_state=alice_state).rows)
