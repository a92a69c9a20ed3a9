"""The report's tables, as HTML in which every value is escaped.

Job names, panel names, step messages and service descriptions come from users and services, and
a report is opened by colleagues: a job named ``<img src=x onerror=...>`` must show as text.  So
values never go into markdown, which nbconvert's export renders with raw HTML left live (and
``[x](javascript:...)`` as a live link): each table is HTML built here with :func:`html.escape` on
every cell, shown with ``display(HTML(...))``.  :func:`quality_markdown` stays for notebooks that
show markdown; its cells are escaped for markdown and HTML both.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from fedimpute.quality.bins import bin_label

__all__ = [
    "comparison_html",
    "html_table",
    "job_times_html",
    "jobs_html",
    "messages_html",
    "note_html",
    "quality_html",
    "quality_markdown",
    "scope_html",
    "services_html",
]

Rows = Iterable[Sequence[Any]]
#: (caption or "", header, rows): one table, before it is written as HTML or markdown.
Table = tuple[str, Sequence[str], list[Sequence[Any]]]


def _text(value: Any, digits: int = 3) -> str:
    """A cell's plain text: numbers formatted, nothing escaped yet."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _e(value: Any) -> str:
    return html.escape(_text(value), quote=True)


def html_table(header: Sequence[str], rows: Rows, *, caption: str = "", wrap: Sequence[int] = ()) -> str:
    """A table with every header and cell escaped; columns in ``wrap`` keep their line breaks."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    pre = ' style="white-space: pre-wrap; text-align: left"'
    body = "".join(
        "<tr>" + "".join(f"<td{pre if i in wrap else ''}>{_e(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    title = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f'<table class="fedimpute-table">{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _md_cell(value: Any) -> str:
    """Markdown that shows ``value`` as text: no raw HTML, entity, link, emphasis or cell break."""
    return re.sub(r"([\\`*_\[\]!|~])", r"\\\1", html.escape(_text(value), quote=False))


def _md_table(header: Sequence[str], rows: Rows) -> str:
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def note_html(text: Any, label: Any = "") -> str:
    """One escaped paragraph, ``label`` in bold before it."""
    head = f"<strong>{_e(label)}</strong>: " if label else ""
    return f"<p>{head}{_e(text)}</p>"


def scope_html(owner: str | None, shown: int, total: int) -> str:
    """Whose jobs the report covers, and how many of them it shows."""
    whose = f"Jobs of <strong>{_e(owner)}</strong>" if owner is not None else "Jobs of <strong>every owner</strong>"
    return f"<p>{whose}: {total:,} in this store; this report shows {shown:,}.</p>"


# -- the tables -------------------------------------------------------------------------------


def jobs_html(store: Any, job_ids: Sequence[str]) -> str:
    """The jobs of the report: id, name, service, panel, status, times (UTC)."""
    rows = []
    for job_id in job_ids:
        j = store.get_job(job_id)
        finished = f"{j.finished_at:%Y-%m-%d %H:%M}" if j.finished_at else None
        rows.append((j.job_id, j.name or "", j.owner, j.service, j.panel or "", j.status.value,
                     f"{j.created_at:%Y-%m-%d %H:%M}", finished))
    return html_table(("job", "name", "owner", "service", "panel", "status", "created", "finished"), rows)


def services_html(store: Any, job_ids: Sequence[str]) -> str:
    """The services the jobs ran on, as the catalogue describes them."""
    from fedimpute.exceptions import NotFoundError

    rows = []
    for name in sorted({store.get_job(j).service for j in job_ids}):
        try:
            s = store.get_service(name)
        except NotFoundError:  # removed from the catalogue, or never in it
            rows.append((name, "", "", "(not in the catalogue)"))
            continue
        rows.append((s.name, s.protocol, s.location, s.description))
    return html_table(("service", "protocol", "location", "description"), rows, wrap=(3,))


def messages_html(store: Any, job_id: str) -> str:
    """What the service said about a job: its error, if any, and every step's messages."""
    job = store.get_job(job_id)
    parts = [f"<h3>{_e(job_id)}</h3>"]
    if job.error:
        parts.append(f'<p style="white-space: pre-wrap"><strong>error:</strong> {_e(job.error)}</p>')
    messages = store.step_messages(job_id)
    if messages:
        rows = [(m.step, m.level.value, m.text) for m in messages]
        parts.append(html_table(("step", "level", "message"), rows, wrap=(2,)))
    elif not job.error:
        parts.append("<p>No messages from the service.</p>")
    return "".join(parts)


def _quality_tables(doc: dict[str, Any]) -> list[Table]:
    tables: list[Table] = [(
        "", ("MAF bin", "variants", "mean R²", "R² ≥ 0.3", "R² ≥ 0.8"),
        [(bin_label(i), b["n"], b["mean_r2"], b["frac_r2_ge_0_3"], b["frac_r2_ge_0_8"])
         for i, b in enumerate(doc["bins"])],
    )]
    if doc.get("by_status"):
        tables.append((
            "typed and imputed", ("variants", "n", "mean R²", "R² ≥ 0.3", "R² ≥ 0.8"),
            [(s["status"], s["n"], s["mean_r2"], s["frac_r2_ge_0_3"], s["frac_r2_ge_0_8"]) for s in doc["by_status"]],
        ))
    tables.append(("per chromosome", ("chromosome", "variants", "mean R²"),
                   [(c["chromosome"], c["n"], c["mean_r2"]) for c in doc["chromosomes"]]))
    return tables


def quality_html(doc: dict[str, Any], title: str = "") -> str:
    """A job's quality document: MAF bins, then typed/imputed and chromosomes when present."""
    head = f"<h3>{_e(title)}</h3>" if title else ""
    tables = "".join(html_table(header, rows, caption=caption) for caption, header, rows in _quality_tables(doc))
    return f"{head}<p><strong>{doc['variants']:,} variants with an R²</strong></p>{tables}"


def quality_markdown(doc: dict[str, Any]) -> str:
    """:func:`quality_html` as markdown (for notebooks), every cell escaped."""
    parts = [f"**{doc['variants']:,} variants with an R²**"]
    parts += [_md_table(header, rows) for _, header, rows in _quality_tables(doc)]
    return "\n\n".join(parts)


def comparison_html(cmp: dict[str, Any]) -> str:
    """Shared-variant comparison: counts, mean R² per bin and job, pairwise agreement."""
    jobs = cmp["jobs"]
    counts = html_table(("job", "variants", "only in this job"),
                        [(j, cmp["variants"][j], cmp["only"][j]) for j in jobs])
    bins = html_table(
        ("MAF bin", "shared variants", *(f"mean R² {j}" for j in jobs)),
        [(bin_label(i), b["n"], *(b["mean_r2"][j] for j in jobs)) for i, b in enumerate(cmp["bins"])],
    )
    pairs = html_table(
        ("job A", "job B", "shared", "R² correlation", "mean R² A − B"),
        [(p["a"], p["b"], p["n"], p["r2_correlation"], p["mean_r2_difference"]) for p in cmp["pairs"]],
    )
    return f"<p><strong>{cmp['shared']:,} variants shared by all jobs</strong></p>{counts}{bins}{pairs}"


def job_times_html(stats: dict[str, Any]) -> str:
    """Queue, run and turnaround minutes per job (from :func:`fedimpute.quality.job_statistics`)."""

    def minutes(x: Any) -> float | None:
        return None if x is None or math.isnan(float(x)) else float(x) / 60.0

    rows = [
        (stats["job_id"][i], stats["name"][i], stats["service"][i], str(stats["status"][i]),
         minutes(stats["queue_seconds"][i]), minutes(stats["run_seconds"][i]),
         minutes(stats["turnaround_seconds"][i]))
        for i in range(len(stats["job_id"]))
    ]
    header = ("job", "name", "service", "status", "queued (min)", "running (min)", "turnaround (min)")
    return html_table(header, rows)
