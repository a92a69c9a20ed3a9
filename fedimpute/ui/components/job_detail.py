"""JobDetail: one job's summary, steps and messages, event timeline, results and quality.

Every text from the service (name, messages, event details, errors) reaches the browser
through escaping formatters or :func:`~fedimpute.ui.text.safe_html`.  Cancel, download and restart
(dead jobs only) are offered to the job's owner only (the state decides); the provenance crate to
anyone who may see the job.  Plots are built lazily,
when their tab is opened, so HoloViews never slows the jobs page down.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import pandas as pd
import panel as pn
import param

from fedimpute.ui.components._notes import NOTE_CSS, note
from fedimpute.ui.components.quality_view import QualityView
from fedimpute.ui.components.report_export import ReportExportView
from fedimpute.ui.state import JobDetailState
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.state.report import ReportExport
from fedimpute.ui.tables import make_table, update_table
from fedimpute.ui.text import safe_html

__all__ = ["JobDetail", "summary_rows"]

SUMMARY_FIELDS = ("job_id", "name", "status", "owner", "service", "panel", "build", "population", "remote_id",
                  "remote_state", "queue_position", "created_at", "submitted_at", "started_at", "finished_at",
                  "expires_at", "error")


def summary_rows(detail: JobDetailState) -> pd.DataFrame:
    """Field/value rows of the job (times in UTC)."""
    job = detail.job
    rows = []
    for field in SUMMARY_FIELDS if job else ():
        value = getattr(job, field)
        if hasattr(value, "strftime"):
            value = f"{value:%Y-%m-%d %H:%M:%S}"
        rows.append([field, "" if value is None else str(getattr(value, "value", value))])
    return pd.DataFrame(rows, columns=["field", "value"])


class JobDetail(pn.viewable.Viewer):
    """The selected job; empty until one is selected."""

    detail = param.ClassSelector(class_=JobDetailState)

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "detail", lambda state: JobDetailState(hub_state=state)))
        d = self.detail
        self._summary = make_table(summary_rows(d), multiline=("value",), layout="fit_columns",
                                   widths={"field": 120}, height=500, sizing_mode="fixed", width=400)
        self._steps = make_table(d.steps, multiline=("text",), layout="fit_columns", height=320,
                                 widths={"step": 160, "level": 80, "time": 150})
        self._events = make_table(d.events, multiline=("detail",), layout="fit_columns", height=220,
                                  widths={"time": 150, "old_status": 100, "status": 100})
        self._results = make_table(d.results, height=220)
        self._buttons = {name: pn.widgets.Button(label=label, color=color) for name, label, color in (
            ("refresh", "Refresh", "default"), ("cancel", "Cancel job", "danger"),
            ("download", "Download results", "primary"), ("restart", "Restart job", "warning"))}
        self._buttons["refresh"].on_click(self._on_refresh)
        self._buttons["cancel"].on_click(self._on_cancel)
        self._buttons["download"].on_click(self._on_download)
        self._buttons["restart"].on_click(self._on_restart)
        self._provenance = pn.widgets.Button(label="Provenance (RO-Crate)", color="default")
        self._provenance.on_click(self._on_provenance)
        self._save_provenance = pn.Row()  # a FileDownload with the crate's bytes, once built
        d.param.watch(self._show, ["job", "steps", "events", "results", "can_cancel", "can_download", "can_restart",
                                   "busy"])
        d.param.watch(self._show_provenance, ["provenance", "provenance_busy"])
        self._show()

    def _show(self, *_events) -> None:
        d = self.detail
        with pn.io.hold():  # one message to the browser; unchanged tables send nothing
            update_table(self._summary, summary_rows(d))
            update_table(self._steps, d.steps)
            update_table(self._events, d.events)
            update_table(self._results, d.results)
            self._buttons["cancel"].disabled = d.busy or not d.can_cancel
            self._buttons["download"].disabled = d.busy or not d.can_download
            self._buttons["restart"].visible = d.can_restart  # only dead jobs of a protocol that restarts
            self._buttons["restart"].disabled = d.busy

    def _show_provenance(self, *_events) -> None:
        d = self.detail
        self._provenance.disabled = d.provenance_busy
        self._save_provenance.objects = [pn.widgets.FileDownload(
            file=io.BytesIO(d.provenance), embed=True, filename=f"{d.job.job_id}-provenance.zip",
            label="Save the provenance", color="success")] if d.provenance and d.job else []

    async def _on_provenance(self, _event) -> None:
        await self.detail.build_provenance()

    async def _on_refresh(self, _event) -> None:
        await self.detail.refresh_async()  # reads in a worker thread: the page never waits for the store

    async def _on_cancel(self, _event) -> None:
        await self.detail.cancel()

    async def _on_download(self, _event) -> None:
        await self.detail.download()

    async def _on_restart(self, _event) -> None:
        await self.detail.restart()

    @param.depends("detail.job")
    def _header(self):
        job = self.detail.job
        if job is None:
            return pn.pane.HTML("<i>select a job in the table to see its steps, events and results</i>")
        return pn.pane.HTML(safe_html('<h3 style="margin:4px 0">Job {job_id} <span class="fi-status fi-{status}">'
                                      '{status}</span></h3><div>{name}</div>', job_id=job.job_id,
                                      status=job.status.value, name=job.name or ""),
                            stylesheets=[NOTE_CSS + ".fi-status{font-size:0.8em;padding:2px 8px;border-radius:8px;"
                                         "background:#e3e8ee}"])

    @param.depends("detail.results", "detail.job")
    def _links(self):
        """Links to the downloaded files (served pages: /results/... streams them to the browser)."""
        job, results = self.detail.job, self.detail.results
        if job is None or not self.detail.hub_state.offload:
            return pn.pane.HTML("")
        names = list(results.loc[results["state"] == "downloaded", "name"]) if not results.empty else []
        if not names:
            return pn.pane.HTML("<i>no downloaded files yet: download the results to fetch them here</i>")
        base = "/results/" + quote(job.job_id, safe="")
        items = "".join(safe_html('<li><a href="{href}" download>{name}</a></li>', href=f"{base}/{quote(n, safe='')}",
                                  name=n) for n in names)
        return pn.pane.HTML(safe_html('<a href="{href}" download>all files as one zip</a>', href=f"{base}.zip")
                            + f"<ul>{items}</ul>", sizing_mode="stretch_width")

    @param.depends("detail.events")
    def _timeline(self):
        if self.detail.events.empty:
            return pn.pane.HTML("<i>no events yet</i>")
        from fedimpute.ui.plots import timeline_plot

        return pn.pane.HoloViews(timeline_plot(self.detail.events), sizing_mode="stretch_width", height=240)

    def __panel__(self):
        d = self.detail
        tabs = pn.Tabs(
            ("Steps", self._steps),
            ("Timeline", pn.Column(pn.param.ParamMethod(self._timeline, lazy=True), self._events,
                                   sizing_mode="stretch_width")),
            ("Results", pn.Column(self._links, self._results, sizing_mode="stretch_width")),
            ("Quality", QualityView(quality=d.param.quality, note=d.param.quality_note)),
            dynamic=True, sizing_mode="stretch_width",
        )
        export = ReportExportView(export=ReportExport(hub_state=d.hub_state), label="Export report",
                                  job_ids=lambda: [d.job.job_id] if d.job else None)
        body = pn.Column(pn.Row(*self._buttons.values(), export), pn.Row(self._provenance, self._save_provenance),
                         note(d.param.message),
                         note(d.param.expiry, kind="warn"),
                         pn.Row(self._summary, tabs),
                         sizing_mode="stretch_width", visible=d.param.job.rx.is_not(None))
        return pn.Column(self._header, body, sizing_mode="stretch_width")
