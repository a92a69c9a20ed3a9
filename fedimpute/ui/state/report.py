"""ReportExport: build the offline HTML report for the signed-in user, off the event loop.

The report is :func:`fedimpute.report.build_report` (a notebook run: tens of seconds), run in a
worker thread; it covers the user's own jobs (an admin may ask for every owner's).  The built file
is read into memory for the browser's download and deleted from the home at once: nothing of a
report stays on the server.
"""

from __future__ import annotations

from pathlib import Path

import param

from fedimpute.exceptions import FedImputeError
from fedimpute.ui.state.hub import HubState

__all__ = ["ReportExport"]


class ReportExport(param.Parameterized):
    hub_state = param.ClassSelector(class_=HubState)
    all_owners = param.Boolean(default=False, doc="Every owner's jobs (admins only).")
    building = param.Boolean(default=False)
    message = param.String(default="")
    html = param.Bytes(default=None, allow_None=True, doc="The last report built, ready to download.")

    async def build(self, job_ids: list[str] | None = None) -> None:
        """The report of ``job_ids`` (None: the user's newest completed jobs)."""
        if self.building:
            return
        state = self.hub_state
        everyone = self.all_owners and state.admin
        self.param.update(building=True, html=None, message="building the report (a notebook run: up to a minute)")
        try:
            html = await state.in_thread(self._render, list(job_ids or []), None if everyone else state.user,
                                         everyone)
        except (FedImputeError, OSError) as exc:
            self.param.update(building=False, message=f"no report: {exc}")
            return
        except Exception as exc:  # nbclient's CellExecutionError and friends: say so, keep the page alive
            self.param.update(building=False, message=f"no report: {type(exc).__name__}: {exc}"[:500])
            return
        self.param.update(building=False, html=html, message="report ready: save it with the button")

    def _render(self, job_ids: list[str], owner: str | None, all_owners: bool) -> bytes:
        from fedimpute.report import build_report

        path: Path = build_report(self.hub_state.store.home, job_ids, owner=owner, all_owners=all_owners)
        try:
            return path.read_bytes()
        finally:
            path.unlink(missing_ok=True)
