"""SubmissionState: files, services, panel and options of a new job, and its pre-flight report.

The submit button's rule lives here (:attr:`blockers`): files, at least one service, a panel,
and a pre-flight report for exactly these inputs with no failing check.  Changing any input
the report depends on drops the report, so a stale "ok" can never enable submission.

Services whose app declares terms (Cloudgene's ``terms_checkbox`` params) ask before a user's
first job there: the form shows the terms, the user ticks "I accept", and the acceptance is
recorded per user, service and version of the terms (their SHA-256) when the job is submitted.
The terms are read again at submission, so a changed text is asked for again.

Input files come from the browser, streamed chunk by chunk into this form's staging batch
(``FEDIMPUTE_HOME/uploads/<user>/<batch>/``, within the server's limits), or from the user's data
folder when the server has one (``serve --data-root``); see :mod:`fedimpute.ui.uploads`.  Served,
a file from anywhere else is refused at submission, whatever the widgets sent.  The batch is
deleted once its jobs are submitted (kept for the monitor while one waits to be sent) and when
the page's session ends.  Jobs are recorded for the signed-in user.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pandas as pd
import param

from fedimpute.exceptions import FedImputeError, UsageError
from fedimpute.models import Job, ReferencePanel
from fedimpute.preflight import check_files, run_preflight_for_submit
from fedimpute.services import adapter_class
from fedimpute.services.base import SubmitOptions, terms_digest
from fedimpute.ui.options import OPTION_NAMES, default_choices, discover_choices, merge_choices
from fedimpute.ui.settings import DashboardSettings
from fedimpute.ui.state.hub import HubState
from fedimpute.ui.uploads import InputFiles, UploadRefusedError

__all__ = ["DEFAULT", "TERMS_TIMEOUT", "SubmissionState"]

log = logging.getLogger(__name__)
#: The option value meaning "let the service choose" (not sent).
DEFAULT = ""
DEFAULT_LABEL = "(service default)"
CHECK_COLUMNS = ["service", "file", "check", "status", "message", "fix"]
_REPORT_INPUTS = ("files", "services", "build", "phasing")
#: Seconds a service has to answer when its terms are read.
TERMS_TIMEOUT = 20.0


class SubmissionState(param.Parameterized):
    """The submission form's model; :meth:`run_preflight`, then :meth:`submit`."""

    hub_state = param.ClassSelector(class_=HubState, constant=True)
    files = param.List(default=[], item_type=Path, doc="Input files on the server (uploaded here, or picked "
                       "from the user's data folder).")
    data_choices = param.List(default=[], item_type=str, doc="Files of the user's data folder (relative paths).")
    uploading = param.Integer(default=0, doc="Browser uploads still arriving.")
    upload_error = param.String(default="", doc="Why the last browser upload was refused (names the limit).")
    restrict_inputs = param.Boolean(default=None, allow_None=True, doc="Submit only this form's uploads and "
                                    "data-folder files (default: on for served pages).")
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
        settings = DashboardSettings.from_env()
        self.inputs = InputFiles(self.hub_state.store.home, self.hub_state.user, settings.uploads,
                                 settings.data_root)
        if self.restrict_inputs is None:
            self.restrict_inputs = self.hub_state.offload
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

    def prefill(self, *, service: str, panel: str, build: str | None = None, population: str | None = None) -> None:
        """Choose what the panel advisor recommends (its view shares this form's files); a value the form
        does not offer stays at its default, so the user sees what is left to choose."""
        self.services = [service]
        if panel in self.panel_ids:
            self.panel = panel
        if build and build in self.param.build.objects.values():
            self.build = build
        if population and population in self.param.population.objects.values():
            self.population = population

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

    def _use(self, paths: list[Path]) -> None:
        """Add ``paths`` to the input files (a file added again keeps one entry)."""
        self.files = [f for f in self.files if f not in paths] + paths

    def receive_chunk(self, name: str, index: int, total: int, data: bytes, chunk_size: int) -> Path | None:
        """One chunk of a browser upload, written to the batch at once; the file is an input once its
        last chunk is in.  A refusal (UploadRefusedError) is also kept in :attr:`upload_error`."""
        try:
            path = self.inputs.batch.receive(name, index, total, data, chunk_size)
        except UploadRefusedError as exc:
            self.upload_error = str(exc)
            raise
        finally:
            if self.uploading != len(self.inputs.batch.in_flight):
                self.uploading = len(self.inputs.batch.in_flight)
        if path is not None:
            self.upload_error = ""
            self._use([path])
        return path

    def add_uploads(self, uploads: dict[str, bytes | str]) -> list[Path]:
        """Whole files at once (notebooks, tests), into the same batch and within the same limits."""
        paths = [self.inputs.batch.write_whole(name, data.encode() if isinstance(data, str) else data)
                 for name, data in uploads.items()]
        self._use(paths)
        return paths

    def remove_upload(self, name: str) -> None:
        """The browser took an upload back (or never finished it): delete it."""
        path = self.inputs.batch.remove(name)
        self.param.update(files=[f for f in self.files if f != path], uploading=len(self.inputs.batch.in_flight))

    def clear_files(self) -> None:
        """Drop every input file; this form's uploads are deleted."""
        self.inputs.release(set())
        self.param.update(files=[], uploading=0)

    async def refresh_data_choices(self) -> None:
        """List the user's data folder (a worker thread: a big folder takes a while)."""
        if self.inputs.data is not None:
            self.data_choices = await asyncio.to_thread(self.inputs.data.listing)

    def add_data_files(self, relative: list[str]) -> list[Path]:
        """Use files of the user's data folder, by path relative to it (checked again at submission)."""
        if self.inputs.data is None:
            raise UsageError("this server has no data folders (serve --data-root DIR)")
        paths = [self.inputs.data.resolve(r) for r in relative]
        self._use(paths)
        return paths

    def release_staging(self) -> None:
        """The page's session ended: delete its uploads unless a job still needs them (see InputFiles)."""
        self.inputs.release_checked(self.hub_state.store, sending=self.submitting)

    async def _release_after_submit(self) -> None:
        await self.hub_state.in_thread(self.inputs.release_checked, self.hub_state.store)
        self.param.update(files=[], uploading=0)

    def _input_problems(self) -> list[str]:
        if not self.restrict_inputs:
            return []
        return [p for f in self.files if (p := self.inputs.problem(f))]

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
        if self.uploading:
            reasons.append("wait for the uploads to finish")
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
        if problems := self._input_problems():
            self.message = "cannot submit: " + "; ".join(problems)
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
        await self._release_after_submit()
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
