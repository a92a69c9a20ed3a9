"""The "Export report" control: build the offline HTML report, then save it from the browser."""

from __future__ import annotations

import io
from collections.abc import Callable

import panel as pn
import param

from fedimpute.ui.components._notes import note
from fedimpute.ui.state.report import ReportExport

__all__ = ["ReportExportView"]


class ReportExportView(pn.viewable.Viewer):
    """A button (with a spinner while the notebook runs) and, once built, a "Save the report" download.

    ``job_ids`` says which jobs (None: the user's newest completed ones)."""

    export = param.ClassSelector(class_=ReportExport)

    def __init__(self, job_ids: Callable[[], list[str] | None] = lambda: None, label: str = "Export report",
                 **params) -> None:
        super().__init__(**params)
        self._job_ids = job_ids
        self._button = pn.widgets.Button(label=label, color="primary")
        self._button.on_click(self._on_click)
        self._spinner = pn.indicators.LoadingSpinner(value=True, size=24, visible=False)
        self._everyone = pn.widgets.Checkbox.from_param(self.export.param.all_owners, label="every user's jobs",
                                                        visible=self.export.hub_state.admin)
        self._save = pn.Row()  # a FileDownload with the report's bytes embedded, once built
        self.export.param.watch(self._show, ["building", "html"])

    async def _on_click(self, _event) -> None:
        await self.export.build(self._job_ids())

    def _show(self, *_events) -> None:
        self._button.disabled = self._spinner.visible = self.export.building
        html = self.export.html
        self._save.objects = [pn.widgets.FileDownload(
            file=io.BytesIO(html), embed=True, filename="fedimpute-report.html", label="Save the report",
            color="success")] if html else []

    def __panel__(self):
        return pn.Column(pn.Row(self._button, self._everyone, self._spinner, self._save),
                         note(self.export.param.message), sizing_mode="stretch_width")
