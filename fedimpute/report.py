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

Whose jobs: a report covers one owner's jobs (``owner``, else ``FEDIMPUTE_USER``, else the
login name), or every owner's with ``all_owners``; named jobs must belong to that scope, and the
service statistics inside count the scope's jobs only, so nobody's jobs leak into another's
report.  Values from users and services are escaped where the tables are built
(:mod:`fedimpute.report_tables`), and markdown outputs are re-rendered with raw HTML escaped and
``javascript:`` links cut before export (:func:`safe_markdown_outputs`), so no script from data
can run in the page.

nbformat, nbclient and nbconvert are imported inside the functions (they come with the
``report`` extra).
"""

from __future__ import annotations

import html as htmllib
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from fedimpute.exceptions import FedImputeError, JobNotFoundError, UsageError
from fedimpute.offline_css import inline_panel_css
from fedimpute.redaction import MASK
from fedimpute.report_tables import quality_markdown

__all__ = [
    "REPORT_NOTEBOOK",
    "ReportScope",
    "build_report",
    "default_report_jobs",
    "execute_notebook",
    "export_html",
    "inject_parameters",
    "known_secrets",
    "offline_html",
    "quality_markdown",
    "redact_secrets",
    "render_report",
    "report_notebook_path",
    "report_scope",
    "safe_markdown_outputs",
    "with_provenance_section",
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
    safe_markdown_outputs(nb)
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


def safe_markdown_outputs(nb: Any) -> int:
    """Render every ``text/markdown`` output to HTML with raw HTML escaped and harmful link targets
    (``javascript:``, ``data:`` ...) cut, in place; return how many.  nbconvert's own rendering leaves
    both live, so a value that reached a markdown output could run script in the exported page."""
    import mistune

    render = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    done = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if "text/markdown" in data:
                data["text/html"] = str(render(data.pop("text/markdown")))
                done += 1
    return done


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


def with_provenance_section(html: str, job_ids: Sequence[str]) -> str:
    """``html`` with a short "Provenance" section before ``</body>``: per reported job, how to get its
    RO-Crate (inputs and results with SHA-256, options, service, panel, tool versions, events)."""
    if not job_ids:
        return html
    items = "".join(f"<li><code>{htmllib.escape(j)}</code>: <code>fedimpute provenance {htmllib.escape(j)}</code> "
                    "(or the job view's Provenance button)</li>" for j in job_ids)
    section = ('<section id="fedimpute-provenance" style="margin:2em"><h2>Provenance</h2><p>How each result '
               "was made, as an RO-Crate: input and result files with SHA-256, options, service, reference panel, "
               f"tool versions and the job's history.</p><ul>{items}</ul></section>")
    at = html.lower().rfind("</body>")
    return html[:at] + section + html[at:] if at >= 0 else html + section


@dataclass(frozen=True)
class ReportScope:
    """Whose jobs a report covers (``owner`` None: every owner's), the jobs it reports, and the jobs
    its service statistics count (every job of the scope)."""

    owner: str | None
    job_ids: list[str]
    scope_ids: list[str]

    @property
    def title(self) -> str:
        whose = f"jobs of {self.owner}" if self.owner is not None else "jobs of every owner"
        return "fedimpute report: " + (", ".join(self.job_ids) if self.job_ids else f"no {whose}")


def report_scope(store: Any, job_ids: Sequence[str], *, owner: str | None = None, all_owners: bool = False,
                 limit: int = 5) -> ReportScope:
    """The jobs a report covers: ``job_ids``, else the ``limit`` newest completed ones of the scope.

    The scope is ``owner`` (else ``FEDIMPUTE_USER``, else the login name) or, with ``all_owners``, every
    owner.  A named job outside the scope is refused like a missing one (a dashboard must not learn
    that another user's job exists)."""
    from fedimpute.owners import default_owner

    if owner and all_owners:
        raise UsageError("give --owner USER or --all-owners, not both")
    who = None if all_owners else default_owner(owner)
    scope = [j.job_id for j in store.list_jobs(owner=who)]
    known = set(scope)
    for job_id in job_ids:
        if who is None:
            store.get_job(job_id)  # unknown ids fail before a kernel starts
        elif job_id not in known:
            raise JobNotFoundError(f"no job {job_id} of {who} in this store; check the id with `fedimpute jobs "
                                   "list`, name its owner with --owner USER, or give --all-owners")
    chosen = list(dict.fromkeys(job_ids)) or default_report_jobs(store, limit, owner=who)
    return ReportScope(owner=who, job_ids=chosen, scope_ids=scope)


def default_report_jobs(store: Any, limit: int = 5, *, owner: str | None = None) -> list[str]:
    """The newest completed jobs (at most ``limit``) of ``owner`` (None: of every owner): what a report
    shows when no job is named."""
    from fedimpute.models import JobStatus

    return [j.job_id for j in store.list_jobs(status=JobStatus.COMPLETED, owner=owner, limit=limit)]


def render_report(
    job_ids: Sequence[str],
    out: Path,
    *,
    home: Path | None = None,
    owner: str | None = None,
    all_owners: bool = False,
    timeout: int = 900,
    show_code: bool = False,
) -> Path:
    """Execute the report notebook for ``job_ids`` (empty: the latest completed jobs of the scope, see
    :func:`report_scope`) and write a self-contained, offline, secret-free HTML file to ``out``."""
    from fedimpute.paths import home_dir
    from fedimpute.store import Store

    home = home_dir(home)
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out must name an .html file, got {out}")
    scope = report_scope(Store(home), job_ids, owner=owner, all_owners=all_owners)
    parameters = {"job_ids": scope.job_ids, "owner": scope.owner, "all_owners": scope.owner is None}
    nb = execute_notebook(report_notebook_path(), parameters, timeout=timeout, env={"FEDIMPUTE_HOME": str(home)})
    html, _ = offline_html(export_html(nb, title=scope.title, show_code=show_code))
    html, _ = inline_panel_css(html)
    html = with_provenance_section(html, scope.job_ids)
    secrets = known_secrets(home)
    html = redact_secrets(html, [*secrets, *(htmllib.escape(s) for s in secrets)])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def build_report(home: Path | None, job_ids: Sequence[str], *, owner: str | None, all_owners: bool,
                 out: Path | None = None, timeout: int = 900) -> Path:
    """The offline HTML report for a dashboard user: :func:`render_report` written to ``out``, else to a
    new file in ``<home>/reports/`` (the home is private to its owner); returns its path.  The caller
    passes the signed-in user as ``owner`` (``all_owners`` for an admin's choice) and deletes the file
    once it is sent."""
    from fedimpute.paths import home_dir

    if out is not None:
        return render_report(job_ids, out, home=home, owner=owner, all_owners=all_owners, timeout=timeout)
    folder = home_dir(home) / "reports"
    folder.mkdir(mode=0o700, exist_ok=True)
    who = re.sub(r"[^A-Za-z0-9._-]+", "_", "all-owners" if all_owners else owner or "owner")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    fd, name = tempfile.mkstemp(prefix=f"report-{who}-{stamp}-", suffix=".html", dir=folder)
    os.close(fd)
    try:
        return render_report(job_ids, Path(name), home=home, owner=owner, all_owners=all_owners, timeout=timeout)
    except BaseException:
        Path(name).unlink(missing_ok=True)  # no empty report left behind
        raise
