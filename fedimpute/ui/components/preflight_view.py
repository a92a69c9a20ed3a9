"""PreflightView: the pre-flight report of the files about to be submitted, failures first."""

from __future__ import annotations

import panel as pn
import param

from fedimpute.ui.components._notes import NOTE_CSS
from fedimpute.ui.state import SubmissionState
from fedimpute.ui.tables import make_table, update_table
from fedimpute.ui.text import note_html

__all__ = ["PreflightView", "preflight_summary"]


def preflight_summary(submission: SubmissionState) -> tuple[str, str]:
    """``(text, kind)`` of the one-line verdict above the report."""
    if submission.checking:
        return "checking the files ...", "info"
    if submission.preflight_error:
        return f"the check could not run: {submission.preflight_error}", "error"
    if not submission.reports:
        return "no pre-flight report yet: add files, then run the check", "info"
    statuses = submission.checks["status"].tolist()
    fails, warns = statuses.count("fail"), statuses.count("warn")
    if fails:
        return f"pre-flight: {fails} failing check(s), {warns} warning(s); fix the files before submitting", "error"
    return f"pre-flight passed: {statuses.count('pass')} check(s) passed, {warns} warning(s)", \
        "warn" if warns else "ok"


class PreflightView(pn.viewable.Viewer):
    """Verdict line and one row per check (service, file, check, status, message, fix)."""

    submission = param.ClassSelector(class_=SubmissionState)

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._table = make_table(self.submission.checks, multiline=("message", "fix"), height=260,
                                 layout="fit_columns", widths={"service": 90, "file": 140, "check": 150,
                                                               "status": 60})
        self.submission.param.watch(lambda e: update_table(self._table, e.new), "checks")

    @param.depends("submission.checks", "submission.checking", "submission.preflight_error",
                   "submission.reports")
    def _summary(self):
        text, kind = preflight_summary(self.submission)
        return pn.pane.HTML(note_html(text, kind=kind), stylesheets=[NOTE_CSS], sizing_mode="stretch_width")

    def __panel__(self):
        return pn.Column(self._summary, self._table, sizing_mode="stretch_width")
