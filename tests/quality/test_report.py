"""The HTML report: parameters injected, remote scripts and secrets removed, the commands."""

from __future__ import annotations

import json
import re

import pytest

from fedimpute.exceptions import FedImputeError, JobNotFoundError, UsageError
from fedimpute.report import (
    comparison_markdown,
    inject_parameters,
    jobs_markdown,
    known_secrets,
    offline_html,
    quality_markdown,
    redact_secrets,
    render_report,
    report_notebook_path,
)
from tests.quality.jobs import add_job, add_timed_job

nbformat = pytest.importorskip("nbformat")

REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", re.IGNORECASE)
REMOTE_JS = re.compile(r"https?://[^\s\"'<>()]+\.m?js(?=[?#\s\"'<>()]|$)")  # a URL of a .js/.mjs file


def assert_offline(html: str) -> None:
    """No remote <script src>, no .js link, no http(s) URL of a JS file anywhere in the page."""
    assert not REMOTE_SCRIPT.search(html)
    assert not re.search(r"<link\b[^>]*href\s*=\s*[\"']?(https?:)?//[^>]*\.m?js", html, re.IGNORECASE)
    assert not REMOTE_JS.findall(html), REMOTE_JS.findall(html)[:5]


def test_offline_html__remote_scripts_and_js_urls_are_cut():
    html = (
        '<head><script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>'
        "<script src='//cdn.example.org/x.js' ></script><link rel=preload href=\"https://cdn.x.org/a.mjs\">"
        '<script src="local.js"></script><link rel="stylesheet" href="https://cdn.holoviz.org/x.css">'
        '<script>t.src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js",go()</script></head>'
    )
    clean, removed = offline_html(html)
    assert_offline(clean)
    assert len(removed) == 4
    assert '<script src="local.js"></script>' in clean and "x.css" in clean and 't.src="",go()' in clean


def test_inline_panel_css__cdn_stylesheets_become_data_urls_with_their_assets(tmp_path):
    import base64

    from fedimpute.offline_css import inline_panel_css

    dist = tmp_path / "dist"
    (dist / "css").mkdir(parents=True)
    (dist / "assets").mkdir()
    (dist / "assets" / "spin.svg").write_text("<svg/>")
    (dist / "css" / "loading.css").write_text(".a{mask:url('../assets/spin.svg')} .b{background:url(data:x)}")
    html = ('{"url":"https://cdn.holoviz.org/panel/1.9.4/dist/css/loading.css?v=1.9.4"} '
            '{"url":"https:\\/\\/cdn.holoviz.org\\/panel\\/1.9.4\\/dist\\/css\\/loading.css"} '
            '{"url":"https://cdn.holoviz.org/panel/1.9.4/dist/css/absent.css"} '
            '{"url":"https://cdn.holoviz.org/panel/1.9.4/dist/../../secret.css"}')
    out, missing = inline_panel_css(html, dist)
    assert "loading.css" not in out and out.count("data:text/css;base64,") == 2
    css = base64.b64decode(out.split("data:text/css;base64,")[1].split('"')[0]).decode()
    svg = "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode()
    assert f"url('{svg}')" in css and "url(data:x)" in css
    assert [m.rsplit("/", 1)[-1] for m in missing] == ["absent.css", "secret.css"]  # outside dist: refused
    assert "dist/../../secret.css" in out


def test_redact_secrets__longest_first():
    assert redact_secrets("tok abcdef and abcdefgh", ["abcdef", "abcdefgh"]) == "tok *** and ***"


def test_known_secrets__tokens_and_result_passwords(store, monkeypatch):
    from fedimpute.credentials import Credentials
    from fedimpute.models import Job

    monkeypatch.setenv("FEDIMPUTE_TOKEN_MICHIGAN", "env-token-1234")
    creds = Credentials(store.home)
    creds.set_token("topmed", "stored-token-5678")
    job = store.add_job(Job(service="michigan", owner="tester"))
    creds.set_password(job.job_id, "zip-password-9")
    assert set(known_secrets(store.home)) == {"env-token-1234", "stored-token-5678", "zip-password-9"}


def test_inject_parameters__after_the_tagged_cell():
    nb = nbformat.read(report_notebook_path(), as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    inject_parameters(nb, {"job_ids": ["fi-1", "fi-2"]})
    cell = nb.cells[index + 1]
    assert cell.source == "job_ids = ['fi-1', 'fi-2']" and cell.metadata["tags"] == ["injected-parameters"]
    untagged = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(FedImputeError, match="no cell tagged 'parameters'"):
        inject_parameters(untagged, {"job_ids": []})


def test_notebooks__clean_and_parameterised():
    """Committed notebooks carry no outputs, and the report's parameters cell sets job_ids."""
    for name in ("01-quickstart.ipynb", "03-report.ipynb"):
        nb = nbformat.read(report_notebook_path().parent / name, as_version=4)
        nbformat.validate(nb)
        assert all(
            not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code"
        )
        assert any("await " in c.source for c in nb.cells) or name == "03-report.ipynb"
        assert any("inline=True" in c.source for c in nb.cells)
    report = nbformat.read(report_notebook_path(), as_version=4)
    tagged = [c for c in report.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].source.startswith("job_ids = []")


def test_markdown__tables(store, known_files):
    from fedimpute.quality import compare_jobs, job_quality_details

    a, b = add_job(store, known_files["info"], name="a|b"), add_job(store, known_files["minimac4-dose"])
    jobs = jobs_markdown(store, [a])
    assert f"| {a} | a\\|b | local | sim | completed |" in jobs
    q = quality_markdown(job_quality_details(store, a))
    assert "**12 variants with an R²**" in q and "| [0.05, 0.5] | 5 | 0.525 | 0.800 | 0.200 |" in q
    assert "| typed | 2 | 0.625 |" in q and "| X | 1 | 0.500 |" in q
    c = comparison_markdown(compare_jobs(store, [a, b]))
    assert "**12 variants shared by all jobs**" in c and f"| {a} | {b} | 12 | 1.000 | 0.000 |" in c


def test_render_report__refuses_unknown_jobs_and_non_html(store, tmp_path):
    with pytest.raises(JobNotFoundError):
        render_report(["fi-unknown"], tmp_path / "r.html", home=store.home)
    with pytest.raises(UsageError, match=r"\.html"):
        render_report([], tmp_path / "r.pdf", home=store.home)


@pytest.mark.slow
def test_render_report__two_jobs_compared_offline_and_without_secrets(
    store, known_files, tmp_path, monkeypatch
):
    """We can report two jobs on the same input: tables, comparison, plots; offline and secret-free."""
    from fedimpute.credentials import Credentials

    a = add_job(store, known_files["info"], name="minimac run")
    b = add_job(store, known_files["beagle-dose"], name="beagle run")
    add_timed_job(store, "michigan", [("queued", 1), ("running", 11), ("completed", 41)])
    monkeypatch.setenv("FEDIMPUTE_TOKEN_MICHIGAN", "planted-env-token-4821")
    Credentials(store.home).set_password(a, "planted-zip-password-77")
    out = render_report([a, b], tmp_path / "out" / "report.html", home=store.home, show_code=True)
    html = out.read_text()
    assert_offline(html)
    assert "planted-env-token-4821" not in html and "planted-zip-password-77" not in html
    assert "12 variants shared by all jobs" in html and "per shared variant (12)" in html  # plot titles: JSON
    assert (
        "by MAF bin" in html and "R\\u00b2 along chromosome 20" in html and "Queue time per service" in html
    )
    assert "Warning" not in html and "Traceback" not in html
    assert "Bokeh" in html and len(html) > 1_000_000  # Bokeh JS inlined


def test_cli__quality_and_report_commands(store, known_files, tmp_path):
    """The command functions (wired into `fedimpute` by the CLI module) print the contract's JSON."""
    import typer
    from typer.testing import CliRunner

    from fedimpute.cli.report import quality, report

    app = typer.Typer()
    app.command("quality")(quality)
    app.command("report")(report)
    job_id = add_job(store, known_files["info"])
    runner = CliRunner()
    result = runner.invoke(app, ["quality", job_id, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == ["job_id", "variants", "bins", "chromosomes"] and doc["variants"] == 12
    detailed = json.loads(runner.invoke(app, ["quality", job_id, "--json", "--details"]).stdout)
    assert [s["status"] for s in detailed["by_status"]] == ["imputed", "typed"]
    text = runner.invoke(app, ["quality", job_id, "--details"]).stdout
    assert "[0.05, 0.5]" in text and "typed variants" in text and "chromosome X: 1 variants" in text
    missing_out = runner.invoke(app, ["report", job_id])
    assert missing_out.exit_code == 2 and "--out" in missing_out.output
    unknown = runner.invoke(app, ["report", "fi-unknown", "--out", str(tmp_path / "r.html")])
    assert isinstance(unknown.exception, JobNotFoundError)
