"""``fedimpute check``: the pre-flight check on the command line (contract: shared/contracts/cli.md).

Exit 0 when no check fails, 2 when any does.  ``--json`` prints the contract's document and
nothing else on stdout; ``--fix OUT_DIR`` first writes corrected copies, then checks those.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from fedimpute.cli._common import emit_json, err, out
from fedimpute.exceptions import UsageError
from fedimpute.models import ReferencePanel, ServiceConfig

if TYPE_CHECKING:  # the checker needs numpy: imported when a check runs, not when the CLI loads
    from fedimpute.preflight import FixAction, PreflightReport

__all__ = ["check", "run_preflight_for_submit"]

_STYLE = {"pass": ("[green]pass[/]", "green"), "warn": ("[yellow]warn[/]", "yellow"), "fail": ("[red]FAIL[/]", "red")}


def check(
    files: Annotated[list[Path], typer.Argument(help="VCF files (bgzipped, one chromosome each).")],
    service: Annotated[str | None, typer.Option("--service", help="Apply this service's limits "
                                                "(samples, upload size, builds).")] = None,
    panel: Annotated[str | None, typer.Option("--panel", help="Reference panel id; with --service, its build "
                                              "is compared with the data's.")] = None,
    build: Annotated[str, typer.Option("--build", help="hg19, hg38 or auto (detect).")] = "auto",
    sites: Annotated[Path | None, typer.Option("--sites", help="The panel's sites (VCF/VCF.gz, or tab-separated "
                                               "CHROM POS REF ALT): adds strand, allele-switch and overlap "
                                               "checks.")] = None,
    fix: Annotated[Path | None, typer.Option("--fix", metavar="OUT_DIR", help="Write fixed copies (bgzip, sort, "
                                             "rename, split, index) into OUT_DIR, then check those.")] = None,
    phasing: Annotated[str | None, typer.Option("--phasing", help="The phasing that will be submitted: eagle, "
                                                "beagle or no_phasing.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check VCF files as the imputation server would, before uploading them."""
    from fedimpute.preflight import check_files, fix_files  # numpy, a core dependency: loaded on use only

    if build not in ("auto", "hg19", "hg38"):
        raise UsageError(f"--build must be hg19, hg38 or auto, got {build!r}")
    config = _service(service)
    reference = _panel(config, panel) if panel else None
    actions: list[FixAction] = []
    if fix is not None:
        actions = fix_files(files, fix, build=build)
        files = _outputs(actions, fix) or files
        if not as_json:
            _print_fixes(actions)
    report = check_files(files, build=build, service=config, panel_sites=sites, phasing=phasing, panel=reference)
    if as_json:
        document = report.to_json()
        if fix is not None:
            document["fixes"] = [a.model_dump(mode="json") for a in actions]
        emit_json(document)
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(2)


def run_preflight_for_submit(files: list[Path], service: ServiceConfig, *, build: str | None,
                             phasing: str | None) -> PreflightReport:
    """The check ``submit`` runs before any request: a report with ``ok`` False means exit 2."""
    from fedimpute.preflight import run_preflight_for_submit as run

    return run(files, service, build=build, phasing=phasing)


def _service(name: str | None) -> ServiceConfig | None:
    if name is None:
        return None
    from fedimpute.store import Store

    return Store().get_service(name)


def _panel(service: ServiceConfig | None, panel_id: str) -> ReferencePanel | None:
    """The cached panel entry (no network); a warning on stderr when it is not cached."""
    if service is None:
        err.print(f"note: --panel {panel_id} is only compared with the data when --service is given", markup=False)
        return None
    from fedimpute.store import Store

    cached = Store().list_panels(service.name)
    found = next((p for p in cached if p.panel_id == panel_id), None)
    if found is None:
        known = ", ".join(p.panel_id for p in cached) or "none cached"
        err.print(f"note: panel {panel_id!r} is not in the cached list of {service.name} ({known}); run "
                  f"`fedimpute panels {service.name} --refresh`", markup=False)
    return found


def _outputs(actions: list[FixAction], out_dir: Path) -> list[Path]:
    written = [Path(a.output) for a in actions if a.output and a.step in ("copy", "compress", "write", "split")]
    return [p for p in dict.fromkeys(written) if p.parent == Path(out_dir) and p.exists()]


def _print_fixes(actions: list[FixAction]) -> None:
    table = Table("input", "step", "what changed", "command", title="fixes written", title_justify="left")
    for a in actions:
        table.add_row(escape(Path(a.source).name), a.step, escape(a.detail), escape(a.command or ""))
    out.print(table)


def _print_report(report: PreflightReport) -> None:
    for f in report.files:
        title = (f"{escape(f.path)}: chromosome(s) {escape(', '.join(f.chromosomes) or '-')}, build {f.build or '?'}, "
                 f"{f.samples if f.samples is not None else '?'} samples, "
                 f"{f.variants if f.variants is not None else '?'} variants")
        table = Table("", "check", "result", title=title, title_justify="left")
        for c in f.checks:
            label, colour = _STYLE[c.status.value]
            text = escape(c.message)
            if c.fix and c.status.value != "pass":
                text += f"\n[bold]fix:[/] {escape(c.fix)}"
            table.add_row(label, c.id, text, style=None if c.status.value == "pass" else colour)
        out.print(table)
    verdict = "[green]ready to submit[/]" if report.ok else "[red]not ready: fix the failing checks[/]"
    out.print(f"{report.summary()}: {verdict}")
