"""`fedimpute jobs ...`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from fedimpute.cli._common import emit_json, err, out, store
from fedimpute.exceptions import FedImputeError, NotAvailableError, TransientServiceError, UsageError
from fedimpute.hub import Hub
from fedimpute.job_views import job_detail, job_summary
from fedimpute.models import JobStatus

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
    jobs = store().list_jobs(status=status, service=service, owner=owner)
    rows = [job_summary(j) for j in jobs]
    if as_json:
        emit_json(rows)
        return
    table = Table("job_id", "name", "service", "panel", "status", "owner", "created", title=f"{len(rows)} jobs")
    for r in rows:
        table.add_row(r["job_id"], r["name"] or "", r["service"], r["panel"] or "", r["status"], r["owner"],
                      r["created_at"])
    out.print(table)


async def _refresh_quietly(hub: Hub, job_id: str) -> None:
    try:
        await hub.refresh(job_id)
    except (TransientServiceError, NotAvailableError) as exc:
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
                "submitted_at", "started_at", "finished_at", "error"):
        if detail[key] is not None:
            out.print(f"  {key:15} {detail[key]}")
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
def refresh(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One monitoring sweep over every active job."""
    raise NotAvailableError("job monitoring (jobs refresh)")


@jobs_app.command("watch")
def watch() -> None:
    """Monitor until no job is active."""
    raise NotAvailableError("job monitoring (jobs watch)")


@jobs_app.command("wait")
def wait(
    job_id: str,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Return when the job is terminal; exit 1 if it failed, was cancelled or the timeout passed."""
    hub = Hub()
    last: list[str] = []

    def report(job) -> None:
        line = f"{job.job_id}: {job.status.value} (remote state {job.remote_state})"
        if job.queue_position is not None:
            line += f", queue position {job.queue_position}"
        if line not in last:
            err.print(line, markup=False)
            last[:] = [line]

    try:
        job = asyncio.run(hub.wait(job_id, timeout=timeout, on_update=report))
    except TimeoutError as exc:
        raise FedImputeError(f"{exc}; run `fedimpute jobs wait {job_id}` again to keep waiting") from None
    if as_json:
        emit_json(job_detail(hub.store, job_id))
    else:
        out.print(f"{job.job_id} {job.status.value}", markup=False)
    if job.status is not JobStatus.COMPLETED:
        raise typer.Exit(1)


@jobs_app.command("cancel")
def cancel(job_id: str) -> None:
    """Cancel a job remotely, then locally."""
    job = asyncio.run(Hub().cancel(job_id))
    err.print(f"{job.job_id} cancelled (remote state {job.remote_state})", markup=False)
