"""SubmissionState: files, services, panel and options of a new job, and its pre-flight report.

The submit button's rule lives here (:attr:`blockers`): files, at least one service, a panel,
and a pre-flight report for exactly these inputs with no failing check.  Changing any input
the report depends on drops the report, so a stale "ok" can never enable submission.

Services whose app declares terms (Cloudgene's ``terms_checkbox`` params) ask before a user's
first job there: the form shows the terms, the user ticks "I accept", and the acceptance is
recorded per user, service and version of the terms (their SHA-256) when the job is submitted.
The terms are read again at submission, so a changed text is asked for again.
Uploaded files are written under ``FEDIMPUTE_HOME/uploads/<user>/``; jobs are recorded for
the signed-in user.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from pathlib import Path

import pandas as pd
import param

from fedimpute.exceptions import FedImputeError
from fedimpute.models import Job, ReferencePanel
from fedimpute.preflight import check_files, run_preflight_for_submit
from fedimpute.services import adapter_class
from fedimpute.services.base import SubmitOptions, terms_digest
from fedimpute.ui.options import OPTION_NAMES, default_choices, discover_choices, merge_choices
from fedimpute.ui.state.hub import HubState

__all__ = ["DEFAULT", "TERMS_TIMEOUT", "SubmissionState"]

log = logging.getLogger(__name__)
#: The option value meaning "let the service choose" (not sent).
DEFAULT = ""
DEFAULT_LABEL = "(service default)"
CHECK_COLUMNS = ["service", "file", "check", "status", "message", "fix"]
_REPORT_INPUTS = ("files", "services", "build", "phasing")
#: Seconds a service has to answer when its terms are read.
TERMS_TIMEOUT = 20.0


def _safe_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text).strip("._") or "x"


class SubmissionState(param.Parameterized):
    """The submission form's model; :meth:`run_preflight`, then :meth:`submit`."""

    hub_state = param.ClassSelector(class_=HubState, constant=True)
    files = param.List(default=[], item_type=Path, doc="Input files on the server (uploaded here).")
    services = param.ListSelector(default=[], objects=[], doc="One service, or several to fan out.")
    panel = param.Selector(default=None, objects=[], allow_None=True, doc="Panel id offered by every service.")
    population = param.Selector(default=DEFAULT, objects={DEFAULT_LABEL: DEFAULT})
    build = param.Selector(default=DEFAULT, objects={DEFAULT_LABEL: DEFAULT})
    phasing = param.Selector(default=DEFAULT, objects={DEFAULT_LABEL: DEFAULT})
    r2_filter = param.Selector(default=DEFAULT, objects={DEFAULT_LABEL: DEFAULT})
    mode = param.Selector(default=DEFAULT, objects={DEFAULT_LABEL: DEFAULT})
    job_name = param.String(default="", doc="Optional job name (shown as text everywhere).")
    reports = param.Dict(default={}, doc="Service (or '') -> PreflightReport for the current inputs.")
    checks = param.DataFrame(default=pd.DataFrame(columns=CHECK_COLUMNS), doc="The reports as rows.")
    preflight_error = param.String(default="")
    checking = param.Boolean(default=False)
    submitting = param.Boolean(default=False)
    upload_progress = param.Integer(default=0, bounds=(0, 100), doc="Upload to the service, percent.")
    submitted = param.List(default=[], item_type=Job, doc="Jobs submitted from this form.")
    message = param.String(default="")
    terms = param.Dict(default={}, doc="Service -> its terms the user has not accepted yet ([]: none to accept).")
    terms_errors = param.Dict(default={}, doc="Service -> why its terms could not be read.")
    accept_terms = param.Boolean(default=False, doc="The user ticked: I accept the terms shown.")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._sync_services()
        self.hub_state.param.watch(self._catalogue_changed, ["services", "panels"])

    def _catalogue_changed(self, *_events) -> None:
        self._sync_services()
        self._sync_panels()

    # -- choices -------------------------------------------------------------------------------

    def _sync_services(self) -> None:
        self.param.services.objects = [s.name for s in self.hub_state.services if s.enabled]
        kept = [s for s in self.services if s in self.param.services.objects]
        if kept != self.services:
            self.services = kept

    def _panels_of(self, service: str) -> list[ReferencePanel]:
        return [p for p in self.hub_state.panels if p.service == service]

    def _sync_panels(self) -> None:
        """Panels offered by every selected service (a fan-out sends one panel id to all)."""
        if not self.services:
            self.param.panel.objects = []
        else:
            first, *rest = self.services
            common = [p for p in self._panels_of(first)
                      if all(any(q.panel_id == p.panel_id for q in self._panels_of(s)) for s in rest)]
            self.param.panel.objects = {f"{p.name} ({p.panel_id})": p.panel_id for p in common}
        if self.panel not in self.panel_ids:
            self.panel = next(iter(self.panel_ids), None)
        self._sync_populations()

    @property
    def panel_ids(self) -> list[str]:
        """Panel ids the form offers now."""
        objects = self.param.panel.objects
        return [p for p in (objects.values() if isinstance(objects, dict) else objects) if p is not None]

    def selected_panel(self) -> ReferencePanel | None:
        if not self.panel or not self.services:
            return None
        return next((p for p in self._panels_of(self.services[0]) if p.panel_id == self.panel), None)

    def _sync_populations(self) -> None:
        panel = self.selected_panel()
        pops = {(f"{p.label} ({p.id})" if p.label != p.id else p.id): p.id
                for p in (panel.populations if panel else [])}
        self.param.population.objects = {DEFAULT_LABEL: DEFAULT, **pops}
        if self.population not in pops.values():
            self.population = DEFAULT

    def set_choices(self, choices: dict[str, list[str]]) -> None:
        """Offer ``choices`` (option -> values); a value no longer offered falls back to the default."""
        for option in OPTION_NAMES:
            values = choices.get(option, [])
            self.param[option].objects = {DEFAULT_LABEL: DEFAULT, **{v: v for v in values}}
            if getattr(self, option) not in (DEFAULT, *values):
                setattr(self, option, DEFAULT)
        panel = self.selected_panel()
        if panel and panel.build in choices.get("build", []):
            self.build = panel.build

    @param.depends("services", watch=True)
    def _services_changed(self) -> None:
        configs = {s.name: s for s in self.hub_state.services}
        self.set_choices(merge_choices([default_choices(configs[n]) for n in self.services if n in configs]))
        self._sync_panels()

    @param.depends("panel", watch=True)
    def _panel_changed(self) -> None:
        """A new panel brings its populations, and its build as the default build."""
        self._sync_populations()
        panel = self.selected_panel()
        if panel and panel.build and panel.build in self.param.build.objects.values():
            self.build = panel.build

    async def discover_options(self) -> None:
        """Read the selected services' schemas and panels (network); keep defaults where that fails."""
        configs = {s.name: s for s in self.hub_state.services}
        missing = [n for n in self.services if not self._panels_of(n)]
        if missing:
            await self.hub_state.discover_panels(missing)
        per_service, notes = [], []
        for name in list(self.services):
            try:
                reading = discover_choices(self.hub_state.hub, configs[name], self.hub_state.user)
                per_service.append(await asyncio.wait_for(reading, 20))
            except (TimeoutError, FedImputeError) as exc:
                notes.append(f"could not read the options of {name} ({exc or 'timeout'}); showing the usual ones")
                per_service.append(default_choices(configs[name]))
        self.set_choices(merge_choices(per_service))
        if notes:
            self.message = "; ".join(notes)

    # -- files ---------------------------------------------------------------------------------

    def add_uploads(self, uploads: dict[str, bytes]) -> list[Path]:
        """Write browser uploads under ``HOME/uploads/<user>/<batch>/`` and use them as the input files."""
        folder = (self.hub_state.store.home / "uploads" / _safe_part(self.hub_state.user)
                  / secrets.token_hex(4))
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        paths = []
        for name, data in uploads.items():
            path = folder / _safe_part(Path(name).name)
            path.write_bytes(data)
            paths.append(path)
        self.files = paths
        return paths

    # -- the pre-flight check ------------------------------------------------------------------

    @param.depends(*_REPORT_INPUTS, watch=True)
    def _inputs_changed(self) -> None:
        if self.reports or self.preflight_error:
            self.param.update(reports={}, checks=self.param.checks.default, preflight_error="")

    def _check_targets(self) -> list:
        configs = {s.name: s for s in self.hub_state.services}
        return [configs[n] for n in self.services if n in configs] or [None]

    def _report_key(self) -> tuple:
        return tuple(self.files), tuple(self.services), self.build, self.phasing

    async def run_preflight(self) -> None:
        """Check the files for every selected service, as ``submit`` would (in a thread: large files
        take seconds).  A report whose inputs changed meanwhile is dropped, never shown as current."""
        if not self.files:
            return
        key = self._report_key()
        self.checking = True
        try:
            reports = {}
            for service in self._check_targets():
                reports[service.name if service else ""] = await asyncio.to_thread(self._check, service)
        except FedImputeError as exc:
            outcome = {"reports": {}, "checks": self.param.checks.default, "preflight_error": str(exc)}
        else:
            outcome = {"reports": reports, "checks": _check_rows(reports), "preflight_error": ""}
        finally:
            self.checking = False
        if key == self._report_key():
            self.param.update(**outcome)

    def _check(self, service):
        """The CLI's rule: with a service, an unset build is the server's default (hg19)."""
        files, phasing = list(self.files), self.phasing or None
        if service is None:
            return check_files(files, build=self.build or "auto", phasing=phasing)
        return run_preflight_for_submit(files, service, build=self.build or None, phasing=phasing)

    # -- the services' terms ---------------------------------------------------------------------

    def _declares_terms(self, name: str) -> bool:
        config = next((s for s in self.hub_state.services if s.name == name), None)
        try:
            return config is not None and adapter_class(config.protocol).declares_terms
        except FedImputeError:
            return False

    @property
    def pending_terms(self) -> dict[str, list[str]]:
        """Selected services whose terms the user has yet to accept, with the texts to show."""
        return {s: self.terms[s] for s in self.services if self.terms.get(s)}

    async def load_terms(self) -> None:
        """Read the terms of the selected services that declare some (the Hub's thread) and which
        versions the user accepted (a worker thread); a changed set of terms to accept un-ticks the box."""
        names = [s for s in self.services if self._declares_terms(s)]
        if not names:
            return
        hub, user = self.hub_state.hub, self.hub_state.user

        async def read(name: str) -> list[str]:
            async with hub.adapter(name, token=hub.acting_token(name, user or None)) as adapter:
                return await adapter.terms()

        results = await self.hub_state.run_hub(lambda: asyncio.gather(
            *(asyncio.wait_for(read(n), TERMS_TIMEOUT) for n in names), return_exceptions=True))
        accepted = await self.hub_state.in_thread(self.hub_state.store.accepted_terms, user)
        terms, errors = dict(self.terms), dict(self.terms_errors)
        for name, result in zip(names, results, strict=True):
            errors.pop(name, None)
            if isinstance(result, BaseException):
                if not isinstance(result, (TimeoutError, FedImputeError)):
                    raise result
                terms.pop(name, None)
                errors[name] = str(result) or f"no answer within {TERMS_TIMEOUT:.0f} s"
            else:
                terms[name] = [] if (name, terms_digest(result)) in accepted else list(result)
        before = self.pending_terms
        self.param.update(terms=terms, terms_errors=errors)
        if self.pending_terms != before:
            self.accept_terms = False

    def _terms_blockers(self) -> list[str]:
        reasons = []
        for name in self.services:
            if name in self.terms_errors:
                reasons.append(f"could not read the terms of {name} ({self.terms_errors[name]}): choose the "
                               "service again once it answers")
            elif self._declares_terms(name) and name not in self.terms:
                reasons.append(f"wait for the terms of {name}")
        pending = self.pending_terms
        if pending and not self.accept_terms:
            reasons.append(f"accept the terms of {', '.join(pending)}")
        return reasons

    async def _record_terms(self, pending: dict[str, list[str]]) -> None:
        store, user = self.hub_state.store, self.hub_state.user

        def record() -> None:
            for name, texts in pending.items():
                store.accept_terms(user, name, terms_digest(texts))

        await self.hub_state.in_thread(record)
        self.param.update(terms={**self.terms, **dict.fromkeys(pending, [])}, accept_terms=False)

    # -- submission ----------------------------------------------------------------------------

    @property
    def blockers(self) -> list[str]:
        """Why the form cannot be submitted yet (empty: it can)."""
        return self._input_blockers() + self._terms_blockers()

    def _input_blockers(self) -> list[str]:
        reasons = []
        if not self.files:
            reasons.append("add input files (.vcf.gz)")
        if not self.services:
            reasons.append("choose a service")
        if not self.panel:
            reasons.append("choose a reference panel")
        if not self.reports:
            reasons.append("run the pre-flight check")
        elif not all(r.ok for r in self.reports.values()):
            reasons.append("fix the failing pre-flight checks")
        if self.checking or self.submitting:
            reasons.append("wait for the current step")
        return reasons

    def options(self) -> SubmitOptions:
        return SubmitOptions(panel=self.panel, build=self.build or None, population=self.population or None,
                             phasing=self.phasing or None, r2_filter=self.r2_filter or None,
                             mode=self.mode or None, name=self.job_name.strip() or None)

    def _progress(self, *args) -> None:
        done, total = args[-2], args[-1]
        self.upload_progress = min(100, int(100 * done / total)) if total else 0

    async def submit(self) -> list[Job]:
        """Record and send the job (one per service) for the signed-in user; returns the jobs.  The
        terms are read again first: the user accepts what the service says now."""
        if not self._input_blockers():
            await self.load_terms()
        if self.blockers:
            self.message = "cannot submit yet: " + "; ".join(self.blockers)
            return []
        hub, owner = self.hub_state.hub, self.hub_state.user
        self.param.update(submitting=True, upload_progress=0, message="")
        try:
            if pending := self.pending_terms:
                await self._record_terms(pending)
            files, services, options, reports = list(self.files), list(self.services), self.options(), self.reports
            # the check shown in the form is the one submit relies on (same files, same services); served,
            # the Hub runs off the page's event loop (its store calls may wait for another process's lock)
            if len(services) > 1:
                parent, _ = await self.hub_state.run_hub(lambda: hub.submit_many(
                    files, services, options, owner=owner, reports=reports, progress=self._progress))
                jobs = [parent]
            else:
                jobs = [await self.hub_state.run_hub(lambda: hub.submit(
                    files, services[0], options, owner=owner, reports=reports, progress=self._progress))]
        except FedImputeError as exc:
            self.message = f"submission failed: {exc}"
            return []
        finally:
            self.submitting = False
        self.param.update(submitted=[*self.submitted, *jobs], upload_progress=100,
                          message="submitted " + ", ".join(f"{j.job_id} ({j.status.value})" for j in jobs))
        self.hub_state.selected_job_id = jobs[0].job_id
        return jobs


def _check_rows(reports: dict) -> pd.DataFrame:
    rows = [[service, Path(f.path).name, c.id, c.status.value, c.message, c.fix or ""]
            for service, report in reports.items() for f in report.files for c in f.checks]
    frame = pd.DataFrame(rows, columns=CHECK_COLUMNS)
    order = {"fail": 0, "warn": 1, "pass": 2}
    return frame.sort_values("status", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
