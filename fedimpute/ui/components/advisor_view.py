"""AdvisorView: which service and panel suit this cohort, before spending days on the wrong one.

The user adds the cohort's files (a drop area streaming to the server's disk, as in the Submit form,
whose files these are; or files of their data folder), chooses the candidate panels, runs the
advisor, and sees the ranking (every number behind it, the reasons as text), the overlap of each
20 Mb chunk per panel and the cohort's allele frequencies against each panel's.  "Use this panel"
pre-fills the Submit form with the chosen pair and opens it.  Service text is shown escaped.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
import param

from fedimpute.ui.components._notes import note
from fedimpute.ui.components.uploader import StreamingDropper
from fedimpute.ui.state.advisor import AdvisorState
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.state.submission import SubmissionState
from fedimpute.ui.tables import make_table, update_table
from fedimpute.ui.text import safe_html
from fedimpute.ui.uploads import UploadRefusedError

__all__ = ["AdvisorState", "AdvisorView"]

COMMAND_CSS = ".fi-command {font-family: monospace; background: #f5f5f5; padding: 6px 10px; white-space: pre-wrap;}"


def _advisor_for(state) -> AdvisorState:
    return AdvisorState(hub_state=state, submission=SubmissionState(hub_state=state))


class AdvisorView(pn.viewable.Viewer):
    """The Advisor page; ``open_submit`` switches the dashboard to the (pre-filled) Submit view."""

    advisor = param.ClassSelector(class_=AdvisorState)

    def __init__(self, open_submit: Callable[[], None] | None = None, **params) -> None:
        super().__init__(**with_default(params, "advisor", _advisor_for))
        adv, sub = self.advisor, self.advisor.submission
        self._open_submit = open_submit
        self._drop_slot = pn.Column(self._new_dropper(), sizing_mode="stretch_width", margin=0)
        self._picked = pn.widgets.MultiSelect(label="Files in your data folder on the server", options=[], size=6,
                                              sizing_mode="stretch_width")
        sub.param.watch(lambda e: setattr(self._picked, "options", list(e.new)), "data_choices")
        self._add_picked = pn.widgets.Button(label="Add the selected files", color="default")
        self._add_picked.on_click(self._on_add_picked)
        self._run = pn.widgets.Button(label="Run the advisor", color="primary")
        self._run.on_click(self._on_run)
        self._use = pn.widgets.Button(label="Use this panel", color="success", disabled=True)
        self._use.on_click(self._on_use)
        self._table = make_table(adv.ranking, multiline=("reasons",), sizing_mode="stretch_width")
        self._plots = pn.Column(sizing_mode="stretch_width")
        self._ready = pn.pane.HTML("", sizing_mode="stretch_width")
        adv.param.watch(self._show_advice, "advice")
        adv.param.watch(self._update_controls, ["candidates", "running", "choice"])
        sub.param.watch(self._update_controls, ["files", "uploading"])
        self._update_controls()
        if sub.inputs.data is not None and sub.inputs.data.available and not sub.data_choices:
            sub.data_choices = sub.inputs.data.listing()
        adv.hub_state.soon(adv.load_candidates)

    # -- inputs ------------------------------------------------------------------------------

    def _new_dropper(self) -> StreamingDropper:
        return StreamingDropper(self._on_chunk, self.advisor.submission.remove_upload, multiple=True,
                                label="The cohort's VCF files", sizing_mode="stretch_width", height=110)

    def _on_chunk(self, name: str, index: int, total: int, data: bytes, chunk_size: int):
        sub = self.advisor.submission
        try:
            return sub.receive_chunk(name, index, total, data, chunk_size)
        except UploadRefusedError:
            if not sub.uploading:
                self._drop_slot.objects = [self._new_dropper()]
            raise

    async def _on_add_picked(self, _event) -> None:
        try:
            self.advisor.submission.add_data_files(list(self._picked.value))
        except Exception as exc:  # a path outside the data folder: said, not raised into the page
            self.advisor.message = str(exc)
            return
        self._picked.value = []

    def _inputs(self) -> pn.Column:
        sub = self.advisor.submission
        files = pn.bind(lambda fs: safe_html("cohort files: {names}", names=", ".join(f.name for f in fs)
                                             or "none yet"), sub.param.files)
        parts: list = [self._drop_slot, note(sub.param.upload_error, kind="error")]
        if sub.inputs.data is not None and sub.inputs.data.available:
            parts += [self._picked, self._add_picked]
        parts.append(pn.pane.HTML(files))
        return pn.Column(*parts, sizing_mode="stretch_width")

    def _options(self) -> pn.Column:
        p = self.advisor.param
        return pn.Column(
            pn.widgets.MultiChoice.from_param(p.candidates, label="Candidate panels (service/panel)"),
            pn.Row(pn.widgets.TextInput.from_param(p.population, label="Population (optional)"),
                   pn.widgets.Select.from_param(p.build, label="Build"),
                   pn.widgets.Checkbox.from_param(p.remote, label="Also ask the Cloudgene servers (QC-only jobs)")),
            sizing_mode="stretch_width")

    # -- actions -------------------------------------------------------------------------------

    def _update_controls(self, *_events) -> None:
        adv = self.advisor
        blockers = adv.blockers
        self._run.disabled = bool(blockers)
        self._use.disabled = adv.advice is None or not adv.choice or adv.running
        self._ready.object = safe_html("<i>{text}</i>", text=("before running: " + "; ".join(blockers))
                                       if blockers else "ready")

    async def _on_run(self, _event) -> None:
        await self.advisor.run()

    async def _on_use(self, _event) -> None:
        if await self.advisor.use_choice() and self._open_submit is not None:
            self._open_submit()

    def _show_advice(self, _event) -> None:
        from fedimpute.advise.plots import af_scatter, overlap_by_chunk

        adv = self.advisor
        update_table(self._table, adv.ranking)
        if adv.advice is None:
            self._plots.objects = []
            return
        self._plots.objects = [pn.Row(pn.pane.HoloViews(overlap_by_chunk(adv.advice)),
                                      pn.pane.HoloViews(af_scatter(adv.advice)), sizing_mode="stretch_width")]
        self._update_controls()

    def __panel__(self):
        adv = self.advisor
        command = pn.pane.HTML(pn.bind(lambda text: safe_html('<div class="fi-command">{text}</div>', text=text)
                                       if text else "", adv.param.command), stylesheets=[COMMAND_CSS],
                               sizing_mode="stretch_width")
        return pn.Column(
            "## Panel advisor",
            pn.pane.HTML("<small>Which service and reference panel suit this cohort: overlap, strand flips, allele "
                         "switches and allele frequencies against each panel, and the expected R² of its common "
                         "variants. Nothing is imputed.</small>"),
            self._inputs(), self._options(), pn.Row(self._run, self._ready),
            note(adv.param.progress), note(adv.param.message),
            self._table, self._plots,
            pn.Row(pn.widgets.Select.from_param(adv.param.choice, label="Submit with"), self._use),
            command,
            sizing_mode="stretch_width",
        )
