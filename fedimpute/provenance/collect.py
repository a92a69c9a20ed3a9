"""Everything fedimpute knows about how one job's results were made, read from the store.

Nothing here asks a service: a provenance record cites what was recorded (at submission, while
following the job, when downloading), so it can be written offline, after the service deleted the
job, or after the engine stopped.  Secrets never enter: the store holds none, and options are the
job's recorded options (the result password is kept apart, in the secret store).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fedimpute.exceptions import FedImputeError, ServiceNotFoundError, StoreLockedError
from fedimpute.models import (
    HealthRecord,
    Job,
    JobEvent,
    JobStatus,
    ReferencePanel,
    ResultFile,
    ServiceConfig,
    StepMessage,
)
from fedimpute.provenance.tools import ToolVersion, job_tools
from fedimpute.store import Store
from fedimpute.store.inputs import JobInput

__all__ = ["JobProvenance", "collect", "panel_version", "reported_app_version"]

log = logging.getLogger(__name__)


@dataclass
class JobProvenance:
    """The facts a crate is made of; ``inputs_recorded`` is False for jobs recorded before fedimpute kept
    input facts (then ``inputs`` carries the paths only)."""

    job: Job
    service: ServiceConfig | None
    panel: ReferencePanel | None
    inputs: list[JobInput]
    inputs_recorded: bool
    events: list[JobEvent]
    steps: list[StepMessage]
    results: list[ResultFile]
    tools: list[ToolVersion]
    health: HealthRecord | None
    quality: dict[str, Any] | None
    quality_note: str
    children: list[str] = field(default_factory=list)
    app_version: str | None = None


def panel_version(panel: ReferencePanel | None) -> str | None:
    """The panel's version where the service's key carries one (Cloudgene ``apps@hapmap-2@2.0.0``)."""
    if panel is None or not panel.key:
        return None
    parts = panel.key.split("@")
    return parts[2] if len(parts) >= 3 and parts[0] == "apps" else (parts[1] if len(parts) == 2 else None)


def reported_app_version(service: ServiceConfig | None, health: HealthRecord | None) -> str | None:
    """The app's version as the service last reported it (Cloudgene health: ``apps: imputationserver2@2.0.12``)."""
    if service is None or health is None or not service.app:
        return None
    match = re.search(rf"(?:^|[\s,:]){re.escape(service.app)}@([\w.+-]+)", health.detail or "")
    return match[1] if match else None


def _panel(store: Store, job: Job) -> ReferencePanel | None:
    if not job.panel or job.service == "*":
        return None
    return next((p for p in store.list_panels(job.service) if p.panel_id == job.panel), None)


def _quality(store: Store, job: Job) -> tuple[dict[str, Any] | None, str]:
    """``fedimpute quality``'s document, or why there is none (not completed, not downloaded)."""
    if job.status is not JobStatus.COMPLETED:
        return None, f"no quality summary: the job is {job.status.value}"
    from fedimpute.quality import job_quality

    try:
        return job_quality(store, job.job_id), ""
    except StoreLockedError:
        raise  # busy, not "no quality": the caller tries again
    except FedImputeError as exc:
        return None, f"no quality summary: {exc}"


def collect(store: Store, job_id: str) -> JobProvenance:
    """Read the provenance of ``job_id`` (raises JobNotFoundError for an unknown job)."""
    job = store.get_job(job_id)
    try:
        service = store.get_service(job.service) if job.service != "*" else None
    except ServiceNotFoundError:  # removed from the catalogue since: the job still names it
        service = None
    health = store.latest_health().get(job.service) if service else None
    steps, results = store.step_messages(job_id), store.result_files(job_id)
    inputs = store.job_inputs(job_id)
    quality, note = _quality(store, job)
    return JobProvenance(
        job=job, service=service, panel=_panel(store, job), inputs=inputs, inputs_recorded=bool(inputs),
        events=store.job_events(job_id), steps=steps, results=results,
        tools=job_tools(job, service.protocol if service else None, steps, results, Path(store.home)),
        health=health, quality=quality, quality_note=note,
        children=[c.job_id for c in store.list_jobs(parent_id=job_id)],
        app_version=reported_app_version(service, health))
