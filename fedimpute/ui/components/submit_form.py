"""SubmitForm: files, service(s), panel and options; the pre-flight report comes before submit.

The submit button stays disabled while :attr:`SubmissionState.blockers` names a reason, and
the reasons are shown next to it, so the user knows what is missing.  A service whose terms the
user has not accepted yet shows them above the button, with the box to tick (service text,
shown escaped).
"""

from __future__ import annotations

import panel as pn
import param

from fedimpute.exceptions import FedImputeError
from fedimpute.ui.components._notes import note
from fedimpute.ui.components.preflight_view import PreflightView
from fedimpute.ui.state import SubmissionState
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.text import safe_html

__all__ = ["SubmitForm"]

MAX_UPLOAD = "4000MB"  # FilePond takes KB or MB
TERMS_CSS = ".fi-terms li {white-space: pre-wrap; margin: 4px 0;}"


def terms_html(pending: dict[str, list[str]]) -> str:
    """The terms still to accept, one list per service; every text escaped."""
    parts = []
    for service, texts in pending.items():
        parts.append(safe_html("<p><b>Terms of {service}</b>: your first job there needs your consent "
                               "(asked again if the service changes them)</p>", service=service))
        parts.append('<ul class="fi-terms">' + "".join(safe_html("<li>{text}</li>", text=t) for t in texts)
                     + "</ul>")
    return "".join(parts)


class SubmitForm(pn.viewable.Viewer):
    """The submission form for the signed-in user."""

    submission = param.ClassSelector(class_=SubmissionState)

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "submission", lambda state: SubmissionState(hub_state=state)))
        sub = self.submission
        self._files = pn.widgets.FileDropper(multiple=True, max_file_size=MAX_UPLOAD, label="Input files",
                                             sizing_mode="stretch_width", height=120)
        self._files.param.watch(self._on_upload, "value")
        self._check = pn.widgets.Button(label="Run pre-flight check", color="default")
        self._check.on_click(self._on_check)
        self._submit = pn.widgets.Button(label="Submit", color="primary", disabled=True)
        self._submit.on_click(self._on_submit)
        self._progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width",
                                                height=16)
        self._ready = pn.pane.HTML("", sizing_mode="stretch_width")
        self._terms = pn.pane.HTML("", stylesheets=[TERMS_CSS], sizing_mode="stretch_width")
        self._accept = pn.widgets.Checkbox.from_param(sub.param.accept_terms, label="I have read and accept these "
                                                      "terms", visible=False)
        sub.param.watch(self._update_controls, ["files", "services", "panel", "reports", "checking", "submitting",
                                                "upload_progress", "terms", "terms_errors", "accept_terms"])
        sub.param.watch(self._show_terms, ["services", "terms"])
        sub.param.watch(self._on_services, "services")
        self._update_controls()
        self._show_terms()

    def _widgets(self) -> pn.Column:
        p = self.submission.param
        select = pn.widgets.Select.from_param
        return pn.Column(
            pn.widgets.MultiChoice.from_param(p.services, label="Service(s): several fan one input out"),
            select(p.panel, label="Reference panel"),
            pn.Row(select(p.build, label="Build"), select(p.population, label="Population")),
            pn.Row(select(p.phasing, label="Phasing"), select(p.r2_filter, label="R² filter"),
                   select(p.mode, label="Mode")),
            pn.widgets.TextInput.from_param(p.job_name, label="Job name (optional)"),
            sizing_mode="stretch_width",
        )

    def _blockers_text(self) -> str:
        blockers = self.submission.blockers
        return ("before submitting: " + "; ".join(blockers)) if blockers else "ready to submit"

    def _update_controls(self, *_events) -> None:
        sub = self.submission
        self._submit.disabled = bool(sub.blockers)
        self._check.disabled = not sub.files or sub.checking
        self._progress.param.update(value=sub.upload_progress, visible=sub.submitting or sub.upload_progress > 0)
        self._ready.object = safe_html("<i>{text}</i>", text=self._blockers_text())

    def _show_terms(self, *_events) -> None:
        pending = self.submission.pending_terms
        self._terms.object = terms_html(pending)
        self._accept.visible = bool(pending)

    async def _on_upload(self, event) -> None:
        if event.new:
            self.submission.add_uploads(dict(event.new))
            await self.submission.run_preflight()

    async def _on_services(self, _event) -> None:
        """New services bring their options, limits and terms: re-check the files for them."""
        await self.submission.discover_options()
        try:
            await self.submission.load_terms()
        except FedImputeError as exc:  # the store was busy: the blockers keep saying "wait for the terms"
            self.submission.message = f"could not read the accepted terms now ({exc}); choose the service again"
        if self.submission.files and self.submission.services:
            await self.submission.run_preflight()

    async def _on_check(self, _event) -> None:
        await self.submission.run_preflight()

    async def _on_submit(self, _event) -> None:
        await self.submission.submit()

    def __panel__(self):
        files = pn.bind(lambda fs: safe_html("files: {names}", names=", ".join(f.name for f in fs) or "none yet"),
                        self.submission.param.files)
        return pn.Column(
            "## Submit a job",
            self._files,
            pn.pane.HTML(files),
            self._widgets(),
            pn.Row(self._check),
            PreflightView(submission=self.submission),
            self._terms,
            self._accept,
            pn.Row(self._submit, self._ready),
            self._progress,
            note(self.submission.param.message),
            sizing_mode="stretch_width",
        )
