"""`fedimpute engine ...`: the local imputation engine and its panel registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fedimpute.cli._common import emit_json, err, out

if TYPE_CHECKING:
    from fedimpute.models import Job

__all__ = ["engine_app"]

engine_app = typer.Typer(help="The local imputation engine (a WES server; loopback unless exposed to partners).",
                         no_args_is_help=True)
tokens_app = typer.Typer(help="Partner tokens: who may use this engine as a federated node.", no_args_is_help=True)
engine_app.add_typer(tokens_app, name="tokens")
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _print_status(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(status)
        return
    state = f"running at {status['url']} (pid {status['pid']})" if status["running"] else "stopped"
    out.print(f"local engine: {state}", markup=False)
    if status.get("runner"):
        system = f" on {status['batch_system']}" if status.get("batch_system") else ""
        out.print(f"runner: {status['runner']}{system}", markup=False)
    if status.get("public_url"):
        out.print(f"partners reach it at {status['public_url']}", markup=False)
    if status.get("partners"):
        out.print(f"partner tokens: {', '.join(status['partners'])}", markup=False)
    out.print(f"panels: {', '.join(status['panels']) or 'none (add one with `fedimpute engine add-panel`)'}",
              markup=False)
    if status.get("tools"):  # checked when the engine started (fedimpute.engine.toolcheck)
        out.print("tools: " + ", ".join(f"{t} {v}" for t, v in status["tools"].items()), markup=False)
    if status["missing_tools"]:
        err.print(f"warning: missing tools: {', '.join(status['missing_tools'])}", markup=False)


@engine_app.command("start")
def start(
    port: Annotated[int | None, typer.Option("--port", help="Port of the engine (default: a free one).")] = None,
    runner: Annotated[str, typer.Option("--runner", help="cwltool (one process per run) or toil.")] = "cwltool",
    batch_system: Annotated[str | None, typer.Option(
        "--batch-system", help="Toil batch system: single_machine (default), slurm, lsf, ...")] = None,
    max_cores: Annotated[int | None, typer.Option("--max-cores", help="Toil: cores to use at most.")] = None,
    work_dir: Annotated[Path | None, typer.Option("--work-dir", help="Toil: job stores and work folders "
                                                  "(a folder every cluster node sees).")] = None,
    address: Annotated[str, typer.Option("--address", help="Address to listen on; other than loopback "
                                         "needs TLS and a partner token.")] = "127.0.0.1",
    ssl_certfile: Annotated[Path | None, typer.Option("--ssl-certfile", help="TLS certificate (PEM).")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option("--ssl-keyfile", help="TLS private key (PEM).")] = None,
    insecure_http: Annotated[bool, typer.Option("--insecure-http", help="Plain HTTP on a non-loopback address "
                                                "(only behind a TLS proxy).")] = False,
    as_json: Json = False,
) -> None:
    """Start the local engine and register it as service `local`."""
    from fedimpute.engine.options import EngineOptions
    from fedimpute.engine.server import engine_start

    options = EngineOptions(runner=runner, batch_system=batch_system, max_cores=max_cores,
                            work_dir=str(work_dir) if work_dir else None, address=address,
                            ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
                            ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None, insecure_http=insecure_http)
    _print_status(engine_start(port, options=options), as_json)


@engine_app.command("stop")
def stop() -> None:
    """Stop the local engine."""
    from fedimpute.engine.server import engine_stop

    engine_stop()
    err.print("local engine stopped")


@engine_app.command("status")
def status(as_json: Json = False) -> None:
    """Is the local engine running, where, with which panels."""
    from fedimpute.engine.server import engine_status

    _print_status(engine_status(), as_json)


@engine_app.command("runs")
def runs(as_json: Json = False) -> None:
    """Every run on the engine, partners' too, with the partner that made it."""
    from fedimpute.engine.server import engine_runs

    rows = engine_runs()
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        out.print(f"{row['run_id']}\t{row['state']}\t{row['partner'] or '(this home)'}\t{row['start_time'] or ''}",
                  markup=False)


@engine_app.command("add-panel")
def add_panel(
    vcf: Annotated[Path, typer.Argument(help="Phased reference panel VCF (bgzipped).")],
    panel_id: Annotated[str, typer.Option("--id", help="Short panel id, e.g. my-panel.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name (default: the id).")] = None,
    build: Annotated[str | None, typer.Option("--build", help="hg19 or hg38 (default: as the VCF header "
                                              "says).")] = None,
    population: Annotated[list[str] | None, typer.Option("--population", help="Repeat for each.")] = None,
    genetic_map: Annotated[Path | None, typer.Option("--map", help="Genetic map, PLINK .map layout.")] = None,
    fasta: Annotated[Path | None, typer.Option("--fasta", help="Reference FASTA (.fa or .fa.gz).")] = None,
    replace: Annotated[bool, typer.Option("--replace")] = False,
    as_json: Json = False,
) -> None:
    """Index a panel, build its .msav and add it to the local engine's registry."""
    from fedimpute.engine.panels import add_panel as register

    manifest = register(vcf, panel_id=panel_id, name=name, build=build, populations=population,
                        genetic_map=genetic_map, fasta=fasta, replace=replace)
    if as_json:
        emit_json(manifest)
    else:
        out.print(f"added panel {manifest['panel_id']}: {manifest['samples']:,} samples, "
                  f"{manifest['variants']:,} variants on {', '.join(manifest['chromosomes'])}", markup=False)


def demo(port: Annotated[int, typer.Option("--port", help="Dashboard port.")] = 5006) -> None:
    """Prepare demo data, start the local engine, impute the demo cohort, then serve the dashboard."""
    from fedimpute.cli.report import quality
    from fedimpute.cli.serve import load_ui

    ui = load_ui()  # before minutes of work: say now if the ui extra is missing
    job = _demo_job()
    err.print(f"demo job {job.job_id} is {job.status.value}; quality of its imputation:")
    quality(job.job_id, as_json=False)
    err.print(f"dashboard at http://127.0.0.1:{port}/dashboard (Ctrl-C stops it; the local engine keeps "
              "running until `fedimpute engine stop`)")
    ui.serve_dashboard(port, "127.0.0.1")


def _demo_job() -> Job:
    """The demo's completed job: the one from an earlier run, else a new one, imputed and downloaded."""
    import asyncio

    from fedimpute.engine.demo import prepare_demo
    from fedimpute.hub import Hub
    from fedimpute.models import JobStatus
    from fedimpute.owners import default_owner
    from fedimpute.services.base import SubmitOptions

    err.print("preparing the demo data set (simulated once, about 10 s) and starting the local engine ...")
    demo_info = prepare_demo()
    err.print(f"local engine up at {demo_info['engine']['url']}; demo panel {demo_info['panel']}")
    hub = Hub()
    owner = default_owner()
    done = [j for j in hub.store.list_jobs(service="local", status=JobStatus.COMPLETED, owner=owner)
            if j.name == "demo"]
    if done:
        return done[0]

    async def run() -> Job:
        job = await hub.submit([demo_info["target"]], "local",
                               SubmitOptions(panel=demo_info["panel"], build="hg38", name="demo"), owner=owner)
        err.print(f"submitted demo job {job.job_id}; imputing 200 samples over 5 Mb ...")
        job = await hub.wait(job.job_id)
        await hub.download_results(job.job_id)
        return job

    return asyncio.run(run())


@tokens_app.command("add")
def tokens_add(name: Annotated[str, typer.Argument(help="Partner name, e.g. site-b.")], as_json: Json = False) -> None:
    """Make a partner token; it is printed once (only its hash is kept)."""
    from fedimpute.engine.node_tokens import NodeTokens

    token = NodeTokens().add(name)
    if as_json:
        emit_json({"name": name, "token": token})
    else:
        out.print(token, markup=False)
        err.print(f"token for partner {name}: shown once, give it to them over a private channel; they add this "
                  "engine with `fedimpute services add NAME --protocol wes --url URL --set workflow=impute` and "
                  "`fedimpute login NAME --token-stdin`")


@tokens_app.command("list")
def tokens_list(as_json: Json = False) -> None:
    """Partners with a token (names and dates, never the tokens)."""
    from fedimpute.engine.node_tokens import NodeTokens

    rows = NodeTokens().list()
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        out.print(f"{row['name']}\t{row['created_at']}", markup=False)
    if not rows:
        err.print("no partner tokens: the engine needs no token (loopback only)")


@tokens_app.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument(help="Partner name.")]) -> None:
    """Revoke a partner's token (its next request gets 401)."""
    from fedimpute.engine.node_tokens import NodeTokens

    NodeTokens().revoke(name)
    err.print(f"revoked the token of partner {name}")
