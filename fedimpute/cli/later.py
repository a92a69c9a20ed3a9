"""Contract commands whose capability is not built yet.

They accept the contract's arguments (so scripts get the right usage errors) and
exit 1 with ``not available yet: <what>``; they never print invented output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedimpute.exceptions import NotAvailableError

__all__ = ["engine_app", "register", "results_app"]

results_app = typer.Typer(help="Result files of jobs.", no_args_is_help=True)
engine_app = typer.Typer(help="The local imputation engine (a WES server on 127.0.0.1).", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def panels(
    names: Annotated[list[str] | None, typer.Argument(help="Services (default: all).")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Re-read from the services.")] = False,
    as_json: Json = False,
) -> None:
    """List reference panels, discovered live from the services."""
    raise NotAvailableError("reference-panel discovery (panels)")


def check(
    files: Annotated[list[Path], typer.Argument(help="VCF files.")],
    service: Annotated[str | None, typer.Option("--service")] = None,
    panel: Annotated[str | None, typer.Option("--panel")] = None,
    build: Annotated[str, typer.Option("--build", help="hg19, hg38 or auto.")] = "auto",
    as_json: Json = False,
) -> None:
    """Pre-flight check of VCF files with the servers' rules."""
    raise NotAvailableError("the pre-flight VCF check (check)")


def submit(
    files: Annotated[list[Path], typer.Argument(help="bgzipped VCF files, one chromosome each.")],
    service: Annotated[list[str], typer.Option("--service", help="Repeat to fan out.")],
    panel: Annotated[str, typer.Option("--panel")],
    build: Annotated[str | None, typer.Option("--build")] = None,
    population: Annotated[str | None, typer.Option("--population")] = None,
    phasing: Annotated[str | None, typer.Option("--phasing")] = None,
    r2_filter: Annotated[str | None, typer.Option("--r2-filter")] = None,
    mode: Annotated[str | None, typer.Option("--mode")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    password: Annotated[str | None, typer.Option("--password")] = None,
    meta: Annotated[bool, typer.Option("--meta")] = False,
    aes: Annotated[bool, typer.Option("--aes")] = False,
    skip_check: Annotated[bool, typer.Option("--skip-check")] = False,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    wait: Annotated[bool, typer.Option("--wait")] = False,
    download: Annotated[Path | None, typer.Option("--download")] = None,
    as_json: Json = False,
) -> None:
    """Submit VCF files to one or more services."""
    raise NotAvailableError("job submission (submit)")


def quality(job_id: str, as_json: Json = False) -> None:
    """Imputation quality (R² by MAF) from downloaded results."""
    raise NotAvailableError("imputation quality summaries (quality)")


def report(
    job_ids: Annotated[list[str] | None, typer.Argument()] = None,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
) -> None:
    """A self-contained HTML report."""
    raise NotAvailableError("HTML reports (report)")


def demo(port: Annotated[int, typer.Option("--port")] = 5006) -> None:
    """Prepare demo data, start the local engine and serve the dashboard."""
    raise NotAvailableError("the demo (local engine and dashboard)")


def serve(
    port: Annotated[int, typer.Option("--port")] = 5006,
    address: Annotated[str, typer.Option("--address")] = "127.0.0.1",
    basic_auth: Annotated[Path | None, typer.Option("--basic-auth")] = None,
    cookie_secret: Annotated[str | None, typer.Option("--cookie-secret")] = None,
) -> None:
    """Serve the dashboard for a lab group."""
    raise NotAvailableError("the dashboard (serve)")


@results_app.command("download")
def results_download(
    job_id: str,
    to: Annotated[Path | None, typer.Option("--to")] = None,
    password: Annotated[str | None, typer.Option("--password")] = None,
    as_json: Json = False,
) -> None:
    """Download, verify and decrypt a job's results."""
    raise NotAvailableError("result download (results download)")


@engine_app.command("start")
def engine_start(port: Annotated[int | None, typer.Option("--port")] = None) -> None:
    """Start the local engine."""
    raise NotAvailableError("the local imputation engine (engine start)")


@engine_app.command("stop")
def engine_stop() -> None:
    """Stop the local engine."""
    raise NotAvailableError("the local imputation engine (engine stop)")


@engine_app.command("status")
def engine_status(as_json: Json = False) -> None:
    """Status of the local engine."""
    raise NotAvailableError("the local imputation engine (engine status)")


def register(app: typer.Typer) -> None:
    for fn in (panels, check, submit, quality, report, demo, serve):
        app.command(fn.__name__)(fn)
    app.add_typer(results_app, name="results")
    app.add_typer(engine_app, name="engine")
