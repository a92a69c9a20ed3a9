"""Commands on results: ``quality`` (R² summaries) and ``report`` (a self-contained HTML report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from fedimpute.cli._common import emit_json, err, out

__all__ = ["quality", "report"]

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _quality_table(title: str, rows: list[tuple[str, dict[str, Any]]]) -> Table:
    table = Table("", "variants", "mean R²", "R² ≥ 0.3", "R² ≥ 0.8", title=title)
    for label, s in rows:
        table.add_row(
            label, f"{s['n']:,}", _fmt(s["mean_r2"]), _fmt(s["frac_r2_ge_0_3"]), _fmt(s["frac_r2_ge_0_8"])
        )
    return table


def quality(
    job_id: str,
    details: Annotated[
        bool,
        typer.Option(
            "--details",
            help="Also typed/imputed and chromosome x MAF bin "
            "breakdowns (adds by_status and chromosome_bins "
            "to --json).",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Imputation quality (R² by MAF bin, per chromosome) from a job's downloaded results."""
    from fedimpute.quality import bin_label, job_quality, job_quality_details
    from fedimpute.store import Store

    store = Store()
    doc = job_quality_details(store, job_id) if details else job_quality(store, job_id)
    if as_json:
        emit_json(doc)
        return
    out.print(
        _quality_table(
            f"{job_id}: {doc['variants']:,} variants with an R²",
            [(bin_label(i), b) for i, b in enumerate(doc["bins"])],
        )
    )
    for status in doc.get("by_status", []):
        out.print(
            _quality_table(
                f"{status['status']} variants", [(bin_label(i), b) for i, b in enumerate(status["bins"])]
            )
        )
    for c in doc["chromosomes"]:
        out.print(
            f"chromosome {c['chromosome']}: {c['n']:,} variants, mean R² {_fmt(c['mean_r2'])}", markup=False
        )


def report(
    job_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Jobs to report (default: the owner's newest completed ones)."),
    ] = None,
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = ...,  # type: ignore[assignment]
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="Whose jobs: named, listed and counted in the statistics (default: "
                     "FEDIMPUTE_USER, else your login name)."),
    ] = None,
    all_owners: Annotated[
        bool, typer.Option("--all-owners", help="Every owner's jobs, statistics included (not with --owner).")
    ] = False,
    show_code: Annotated[bool, typer.Option("--show-code", help="Keep the notebook's code cells.")] = False,
    timeout: Annotated[int, typer.Option("--timeout", help="Seconds allowed per notebook cell.")] = 900,
) -> None:
    """A self-contained HTML report (quality, comparison, job statistics) that renders offline.

    It covers one owner's jobs, or every owner's with --all-owners: other users' jobs never appear in it,
    not even in the statistics."""
    from fedimpute.exceptions import UsageError
    from fedimpute.report import render_report

    if owner and all_owners:  # before a kernel starts
        raise UsageError("give --owner USER or --all-owners, not both")
    err.print("running the report notebook…", markup=False)
    path = render_report(job_ids or [], out_file, owner=owner, all_owners=all_owners, timeout=timeout,
                         show_code=show_code)
    out.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", markup=False)
