"""`fedimpute jobs ...`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from fedimpute.cli._common import emit_json, err, out, store
from fedimpute.credentials import MissingTokenError
from fedimpute.exceptions import FedImputeError, TransientServiceError, UnknownProtocolError, UsageError
from fedimpute.hub import Hub
from fedimpute.job_views import job_detail, job_summaries, job_summary
from fedimpute.jobs.progress import progress_text
from fedimpute.models import JobStatus

if TYPE_CHECKING:
    from fedimpute.monitor import SweepResult

__all__ = ["jobs_app"]

jobs_app = typer.Typer(help="Jobs recorded by fedimpute.", no_args_is_help=True)


@jobs_app.command("list")
def list_jobs(
    status: Annotated[str | None, typer.Option("--status", help="pending, queued, running, completed, "
                                                                 "failed or cancelled.")] = None,
    service: Annotated[str | None, typer.Option("--service")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List jobs, newest first."""
    if status is not None and status not in {s.value for s in JobStatus}:
        raise UsageError(f"unknown status {status!r}; choose one of {', '.join(s.value for s in JobStatus)}")
    jobs_store = store()
    jobs = jobs_store.list_jobs(status=status, service=service, owner=owner)
    rows = job_summaries(jobs_store, jobs)
    if as_json:
        emit_json(rows)
        return
    table = Table("job_id", "name", "service", "panel", "status", "owner", "created", "results expire",
                  title=f"{len(rows)} jobs")
    for r in rows:
        table.add_row(r["job_id"], r["name"] or "", r["service"], r["panel"] or "", r["status"], r["owner"],
                      r["created_at"], r["expires_at"] or "")
    out.print(table)


async def _refresh_quietly(hub: Hub, job_id: str) -> None:
    try:
        await hub.refresh(job_id)
    except (TransientServiceError, UnknownProtocolError, MissingTokenError) as exc:
        err.print(f"warning: showing stored state; could not refresh from the service ({exc})", markup=False)


@jobs_app.command("show")
def show_job(
    job_id: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Show the stored state; do not ask the service.")]
    = False,
) -> None:
    """Show one job with its steps, events and results (refreshed from the service unless it ended)."""
    hub = Hub()
    job = hub.store.get_job(job_id)
    if not offline and job.remote_id and not job.status.is_terminal:
        asyncio.run(_refresh_quietly(hub, job_id))
    detail = job_detail(hub.store, job_id)
    if as_json:
        emit_json(detail)
        return
    out.print(f"[bold]{detail['job_id']}[/bold]  {detail['name'] or ''}")
    for key in ("service", "panel", "build", "owner", "remote_id", "status", "remote_state", "queue_position",
                "submitted_at", "started_at", "finished_at", "expires_at", "error"):
        if detail[key] is not None:
            out.print(f"  {key:15} {detail[key]}")
    if detail["progress"]:
        out.print(f"  {'progress':15} {progress_text(detail['progress'])}", markup=False)
    if detail["eta"]:
        eta = detail["eta"]
        out.print(f"  {'eta':15} {eta['finish_at']} (between {eta['low']} and {eta['high']}; from "
                  f"{eta['based_on']} finished jobs)", markup=False)
    for step in detail["steps"]:
        out.print(f"  [bold]{step['name']}[/bold]")
        for m in step["messages"]:
            out.print(f"    [{m['level']}] {m['text']}", markup=False)
    if detail["events"]:
        out.print("  events:")
        for e in detail["events"]:
            out.print(f"    {e['time']}  {e['status']:10} {e['detail']}", markup=False)
    for r in detail["results"]:
        out.print(f"  result {r['name']}  {r['size']} bytes  sha256 {r['sha256']}  {r['path']}", markup=False)


@jobs_app.command("refresh")
def refresh(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    force: Annotated[bool, typer.Option("--force", help="Poll every active job, due or not.")] = False,
) -> None:
    """One monitoring sweep over every active job: {polled, changed, requests, errors}."""
    from fedimpute.monitor import Monitor

    monitor = Monitor(Hub())
    if not monitor.acquire(wait=10):
        raise FedImputeError("another monitor is polling this FEDIMPUTE_HOME; its results are in the store "
                             "(`fedimpute jobs list`)")
    try:
        result = asyncio.run(monitor.sweep(force=force))
    finally:
        monitor.release()
    for line in result.messages:
        err.print(f"warning: {line}", markup=False)
    if as_json:
        emit_json(result.as_json())
    else:
        out.print("polled {polled}, changed {changed}, requests {requests}, errors {errors}".format(
            **result.as_json()), markup=False)


@jobs_app.command("watch")
def watch(tick: Annotated[float, typer.Option("--tick", help="Seconds between sweeps.")] = 5.0) -> None:
    """Monitor until no job is active (Ctrl-C stops cleanly)."""
    from fedimpute.monitor import Monitor

    def report(result: SweepResult) -> None:
        err.print("sweep: polled {polled}, changed {changed}, requests {requests}, errors {errors}".format(
            **result.as_json()), markup=False)
        for line in result.messages:
            err.print(f"  {line}", markup=False)

    try:
        asyncio.run(Monitor(Hub()).watch(tick=tick, on_sweep=report))
    except KeyboardInterrupt:
        err.print("stopped watching; jobs go on on their services")
        return
    err.print("no active job left")


@jobs_app.command("wait")
def wait(
    job_id: str,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Return when the job is terminal; exit 1 if it failed, was cancelled or the timeout passed."""
    from fedimpute.cli._progress import status_reporter

    hub = Hub()
    report = status_reporter()
    from fedimpute.monitor import Monitor

    hub.store.get_job(job_id)
    try:
        job = asyncio.run(Monitor(hub).wait_for(job_id, timeout=timeout, tick=_tick(hub, job_id), on_update=report))
    except TimeoutError as exc:
        raise FedImputeError(f"{exc}; run `fedimpute jobs wait {job_id}` again to keep waiting") from None
    if as_json:
        emit_json(job_detail(hub.store, job_id))
    else:
        out.print(f"{job.job_id} {job.status.value}", markup=False)
    if job.status is not JobStatus.COMPLETED:
        raise typer.Exit(1)


def _tick(hub: Hub, job_id: str) -> float:
    """Reading the store is cheap: check often, at most every 2 s (the monitor keeps polls polite)."""
    return min(2.0, hub.poll_interval(hub.store.get_service(hub.store.get_job(job_id).service)))


@jobs_app.command("restart")
def restart(job_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Ask the service to run a dead job again (Cloudgene: lost to a restart of the server)."""
    job = asyncio.run(Hub().restart(job_id))
    if as_json:
        emit_json(job_summary(job))
        return
    err.print(f"{job.job_id} restarted on {job.service}; it is {job.status.value} again "
              f"(`fedimpute jobs wait {job.job_id}` follows it)", markup=False)


@jobs_app.command("cancel")
def cancel(job_id: str) -> None:
    """Cancel a job remotely, then locally."""
    job = asyncio.run(Hub().cancel(job_id))
    err.print(f"{job.job_id} cancelled (remote state {job.remote_state})", markup=False)
