"""Commands that talk to services: panels, submit, results download."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.table import Table

from fedimpute.cli._common import default_owner, emit_json, err, out
from fedimpute.cli._progress import status_reporter, transfer_progress
from fedimpute.exceptions import FedImputeError, UsageError
from fedimpute.hub import Hub
from fedimpute.jobs import PreflightFailedError
from fedimpute.jobs import submit as submit_jobs
from fedimpute.models import Job, ReferencePanel
from fedimpute.services.base import SubmitOptions

__all__ = ["panels", "results_download", "submit"]

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _panel_json(p: ReferencePanel) -> dict[str, Any]:
    return {"service": p.service, "panel_id": p.panel_id, "name": p.name, "build": p.build,
            "populations": [{"id": x.id, "label": x.label} for x in p.populations],
            "samples": p.samples, "variants": p.variants}


async def _all_panels(hub: Hub, names: list[str], refresh: bool) -> list[ReferencePanel]:
    found: list[ReferencePanel] = []
    for name in names:
        try:
            found.extend(await hub.panels(name, refresh=refresh))
        except FedImputeError as exc:
            if len(names) == 1:
                raise
            err.print(f"warning: {exc}", markup=False)
    return found


def panels(
    names: Annotated[list[str] | None, typer.Argument(help="Services (default: every enabled one).")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Re-read from the services.")] = False,
    as_json: Json = False,
) -> None:
    """List reference panels, discovered live from the services and cached."""
    hub = Hub()
    targets = names or [s.name for s in hub.store.list_services() if s.enabled]
    found = asyncio.run(_all_panels(hub, targets, refresh))
    if as_json:
        emit_json([_panel_json(p) for p in found])
        return
    table = Table("service", "panel_id", "name", "build", "populations", title=f"{len(found)} reference panels")
    for p in found:
        table.add_row(p.service, p.panel_id, p.name, p.build or "", ", ".join(x.id for x in p.populations))
    out.print(table)


def _submit_json(job: Job) -> dict[str, Any]:
    return {"job_id": job.job_id, "name": job.name, "service": job.service, "panel": job.panel,
            "remote_id": job.remote_id, "status": job.status.value, "owner": job.owner}


async def _submit_all(hub: Hub, files: list[Path], services: list[str], options: SubmitOptions, owner: str, *,
                      check: bool, wait: bool, download: Path | None) -> list[Job]:
    """One service: one job.  Several: a fan-out parent and one child per service."""
    with transfer_progress() as update:
        parent, jobs = await submit_jobs(hub.jobs, files, services, options, owner=owner, check=check,
                                         progress=update)
    if parent is not None:
        err.print(f"fan-out {parent.job_id}: {len(jobs)} jobs", markup=False)
    for job in jobs:
        where = f"as {job.remote_id}" if job.remote_id else f"(pending: {job.error})"
        err.print(f"submitted {job.job_id} to {job.service} {where}", markup=False)
    if wait:
        jobs = [await hub.wait(j.job_id, on_update=status_reporter()) for j in jobs]
    if download is not None:
        for job in jobs:
            if job.status.value == "completed":
                with transfer_progress() as update:
                    await hub.download_results(job.job_id, download / job.job_id if len(jobs) > 1 else download,
                                               progress=update)
    return jobs


def submit(
    files: Annotated[list[Path], typer.Argument(help="bgzipped VCF files, one chromosome each.")],
    service: Annotated[list[str], typer.Option("--service", help="Repeat to fan out.")],
    panel: Annotated[str, typer.Option("--panel")],
    build: Annotated[str | None, typer.Option("--build", help="hg19 or hg38.")] = None,
    population: Annotated[str | None, typer.Option("--population")] = None,
    phasing: Annotated[str | None, typer.Option("--phasing", help="eagle, beagle or no_phasing.")] = None,
    r2_filter: Annotated[str | None, typer.Option("--r2-filter", help="0, 0.001, 0.1, 0.2 or 0.3.")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="imputation or qc-only.")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    password: Annotated[str | None, typer.Option("--password", help="Result password (default: a random "
                                                 "one, kept in the keyring).")] = None,
    meta: Annotated[bool, typer.Option("--meta")] = False,
    aes: Annotated[bool, typer.Option("--aes")] = False,
    skip_check: Annotated[bool, typer.Option("--skip-check")] = False,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the job ends.")] = False,
    download: Annotated[Path | None, typer.Option("--download", help="Download results here.")] = None,
    as_json: Json = False,
) -> None:
    """Submit VCF files to one or more services."""
    if build not in (None, "hg19", "hg38"):
        raise UsageError(f"--build must be hg19 or hg38, got {build!r}")
    if mode not in (None, "imputation", "qc-only"):
        raise UsageError(f"--mode must be imputation or qc-only, got {mode!r}")
    hub = Hub()
    options = SubmitOptions(panel=panel, build=build, population=population, phasing=phasing,
                            r2_filter=r2_filter, mode=mode, name=name, meta=meta, aes=aes,
                            password=SecretStr(password) if password else None)
    try:
        jobs = asyncio.run(_submit_all(hub, files, service, options, default_owner(owner), check=not skip_check,
                                       wait=wait or download is not None, download=download))
    except PreflightFailedError as exc:
        _print_failures(exc)
        raise
    docs = [_submit_json(j) for j in jobs]
    if as_json:
        emit_json(docs if len(service) > 1 else docs[0])
    else:
        for d in docs:
            out.print(f"{d['job_id']}  {d['service']}  {d['remote_id']}  {d['status']}", markup=False)
    if any(j.status.value in ("failed", "cancelled") for j in jobs):
        raise typer.Exit(1)


def _print_failures(exc: PreflightFailedError) -> None:
    """Each failing check and its fix, before the one-line error."""
    for path, check in exc.report.failures():
        err.print(f"fail {check.id} ({Path(path).name}): {check.message}", markup=False)
        if check.fix:
            err.print(f"  fix: {check.fix}", markup=False)


def results_download(
    job_id: str,
    to: Annotated[Path | None, typer.Option("--to", help="Folder (default FEDIMPUTE_HOME/results/<job_id>).")] = None,
    password: Annotated[str | None, typer.Option("--password", help="Archive password.")] = None,
    as_json: Json = False,
) -> None:
    """Download every result file once, verify it, decrypt and extract archives."""
    hub = Hub()
    with transfer_progress() as update:
        files = asyncio.run(hub.download_results(job_id, to, password=password, progress=update))
    if as_json:
        emit_json(files)
        return
    for f in files:
        out.print(f"{f['name']}  {f['size']:,} bytes  sha256 {f['sha256'][:16]}…  {f['path']}", markup=False)
        for x in f["extracted"]:
            out.print(f"    extracted {x}", markup=False)

