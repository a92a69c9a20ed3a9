"""JobsTable: the user's jobs, one page at a time, with filters and a live refresh.

Pagination is ours, not Tabulator's: the state reads only the visible page from DuckDB, and
the table is updated through :func:`~fedimpute.ui.tables.update_table`, so a refresh that
finds nothing new sends nothing.  Clicking a row selects the job for the detail view.
"""

from __future__ import annotations

import panel as pn
import param

from fedimpute.ui.state import JobListState
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.tables import make_table, update_table
from fedimpute.ui.text import escaped, safe_html

__all__ = ["JobsTable"]

TITLES = {"job_id": "job", "queue_position": "queue", "created_at": "created (UTC)", "finished_at": "finished (UTC)",
          "expires_at": "expires (UTC)"}
WIDTHS = {"job_id": 190, "name": 180, "owner": 90, "status": 90, "service": 100, "panel": 110, "queue_position": 60,
          "created_at": 150, "finished_at": 150, "expires_at": 150}


class JobsTable(pn.viewable.Viewer):
    """Filters above, the page of jobs, a pager below."""

    jobs = param.ClassSelector(class_=JobListState)

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "jobs", lambda state: JobListState(hub_state=state)))
        self._table = make_table(self.jobs.rows, titles=TITLES, selectable=1, widths=WIDTHS, layout="fit_columns")
        self._table.param.watch(self._on_select, "selection")
        self._previous = pn.widgets.Button(label="◀ previous", color="light", width=110)
        self._next = pn.widgets.Button(label="next ▶", color="light", width=110)
        self._previous.on_click(lambda _: self.jobs.previous_page())
        self._next.on_click(lambda _: self.jobs.next_page())
        self._where = pn.pane.HTML(self._page_text(), margin=(12, 10))
        self.jobs.param.watch(self._show, ["rows", "total", "page", "error"])

    def _page_text(self) -> str:
        """Where we are, and (escaped) why the rows may be stale."""
        jobs = self.jobs
        if not jobs.total:
            text = "no jobs match"
        else:
            first = (jobs.page - 1) * jobs.page_size + 1
            last = min(jobs.page * jobs.page_size, jobs.total)
            text = f"jobs {first:,}–{last:,} of {jobs.total:,} (page {jobs.page:,} of {jobs.pages:,})"
        return escaped(text) + (safe_html(' <b class="fi-error">{e}</b>', e=jobs.error) if jobs.error else "")

    def _show(self, *_events) -> None:
        with pn.io.hold():  # one message to the browser, not four
            update_table(self._table, self.jobs.rows)
            self._where.object = self._page_text()
            self._previous.disabled = self.jobs.page <= 1
            self._next.disabled = self.jobs.page >= self.jobs.pages

    def _on_select(self, event) -> None:
        rows = self.jobs.rows
        if event.new and event.new[0] < len(rows):
            self.jobs.hub_state.selected_job_id = str(rows.iloc[event.new[0]]["job_id"])

    def select(self, job_id: str) -> None:
        """Select ``job_id`` as a click would (for notebooks and tests)."""
        self.jobs.hub_state.selected_job_id = job_id

    def __panel__(self):
        p = self.jobs.param
        filters = pn.Row(
            pn.widgets.Select.from_param(p.status, label="Status", width=140),
            pn.widgets.Select.from_param(p.service, label="Service", width=160),
            pn.widgets.TextInput.from_param(p.search, label="Search id or name", width=220),
            pn.widgets.Select.from_param(p.order, label="Order", width=170),
        )
        self._show()
        return pn.Column(filters, self._table, pn.Row(self._previous, self._next, self._where),
                         sizing_mode="stretch_width")
