"""Self-contained HTML reports: the report notebook, executed with parameters and exported.

``render_report(["fi-..."], Path("report.html"))`` runs ``03-report.ipynb`` headless (nbclient),
with a cell setting ``job_ids`` injected after the cell tagged ``parameters`` (as papermill
does), and exports it with nbconvert.  The file must open anywhere, offline, and must not
leak credentials, so after export:

* the template drops nbconvert's remote ``<script src>`` tags (require.js, MathJax,
  mermaid); Bokeh and Panel JS are inlined by the notebook (``hv.extension(..., inline=True)``);
  any http(s) ``.js`` URL still left in the page is cut, so nothing can be fetched;
* Panel's stylesheets, named by CDN URL, become ``data:`` URLs of the installed files
  (:mod:`fedimpute.offline_css`);
* every secret fedimpute knows (service tokens from the environment or the secret store,
  result passwords of the store's jobs) is replaced by ``***``.

The markdown helpers below keep the notebook's cells short.  nbformat, nbclient and
nbconvert are imported inside the functions (they come with the ``report`` extra).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from fedimpute.exceptions import FedImputeError, UsageError
from fedimpute.offline_css import inline_panel_css
from fedimpute.quality.bins import bin_label
from fedimpute.redaction import MASK

__all__ = [
    "REPORT_NOTEBOOK",
    "comparison_markdown",
    "default_report_jobs",
    "execute_notebook",
    "export_html",
    "inject_parameters",
    "job_times_markdown",
    "jobs_markdown",
    "known_secrets",
    "offline_html",
    "quality_markdown",
    "redact_secrets",
    "render_report",
    "report_notebook_path",
]

REPORT_NOTEBOOK = "03-report.ipynb"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
_REMOTE_SCRIPT_TAG = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>", re.IGNORECASE
)
_REMOTE_JS_LINK = re.compile(
    r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*\.m?js\b[^>]*>", re.IGNORECASE
)
_REMOTE_JS_URL = re.compile(r"https?://[^\s\"'<>()]+?\.m?js(?:\?[^\s\"'<>()]*)?(?=[\s\"'<>()]|$)")


# -- finding and running the notebook -------------------------------------------------------


def report_notebook_path() -> Path:
    """The report notebook: shipped in the wheel (``fedimpute/_notebooks``) or in the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_notebooks" / REPORT_NOTEBOOK, here.parent / "notebooks" / REPORT_NOTEBOOK):
        if candidate.is_file():
            return candidate
    raise FedImputeError(
        f"the report notebook {REPORT_NOTEBOOK} is not installed with fedimpute; reinstall "
        "fedimpute, or run the notebook from the source tree (notebooks/)"
    )


def _import_notebook_stack() -> tuple[ModuleType, ModuleType, ModuleType]:
    try:
        import nbclient
        import nbconvert
        import nbformat
    except ImportError as exc:
        raise UsageError(
            f"reports need nbformat, nbclient, nbconvert and ipykernel ({exc.name} is missing); "
            "install them with `pip install 'fedimpute[report]'`"
        ) from exc
    return nbformat, nbclient, nbconvert


def inject_parameters(nb: Any, parameters: dict[str, Any]) -> None:
    """Insert a cell assigning ``parameters`` right after the cell tagged ``parameters``."""
    nbformat = _import_notebook_stack()[0]
    index = next(
        (i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None
    )
    if index is None:
        raise FedImputeError("the report notebook has no cell tagged 'parameters'")
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(index + 1, cell)


def execute_notebook(
    path: Path, parameters: dict[str, Any], *, timeout: int = 900, env: dict[str, str] | None = None
) -> Any:
    """Run the notebook headless with ``parameters``; a failing cell raises with its error."""
    nbformat, nbclient, _ = _import_notebook_stack()
    nb = nbformat.read(path, as_version=4)
    inject_parameters(nb, parameters)
    with tempfile.TemporaryDirectory(prefix="fedimpute-report-") as workdir:
        client = nbclient.NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": workdir}}
        )
        try:
            client.execute(env={**os.environ, **(env or {})})
        except nbclient.exceptions.CellExecutionError as exc:
            raise FedImputeError(f"the report notebook failed: {_last_line(exc)}") from exc
    return nb


def _last_line(exc: Exception) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else type(exc).__name__


# -- making the HTML safe to hand around ----------------------------------------------------


def export_html(nb: Any, *, title: str = "fedimpute report", show_code: bool = False) -> str:
    """nbconvert's lab template without its remote scripts; code cells hidden unless ``show_code``."""
    import jinja2

    _, _, nbconvert = _import_notebook_stack()
    nb.metadata["title"] = title
    for cell in nb.cells:  # outputs with nothing to show (extension loaders) only make nbconvert warn
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if o.get("output_type") != "display_data" or o.get("data")
            ]
    exporter = nbconvert.HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"fedimpute-report.html.j2": _TEMPLATE})],
        template_file="fedimpute-report.html.j2",
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
    )
    html, _ = exporter.from_notebook_node(nb)
    return str(html)


def offline_html(html: str) -> tuple[str, list[str]]:
    """Remove remote ``<script src>`` and ``.js`` links, and cut remote ``.js`` URLs out of inlined code
    (lazy loaders that would fetch, say, MathJax).  Returns the page and what was removed."""
    removed: list[str] = []

    def cut(match: re.Match[str]) -> str:
        removed.append(match.group(0))
        return ""

    html = _REMOTE_SCRIPT_TAG.sub(cut, html)
    html = _REMOTE_JS_LINK.sub(cut, html)
    html = _REMOTE_JS_URL.sub(cut, html)
    return html, removed


def known_secrets(home: Path | None = None) -> list[str]:
    """Every token and result password fedimpute could read here: environment and secret store."""
    from fedimpute.credentials import Credentials
    from fedimpute.store import Store

    store, creds = Store(home), Credentials(home)
    found = {
        v for k, v in os.environ.items() if k.startswith(("FEDIMPUTE_TOKEN_", "FEDIMPUTE_PASSWORD_")) and v
    }
    for service in store.list_services():
        found.update(t.get_secret_value() for t in creds.stored_tokens(service.name))
    for job in store.list_jobs():
        password = creds.password(job.job_id)
        if password is not None:
            found.add(password.get_secret_value())
    return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret replaced by ``***`` (longest first, so no fragment survives)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def render_report(
    job_ids: Sequence[str],
    out: Path,
    *,
    home: Path | None = None,
    timeout: int = 900,
    show_code: bool = False,
) -> Path:
    """Execute the report notebook for ``job_ids`` (empty: the latest completed jobs) and write a
    self-contained, offline, secret-free HTML file to ``out``."""
    from fedimpute.paths import home_dir
    from fedimpute.store import Store

    home = home_dir(home)
    store = Store(home)
    for job_id in job_ids:
        store.get_job(job_id)  # unknown ids fail before a kernel starts
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out must name an .html file, got {out}")
    nb = execute_notebook(
        report_notebook_path(), {"job_ids": list(job_ids)}, timeout=timeout, env={"FEDIMPUTE_HOME": str(home)}
    )
    html, _ = offline_html(export_html(nb, title=_title(job_ids), show_code=show_code))
    html, _ = inline_panel_css(html)
    html = redact_secrets(html, known_secrets(home))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def _title(job_ids: Sequence[str]) -> str:
    return "fedimpute report: " + (", ".join(job_ids) if job_ids else "latest jobs")


# -- markdown for the notebook --------------------------------------------------------------


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def jobs_markdown(store: Any, job_ids: Sequence[str]) -> str:
    """The jobs of the report: id, name, service, panel, status, times (UTC)."""
    rows = []
    for job_id in job_ids:
        j = store.get_job(job_id)
        rows.append(
            (
                j.job_id,
                j.name or "",
                j.service,
                j.panel or "",
                j.status.value,
                f"{j.created_at:%Y-%m-%d %H:%M}",
                f"{j.finished_at:%Y-%m-%d %H:%M}" if j.finished_at else "–",
            )
        )
    return _table(("job", "name", "service", "panel", "status", "created", "finished"), rows)


def quality_markdown(doc: dict[str, Any]) -> str:
    """A job's quality document as tables: MAF bins, then typed/imputed and chromosomes when present."""
    parts = [
        f"**{doc['variants']:,} variants with an R²**",
        _table(
            ("MAF bin", "variants", "mean R²", "R² ≥ 0.3", "R² ≥ 0.8"),
            [
                (bin_label(i), b["n"], b["mean_r2"], b["frac_r2_ge_0_3"], b["frac_r2_ge_0_8"])
                for i, b in enumerate(doc["bins"])
            ],
        ),
    ]
    if doc.get("by_status"):
        parts.append(
            _table(
                ("variants", "n", "mean R²", "R² ≥ 0.3", "R² ≥ 0.8"),
                [
                    (s["status"], s["n"], s["mean_r2"], s["frac_r2_ge_0_3"], s["frac_r2_ge_0_8"])
                    for s in doc["by_status"]
                ],
            )
        )
    parts.append(
        _table(
            ("chromosome", "variants", "mean R²"),
            [(c["chromosome"], c["n"], c["mean_r2"]) for c in doc["chromosomes"]],
        )
    )
    return "\n\n".join(parts)


def comparison_markdown(cmp: dict[str, Any]) -> str:
    """Shared-variant comparison: counts, mean R² per bin and job, pairwise agreement."""
    jobs = cmp["jobs"]
    counts = _table(
        ("job", "variants", "only in this job"), [(j, cmp["variants"][j], cmp["only"][j]) for j in jobs]
    )
    bins = _table(
        ("MAF bin", "shared variants", *(f"mean R² {j}" for j in jobs)),
        [(bin_label(i), b["n"], *(b["mean_r2"][j] for j in jobs)) for i, b in enumerate(cmp["bins"])],
    )
    pairs = _table(
        ("job A", "job B", "shared", "R² correlation", "mean R² A − B"),
        [(p["a"], p["b"], p["n"], p["r2_correlation"], p["mean_r2_difference"]) for p in cmp["pairs"]],
    )
    return f"**{cmp['shared']:,} variants shared by all jobs**\n\n{counts}\n\n{bins}\n\n{pairs}"


def job_times_markdown(stats: dict[str, Any]) -> str:
    """Queue, run and turnaround minutes per job (from :func:`fedimpute.quality.job_statistics`)."""

    def minutes(x: Any) -> float | None:
        return None if x is None or math.isnan(float(x)) else float(x) / 60.0

    rows = [
        (
            stats["job_id"][i],
            stats["service"][i],
            str(stats["status"][i]),
            minutes(stats["queue_seconds"][i]),
            minutes(stats["run_seconds"][i]),
            minutes(stats["turnaround_seconds"][i]),
        )
        for i in range(len(stats["job_id"]))
    ]
    return _table(("job", "service", "status", "queued (min)", "running (min)", "turnaround (min)"), rows)


def default_report_jobs(store: Any, limit: int = 5) -> list[str]:
    """The newest completed jobs (at most ``limit``): what a report shows when no job is named."""
    from fedimpute.models import JobStatus

    return [j.job_id for j in store.list_jobs(status=JobStatus.COMPLETED, limit=limit)]
