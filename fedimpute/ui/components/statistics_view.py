"""StatisticsView: the user's jobs in numbers (by service and status, over time, queue and run times).

Plots are :mod:`fedimpute.plots`' (shared with notebooks and reports).  Their data is the store's
job statistics cut down to this user's jobs on the server (every job for an admin), so only the
user's own numbers reach the browser.  Read when the view opens and on "Refresh", not every tick;
in a served page in a worker thread, and again by the periodic refresh while the store is busy (``stale``).
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from fedimpute.exceptions import StoreError
from fedimpute.ui.components.report_export import ReportExportView
from fedimpute.ui.state import HubState
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.state.report import ReportExport
from fedimpute.ui.tables import make_table

__all__ = ["StatisticsView", "user_statistics"]


def user_statistics(state: HubState) -> pd.DataFrame:
    """One row per job the user may see: service, status, times and queue/run seconds."""
    from fedimpute.quality import job_statistics

    frame = pd.DataFrame(job_statistics(state.store))
    if not state.admin:
        frame = frame[frame["owner"] == state.user]
    return frame.drop(columns=["name"], errors="ignore").reset_index(drop=True)


def service_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Jobs and median minutes (queue, run, turnaround) per service."""
    minutes = frame.assign(**{c.replace("_seconds", ""): frame[c] / 60 for c in
                              ("queue_seconds", "run_seconds", "turnaround_seconds")})
    table = minutes.groupby("service").agg(jobs=("job_id", "size"), queue=("queue", "median"),
                                           run=("run", "median"), turnaround=("turnaround", "median"))
    table = table.round(1).reset_index().astype(str).replace("nan", "")
    return table.rename(columns={"queue": "queue (min)", "run": "run (min)", "turnaround": "turnaround (min)"})


def _fit(plot, height: int = 300) -> pn.pane.HoloViews:
    from fedimpute.plots import fit

    return pn.pane.HoloViews(fit(plot, height), sizing_mode="stretch_width")


class StatisticsView(pn.viewable.Viewer):
    """Plots of the jobs this user may see."""

    state = param.ClassSelector(class_=HubState)
    jobs = param.DataFrame(default=pd.DataFrame(), doc="user_statistics(state), read on refresh.")
    stale = param.Boolean(default=True, doc="Not read yet, or the last read failed (the store was busy).")

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "state"))
        self._refresh = pn.widgets.Button(label="Refresh", color="default")
        self._refresh.on_click(self._on_refresh)
        if self.state.offload:
            self.state.soon(self.refresh_async)
        else:
            self.refresh()

    def refresh(self) -> None:
        self.param.update(jobs=user_statistics(self.state), stale=False)

    async def refresh_async(self) -> bool:
        """:meth:`refresh` read in a worker thread; False (``stale`` stays set) when the store was busy."""
        try:
            jobs = await self.state.in_thread(user_statistics, self.state)
        except StoreError:
            self.stale = True
            return False
        self.param.update(jobs=jobs, stale=False)
        return True

    async def _on_refresh(self, _event) -> None:
        await self.refresh_async()

    @param.depends("jobs", "stale")
    def _plots(self):
        if self.jobs.empty:
            return pn.pane.HTML("<i>reading the store ...</i>" if self.stale else "<i>no jobs yet</i>")
        from fedimpute import plots

        who = "all users" if self.state.admin else "your jobs"
        return pn.Column(
            pn.pane.HTML(f"<b>{len(self.jobs):,}</b> job(s), {who}"),
            pn.Row(_fit(plots.jobs_by_status(self.jobs)), _fit(plots.jobs_over_time(self.jobs)),
                   sizing_mode="stretch_width"),
            pn.Row(_fit(plots.queue_time_by_service(self.jobs)), _fit(plots.run_time_by_service(self.jobs)),
                   sizing_mode="stretch_width"),
            "### Per service (medians)",
            make_table(service_summary(self.jobs), sizing_mode="fixed", width=560),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        export = ReportExportView(export=ReportExport(hub_state=self.state), label="Export a report of my jobs")
        return pn.Column("## Statistics", pn.Row(self._refresh, export), self._plots, sizing_mode="stretch_width")
