"""BoardView: the user's running jobs at a glance, live.

Each active job is a row with a progress bar, the step it is at, its queue position (and how it
moved) and its ETA with the interval and the number of past jobs it rests on; under the rows, the
jobs' phases on a time axis (:func:`fedimpute.ui.plots.phases_plot`).  The board re-reads the store
every ``refresh_ms`` while it is shown in a served page or a notebook that called
:meth:`BoardView.start_refresh`; it reads only after the store file changed (the monitor wrote), so
the page follows the monitor's sweeps without being reloaded.  Every text a service or user wrote
(job names, step names) is escaped.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from fedimpute.ui.components._notes import note
from fedimpute.ui.state.board import ACTIVE, BoardState
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.text import escaped, safe_html

__all__ = ["BoardView", "board_html"]

BOARD_CSS = """
.fi-board {border-collapse: collapse; width: 100%; font-size: 0.92em;}
.fi-board th {text-align: left; border-bottom: 2px solid #cfd8dc; padding: 4px 8px; font-weight: 600;}
.fi-board td {border-bottom: 1px solid #eceff1; padding: 5px 8px; vertical-align: middle;}
.fi-board progress {width: 150px; height: 14px; vertical-align: middle;}
.fi-board .fi-pct {display: inline-block; width: 4.5em; text-align: right; font-variant-numeric: tabular-nums;}
.fi-board .fi-muted {color: #78909c;}
"""
ACTIVE_STATUSES = [s.value for s in ACTIVE]
HEADERS = ("job", "service", "status", "progress", "step", "queue", "ETA (UTC)")


def _bar(fraction: float | None, job_id: str) -> str:
    """A progress bar with its share; no bar when the fraction is unknown (never a guessed one)."""
    if fraction is None or pd.isna(fraction):
        return safe_html('<span class="fi-pct fi-muted" data-job="{job}">unknown</span>', job=job_id)
    value = round(100 * float(fraction), 2)
    return safe_html('<progress class="fi-bar" data-job="{job}" max="100" value="{value}"></progress>'
                     '<span class="fi-pct">{pct}</span>', job=job_id, value=f"{value:g}", pct=f"{fraction:.0%}")


def _eta(row: pd.Series) -> str:
    if not row["based_on"]:
        return safe_html('<span class="fi-muted">{eta}</span>', eta=row["eta"])
    return safe_html('{eta}<br><span class="fi-muted">{span}, from {n} past jobs</span>', eta=row["eta"],
                     span=row["eta_range"], n=row["based_on"])


def _who(row: pd.Series) -> str:
    if not row["name"]:
        return safe_html("<td><b>{job}</b></td>", job=row["job_id"])
    return safe_html('<td><b>{name}</b><br><span class="fi-muted">{job}</span></td>', name=row["name"],
                     job=row["job_id"])


def board_html(rows: pd.DataFrame) -> str:
    """The rows as an HTML table, every value escaped."""
    head = "".join(f"<th>{h}</th>" for h in HEADERS)
    body = "".join(
        "<tr>" + _who(r) + safe_html("<td>{service}<br><span class=\"fi-muted\">{panel}</span></td><td>{status}</td>",
                                     service=r["service"], panel=r["panel"], status=r["status"])
        + f"<td>{_bar(r['fraction'], r['job_id'])}</td>" + safe_html("<td>{step}</td><td>{queue}</td>", step=r["step"],
                                                                      queue=r["queue"])
        + f"<td>{_eta(r)}</td></tr>" for _, r in rows.iterrows())
    return f'<table class="fi-board"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class BoardView(pn.viewable.Viewer):
    """The running-jobs board of one user (every user's for an admin)."""

    board = param.ClassSelector(class_=BoardState)
    refresh_ms = param.Integer(default=2000, bounds=(0, None), doc="Store re-read period; 0 = never.")

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "board", lambda state: BoardState(hub_state=state)))
        self._table = pn.pane.HTML(self._table_html(), stylesheets=[BOARD_CSS], sizing_mode="stretch_width")
        self._plot = pn.Column(self._plot_pane(), sizing_mode="stretch_width")
        self._callback = None
        self.board.param.watch(self._show_rows, ["rows", "read_once"])
        self.board.param.watch(self._show_plot, "phases")
        if self.board.hub_state.offload:
            self.board.hub_state.soon(self.board.refresh_async)
            if pn.state.curdoc and pn.state.curdoc.session_context:
                self.start_refresh()

    def _table_html(self) -> str:
        rows = self.board.rows
        if rows.empty:
            return "<i>no active jobs</i>" if self.board.read_once else "<i>reading the store ...</i>"
        active = int(rows["status"].isin(ACTIVE_STATUSES).sum())
        ended = f", {len(rows) - active} ended in the last six hours" if len(rows) > active else ""
        return safe_html("<p><b>{n}</b> active job(s){ended}</p>", n=active, ended=ended) + board_html(rows)

    def _plot_pane(self):
        if self.board.phases.empty:
            return pn.pane.HTML("")
        from fedimpute.ui.plots import phases_plot

        return pn.pane.HoloViews(phases_plot(self.board.phases), sizing_mode="stretch_width")

    def _show_rows(self, *_events) -> None:
        html = self._table_html()
        if html != self._table.object:
            self._table.object = html

    def _show_plot(self, *_events) -> None:
        self._plot.objects = [self._plot_pane()]

    def _tick(self) -> None:
        state = self.board.hub_state
        if state.offload:
            state.soon(self._refresh_served)
        else:
            self.board.refresh(if_changed=True)

    async def _refresh_served(self) -> None:
        """A served page's tick; a page whose sign-in ended stops re-reading (the app empties it)."""
        try:
            await self.board.refresh_async(if_changed=True)
        except PermissionError:
            self.stop_refresh()

    def start_refresh(self) -> None:
        """Re-read the store every ``refresh_ms`` while the store changes (served pages, live notebooks)."""
        if self.refresh_ms and self._callback is None:
            self._callback = pn.state.add_periodic_callback(self._tick, period=self.refresh_ms)

    def stop_refresh(self) -> None:
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    def __panel__(self):
        intro = pn.pane.HTML(escaped("Your jobs that are not finished (and those that ended in the last six hours): "
                                     "where each is in its run, as its service reports it, and when it should end, "
                                     "from how long your lab's finished jobs on the same service and panel took. "
                                     "A share is shown only where the service counts its steps or chunks."))
        return pn.Column("## Running jobs", intro, note(self.board.param.error, kind="warn"), self._table,
                         self._plot, sizing_mode="stretch_width")
