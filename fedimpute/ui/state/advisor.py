"""AdvisorState: the panel advisor for one dashboard session, sharing the Submit form's files.

The cohort's files are the submission form's (:class:`SubmissionState`: uploaded into its staging
batch, or picked from the user's data folder), so "use this panel" only has to choose the service,
panel, build and population there (:meth:`SubmissionState.prefill`) and the Submit view shows a
form ready for its pre-flight check.  Candidates are the (service, panel) pairs the advisor can
judge (:func:`fedimpute.advise.find_candidates`); the advice runs off the page's event loop
(:meth:`HubState.run_hub`: the cohort is read in a worker thread, remote QC jobs are Hub requests).
"""

from __future__ import annotations

import logging

import pandas as pd
import param

from fedimpute.advise import Advice, Candidate, advise_async, find_candidates
from fedimpute.exceptions import FedImputeError
from fedimpute.ui.state.hub import HubState
from fedimpute.ui.state.submission import SubmissionState

__all__ = ["RANKING_COLUMNS", "AdvisorState", "ranking_frame"]

log = logging.getLogger(__name__)
RANKING_COLUMNS = ["rank", "service", "panel", "expected R²", "overlap", "strand flips", "allele switches", "AF r",
                   "excluded chunks", "evidence", "reasons"]
BUILDS = {"detect": "auto", "hg19": "hg19", "hg38": "hg38"}


def _fmt(value, spec: str) -> str:
    return "" if value is None else format(value, spec)


def ranking_frame(advice: Advice | None) -> pd.DataFrame:
    """The ranking as a table (text cells: every reason is shown escaped)."""
    if advice is None:
        return pd.DataFrame(columns=RANKING_COLUMNS)
    rows = [[str(i), r.service, r.panel_id, _fmt(r.expected_r2, ".3f"), _fmt(r.overlap, ".1%"),
             _fmt(r.strand_flips, ","), _fmt(r.allele_switches, ","), _fmt(r.af_correlation, ".3f"),
             _fmt(r.excluded_chunks, "d"), ("+".join(k for k in ("local", "remote") if getattr(r, k) is not None)
                                           or "none") + (" (refused)" if r.blocked else ""), "\n".join(r.reasons)]
            for i, r in enumerate(advice.ranking, start=1)]
    return pd.DataFrame(rows, columns=RANKING_COLUMNS)


class AdvisorState(param.Parameterized):
    """Which candidates to judge, the advice, and the user's choice of panel."""

    hub_state = param.ClassSelector(class_=HubState, constant=True)
    submission = param.ClassSelector(class_=SubmissionState, constant=True, doc="The Submit form (files, prefill).")
    candidates = param.ListSelector(default=[], objects=[], doc="Chosen 'service/panel' pairs to judge.")
    population = param.String(default="", doc="Compare with this population's frequencies (optional).")
    build = param.Selector(default="auto", objects=BUILDS)
    remote = param.Boolean(default=False, doc="Also run QC-only jobs on the Cloudgene services.")
    running = param.Boolean(default=False)
    progress = param.String(default="")
    message = param.String(default="")
    advice = param.Parameter(default=None, doc="The last Advice (fedimpute.advise.ranking.Advice).")
    ranking = param.DataFrame(default=pd.DataFrame(columns=RANKING_COLUMNS))
    choice = param.Selector(default=None, objects=[], allow_None=True, doc="The ranked pair to submit with.")
    command = param.String(default="", doc="The `fedimpute submit` command for the choice.")
    used = param.Integer(default=0, doc="Counts 'use this panel' clicks: the view switches to Submit.")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._candidates: dict[str, Candidate] = {}

    async def load_candidates(self) -> None:
        """The pairs the advisor can judge now (store and files: a worker thread), with the Cloudgene services'
        cached panels when the remote QC is on; all chosen by default."""
        hub_state = self.hub_state
        try:
            found = await hub_state.in_thread(lambda: find_candidates(hub_state.store, remote=self.remote))
        except FedImputeError as exc:
            self.message = f"could not list the candidate panels: {exc}"
            return
        self._candidates = {f"{c.service}/{c.panel_id}": c for c in found}
        labels = list(self._candidates)
        self.param.candidates.objects = labels
        self.candidates = [c for c in self.candidates if c in labels] or labels
        if not labels:
            self.message = ("no panel's sites are known here yet: register them with `fedimpute panels add-sites "
                            "SERVICE PANEL_ID FILE`, add panels to the local engine, or tick the remote QC (the "
                            "Cloudgene services' panels, once the Panels page has read them)")

    @param.depends("remote", watch=True)
    def _remote_changed(self) -> None:
        self.hub_state.soon(self.load_candidates)

    @property
    def blockers(self) -> list[str]:
        reasons = []
        if not self.submission.files:
            reasons.append("add the cohort's files")
        if not self.candidates:
            reasons.append("choose at least one candidate panel")
        if self.submission.uploading:
            reasons.append("wait for the uploads to finish")
        if self.running:
            reasons.append("wait for the advice under way")
        return reasons

    async def run(self) -> Advice | None:
        """Advise on the form's files for the chosen candidates; the ranking and the choice follow."""
        if self.blockers:
            self.message = "cannot advise yet: " + "; ".join(self.blockers)
            return None
        files, pairs = list(self.submission.files), [self._candidates[c].key for c in self.candidates
                                                     if c in self._candidates]
        hub_state, population, build, remote = self.hub_state, self.population.strip() or None, self.build, self.remote
        self.param.update(running=True, message="", progress="reading the cohort ...")
        try:
            advice = await hub_state.run_hub(lambda: advise_async(
                files, pairs=pairs, build=build, population=population, remote=remote, hub=hub_state.hub,
                owner=hub_state.user or None, progress=None if hub_state.offload else self._report))
        except FedImputeError as exc:
            self.param.update(running=False, progress="", message=f"advice failed: {exc}")
            return None
        finally:
            self.running = False
        labels = [f"{r.service}/{r.panel_id}" for r in advice.ranking]
        self.param.choice.objects = labels
        best = advice.best
        self.param.update(advice=advice, ranking=ranking_frame(advice), progress="",
                          choice=f"{best.service}/{best.panel_id}" if best else (labels[0] if labels else None),
                          message=f"best: {best.service}/{best.panel_id} (expected R² {best.expected_r2:.3f})"
                          if best else "no panel can be recommended: see the reasons")
        return advice

    def _report(self, text: str) -> None:
        """Progress lines, in notebooks only: a served page's advice runs in another thread, whose
        parameter changes would not reach the browser safely."""
        self.progress = text

    @param.depends("choice", "advice", watch=True)
    def _command(self) -> None:
        row = self._row(self.choice)
        self.command = (self.advice.submit_command(row) or "") if self.advice is not None and row else ""

    def _row(self, label: str | None):
        if self.advice is None or not label:
            return None
        return next((r for r in self.advice.ranking if f"{r.service}/{r.panel_id}" == label), None)

    async def use_choice(self) -> bool:
        """Pre-fill the Submit form with the chosen pair (its panels read first when the form lacks them) and
        start its pre-flight check for that service."""
        row = self._row(self.choice)
        if row is None:
            self.message = "run the advisor and choose a panel first"
            return False
        hub_state = self.hub_state
        if not any(p.service == row.service and p.panel_id == row.panel_id for p in hub_state.panels):
            await hub_state.discover_panels([row.service])
        self.submission.prefill(service=row.service, panel=row.panel_id, build=self.advice.build,
                                population=self.advice.population)
        if self.submission.panel != row.panel_id:
            self.message = f"the Submit form does not offer {row.service}/{row.panel_id}: choose it there"
        self.used += 1
        hub_state.soon(self.submission.run_preflight)  # the form opens with its check under way
        return True
