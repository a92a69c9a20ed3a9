"""Submitting, for every caller (Python API, CLI, dashboard): the pre-flight check, then record and send.

The servers' input rules run locally before anything is recorded or sent, so a cohort that
would fail the server's QC hours after a 2 GB upload fails here in seconds.  Callers opt out
explicitly (``check=False``, the CLI's ``--skip-check``); a caller that already ran the check
(the dashboard shows its reports before the Submit button) passes the reports to reuse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from fedimpute.exceptions import UsageError
from fedimpute.jobs.lifecycle import JobLifecycle
from fedimpute.models import Job
from fedimpute.preflight import PreflightReport, run_preflight_for_submit
from fedimpute.services.base import SubmitOptions

__all__ = ["PreflightFailedError", "preflight", "submit"]


class PreflightFailedError(UsageError):
    """A file fails the pre-flight check of a service; nothing was recorded or uploaded."""

    def __init__(self, service: str, report: PreflightReport) -> None:
        super().__init__(f"the pre-flight check failed for {service} ({report.summary()}); nothing was uploaded. "
                         "Fix the files (`fedimpute check FILE --fix OUT_DIR` helps), or skip the check "
                         "(--skip-check, check=False)")
        self.service, self.report = service, report


def preflight(lifecycle: JobLifecycle, files: list[Path], services: list[str], options: SubmitOptions, *,
              reports: Mapping[str, PreflightReport] | None = None) -> dict[str, PreflightReport]:
    """The check ``submit`` runs for each service (a given passing report for the same files is reused).

    Raises :class:`PreflightFailedError` for the first service whose check fails."""
    done: dict[str, PreflightReport] = {}
    wanted = sorted(str(Path(f).resolve()) for f in files)
    for name in services:
        report = (reports or {}).get(name)
        if report is None or sorted(str(Path(f.path).resolve()) for f in report.files) != wanted:
            report = run_preflight_for_submit(files, lifecycle.store.get_service(name), build=options.build,
                                              phasing=options.phasing)
        if not report.ok:
            raise PreflightFailedError(name, report)
        done[name] = report
    return done


async def submit(lifecycle: JobLifecycle, files: list[Path], services: list[str], options: SubmitOptions, *,
                 owner: str, check: bool = True, reports: Mapping[str, PreflightReport] | None = None,
                 progress: Callable[[str, int, int], None] | None = None) -> tuple[Job | None, list[Job]]:
    """Check, record and send one input to one service (no parent) or several (a fan-out parent)."""
    if not services:
        raise UsageError("no service given; name one with --service (see `fedimpute services list`)")
    checked = preflight(lifecycle, files, services, options, reports=reports) if check else {}
    for name in services:  # a missing token is a usage error, found before anything is recorded or sent
        lifecycle.check_token(name, owner)
    if len(services) == 1:
        job = lifecycle.record(files, services[0], options, owner=owner, reports=list(checked.values()))
        report = (lambda done, total: progress(f"upload to {services[0]}", done, total)) if progress else None
        return None, [await lifecycle.send(job.job_id, progress=report)]
    parent = lifecycle.record_parent(files, services, options, owner=owner, reports=list(checked.values()))
    children = [lifecycle.record(files, s, options, owner=owner, parent_id=parent.job_id,
                                 reports=[checked[s]] if s in checked else []) for s in services]
    sent = await lifecycle.send_children(parent, children, progress)
    return lifecycle.store.get_job(parent.job_id), sent
