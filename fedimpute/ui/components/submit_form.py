"""SubmitForm: files, service(s), panel and options; the pre-flight report comes before submit.

The submit button stays disabled while :attr:`SubmissionState.blockers` names a reason, and
the reasons are shown next to it, so the user knows what is missing.  A service whose terms the
user has not accepted yet shows them above the button, with the box to tick (service text,
shown escaped).

Uploads stream to the server's disk as they arrive (:class:`StreamingDropper`); the server's
limits are shown above the drop area and enforced by the server.  Where the server declares
data folders, a list of the user's files there can be added too.  When the page's session ends,
its uploads are deleted (in a thread: it reads which jobs still need them).
"""

from __future__ import annotations

import threading
from pathlib import Path

import panel as pn
import param

from fedimpute.exceptions import FedImputeError, UsageError
from fedimpute.ui.components._notes import note
from fedimpute.ui.components.preflight_view import PreflightView
from fedimpute.ui.components.uploader import StreamingDropper
from fedimpute.ui.settings import MIB
from fedimpute.ui.state import SubmissionState
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.text import safe_html
from fedimpute.ui.uploads import UploadRefusedError

__all__ = ["SubmitForm"]

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
        self._stale_dropper = False  # a refusal: replace the drop area once no upload is running
        self._drop_slot = pn.Column(self._new_dropper(), sizing_mode="stretch_width", margin=0)
        self._clear = pn.widgets.Button(label="Remove all files", color="default")
        self._clear.on_click(self._on_clear)
        self._picked = pn.widgets.MultiSelect(label="Files in your data folder on the server", options=[],
                                              size=8, sizing_mode="stretch_width")
        sub.param.watch(lambda e: setattr(self._picked, "options", list(e.new)), "data_choices")
        self._add_picked = pn.widgets.Button(label="Add the selected files", color="default")
        self._add_picked.on_click(self._on_add_picked)
        served = bool(pn.state.curdoc and pn.state.curdoc.session_context)
        if served:
            pn.state.on_session_destroyed(self._session_ended)
        if self._has_data_folder:
            if served:
                sub.hub_state.soon(sub.refresh_data_choices)
            else:
                sub.data_choices = sub.inputs.data.listing()
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
                                                "upload_progress", "terms", "terms_errors", "accept_terms",
                                                "uploading"])
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

    # -- input files -------------------------------------------------------------------------

    def _new_dropper(self) -> StreamingDropper:
        return StreamingDropper(self._on_chunk, self._on_remove, multiple=True, label="Input files",
                                sizing_mode="stretch_width", height=120)

    def _on_chunk(self, name: str, index: int, total: int, data: bytes, chunk_size: int) -> Path | None:
        """A chunk from the browser; once every upload is in, the pre-flight check runs."""
        sub = self.submission
        try:
            path = sub.receive_chunk(name, index, total, data, chunk_size)
        except UploadRefusedError:
            self._stale_dropper = True
            raise
        finally:
            if self._stale_dropper and not sub.uploading:
                self._replace_dropper()
        if path is not None and not sub.uploading:
            sub.hub_state.soon(sub.run_preflight)
        return path

    def _replace_dropper(self) -> None:
        """A new drop area: the old one's model leaves the page, so its browser side sends nothing more."""
        self._stale_dropper = False
        self._drop_slot.objects = [self._new_dropper()]

    def _on_remove(self, name: str) -> None:
        self.submission.remove_upload(name)

    def _on_clear(self, _event) -> None:
        self.submission.clear_files()
        self._replace_dropper()

    async def _on_add_picked(self, _event) -> None:
        try:
            self.submission.add_data_files(list(self._picked.value))
        except UsageError as exc:
            self.submission.message = str(exc)
            return
        self._picked.value = []
        await self.submission.run_preflight()

    @property
    def _has_data_folder(self) -> bool:
        return self.submission.inputs.data is not None and self.submission.inputs.data.available

    def _session_ended(self, _context) -> None:
        threading.Thread(target=self.submission.release_staging, name="fedimpute-staging", daemon=True).start()

    def _inputs(self) -> pn.Column:
        limits = self.submission.inputs.limits
        hint = safe_html("<small>Uploads go to the server: at most {file} MiB per file, {count} files and {total} "
                         "MiB per submission.</small>", file=f"{limits.file_bytes // MIB:,}",
                         count=limits.submission_files, total=f"{limits.submission_bytes // MIB:,}")
        files = pn.bind(lambda fs: safe_html("files: {names}", names=", ".join(f.name for f in fs) or "none yet"),
                        self.submission.param.files)
        parts: list = [pn.pane.HTML(hint, margin=(0, 10)), self._drop_slot,
                       note(self.submission.param.upload_error, kind="error")]
        if self._has_data_folder:
            parts += [self._picked, self._add_picked]
        parts.append(pn.Row(pn.pane.HTML(files), self._clear))
        return pn.Column(*parts, sizing_mode="stretch_width")

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
        return pn.Column(
            "## Submit a job",
            self._inputs(),
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
