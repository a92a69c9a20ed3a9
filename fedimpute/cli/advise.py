"""``fedimpute advise`` and ``fedimpute panels add-sites`` (contract: shared/contracts/cli.md).

``advise`` ranks the candidate (service, panel) pairs for a cohort and prints the exact ``fedimpute
submit`` command for the winner; ``--json`` prints ``{"ranking": [...], ...}``.  ``panels`` becomes a
group (:data:`panels_app`) whose default is the existing listing, so ``fedimpute panels [NAME...]
[--refresh] [--json]`` keeps working and ``fedimpute panels add-sites SERVICE PANEL_ID FILE`` is new.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from fedimpute.cli._common import emit_json, err, out, store
from fedimpute.cli.remote import panels
from fedimpute.exceptions import UsageError

__all__ = ["add_sites", "advise", "panels_app"]

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def add_sites(
    service: Annotated[str, typer.Argument(help="The service that offers the panel.")],
    panel_id: Annotated[str, typer.Argument(help="The panel's short id (as `fedimpute panels` lists it).")],
    file: Annotated[Path, typer.Argument(help="The panel's sites: a VCF (AF in INFO, or AC/AN), or tab-separated "
                                         "CHROM POS REF ALT [AF [AF_<POP>...]] lines.")],
    as_json: Json = False,
) -> None:
    """Register a panel's sites, so that `fedimpute advise` can judge the panel locally."""
    from fedimpute.advise import register_sites
    from fedimpute.engine.panels import registry_panels

    st = store()
    config = st.get_service(service)  # an unknown service exits 3
    known = {p.panel_id for p in st.list_panels(service)} | {p.panel_id for p in registry_panels(service, st.home)}
    if known and panel_id not in known:
        err.print(f"note: {service} does not list a panel {panel_id!r} (it lists {', '.join(sorted(known))}); "
                  "registering the sites anyway", markup=False)
    table = register_sites(config, panel_id, file, home=st.home)
    m = table.manifest
    doc = {"service": service, "panel_id": panel_id, "sites": m["sites"], "chromosomes": sorted(set(
        m["chromosomes"].values()), key=_chrom_key), "populations": m["populations"], "haplotypes": m["haplotypes"],
        "source": m["source"], "path": str(table.path)}
    if as_json:
        emit_json(doc)
        return
    pops = f"; population frequencies: {', '.join(doc['populations'])}" if doc["populations"] else ""
    out.print(f"registered {doc['sites']:,} sites on chromosome(s) {', '.join(doc['chromosomes'])} as {service}/"
              f"{panel_id}{pops}", markup=False)


def _chrom_key(chrom: str) -> tuple[int, str]:
    return (int(chrom), "") if chrom.isdigit() else (100, chrom)


class _PanelsGroup(TyperGroup):
    """``panels`` with subcommands, whose default is the listing: any arguments that do not start with a
    subcommand's name (service names, ``--refresh``, ``--json``, none) go to the hidden ``list``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


panels_app = typer.Typer(cls=_PanelsGroup, help="Reference panels of the services (`fedimpute panels [NAME...] "
                         "[--refresh] [--json]` lists them), and the sites known locally for the advisor.")
panels_app.command("list", hidden=True)(panels)
panels_app.command("add-sites")(add_sites)


def advise(
    files: Annotated[list[Path], typer.Argument(help="The cohort's VCF files (bgzipped, one chromosome each).")],
    service: Annotated[list[str] | None, typer.Option("--service", help="A candidate service (repeat; default: "
                                                      "every enabled one).")] = None,
    panel: Annotated[list[str] | None, typer.Option("--panel", help="A candidate panel id (repeat; default: every "
                                                    "panel with evidence).")] = None,
    build: Annotated[str, typer.Option("--build", help="hg19, hg38 or auto (detect).")] = "auto",
    population: Annotated[str | None, typer.Option("--population", help="Compare with this population's allele "
                                                   "frequencies where the panel gives them.")] = None,
    remote: Annotated[bool, typer.Option("--remote", help="Also run a QC-only job on each Cloudgene service and "
                                         "panel (ordinary jobs: see `fedimpute jobs list`).")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the QC-only jobs.")] = 3600.0,
    as_json: Json = False,
) -> None:
    """Rank services and reference panels for a cohort, before imputing: overlap, strand flips, allele
    switches, allele-frequency concordance and the expected R² of common variants."""
    from fedimpute.advise import advise as run

    if build not in ("auto", "hg19", "hg38"):
        raise UsageError(f"--build must be hg19, hg38 or auto, got {build!r}")
    advice = run(files, services=service or (), panels=panel or (), build=build, population=population,
                 remote=remote, timeout=timeout, progress=lambda text: err.print(text, markup=False))
    for failure in advice.preflight:
        err.print(f"note: the pre-flight check fails: {failure}; fix it before submitting (`fedimpute check`)",
                  markup=False)
    if as_json:
        emit_json(advice.to_json())
        return
    _print_ranking(advice)


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _remark(row: Any) -> str:
    """What stops a row: the QC job's failure, the server's refusal, or missing evidence."""
    if row.remote is not None and row.remote.error:
        return f"QC job {row.remote.status}: {row.remote.error}"
    if row.blocked:
        return f"refused: {row.strand_flips:,} strand flips"
    return "" if row.expected_r2 is not None else "no evidence"


def _print_ranking(advice: Any) -> None:
    title = (f"{len(advice.ranking)} candidate(s) for {advice.samples:,} samples, {advice.typed:,} typed SNPs"
             f"{', build ' + advice.build if advice.build else ''}")
    table = Table("#", "service", "panel", "expected R²", "overlap", "strand flips", "allele switches", "AF r",
                  "excluded chunks", "evidence", "remark", title=title, title_justify="left")
    for i, row in enumerate(advice.ranking, start=1):
        style = "red" if row.blocked else None
        table.add_row(str(i), escape(row.service), escape(row.panel_id), _num(row.expected_r2, ".3f"),
                      _num(row.overlap, ".1%"), _num(row.strand_flips, ","), _num(row.allele_switches, ","),
                      _num(row.af_correlation, ".3f"), _num(row.excluded_chunks, "d"),
                      "+".join(k for k in ("local", "remote") if getattr(row, k) is not None) or "none",
                      escape(_remark(row)), style=style)
    out.print(table)
    for i, row in enumerate(advice.ranking, start=1):
        out.print(f"{i}. {row.service}/{row.panel_id}:", markup=False)
        for reason in row.reasons:
            out.print(f"   - {reason}", markup=False)
    command = advice.submit_command()
    if command:
        out.print(f"\nsubmit with {advice.best.service}/{advice.best.panel_id}:\n  {command}", markup=False)
    else:
        out.print("\nno panel can be recommended yet: see the reasons above", markup=False)
