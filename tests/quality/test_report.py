"""The HTML report: parameters injected, remote scripts and secrets removed, values escaped, one owner's
jobs (or every owner's when asked), the commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fedimpute.exceptions import FedImputeError, JobNotFoundError, UsageError
from fedimpute.report import (
    inject_parameters,
    known_secrets,
    offline_html,
    quality_markdown,
    redact_secrets,
    render_report,
    report_notebook_path,
    report_scope,
)
from fedimpute.report_tables import comparison_html, jobs_html, quality_html
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


def test_tables__values_escaped(store, known_files):
    from fedimpute.quality import compare_jobs, job_quality_details

    a = add_job(store, known_files["info"], name=EVIL_NAME)
    b = add_job(store, known_files["minimac4-dose"])
    jobs = jobs_html(store, [a])
    assert "<img" not in jobs and f"<td>{a}</td><td>{EVIL_ESCAPED}</td><td>tester</td><td>local</td>" in jobs
    q = quality_html(job_quality_details(store, a), a)
    assert "<strong>12 variants with an R²</strong>" in q
    assert "<tr><td>[0.05, 0.5]</td><td>5</td><td>0.525</td><td>0.800</td><td>0.200</td></tr>" in q
    assert "<td>typed</td><td>2</td><td>0.625</td>" in q and "<td>X</td><td>1</td><td>0.500</td>" in q
    c = comparison_html(compare_jobs(store, [a, b]))
    assert "12 variants shared by all jobs" in c and f"<td>{a}</td><td>{b}</td><td>12</td><td>1.000</td>" in c


def test_quality_markdown__cells_cannot_become_markup():
    """The markdown kept for notebooks: a chromosome named like HTML, a link or a cell break stays text."""
    import mistune

    doc = {"variants": 1, "bins": [], "chromosomes": [
        {"chromosome": "<img src=x onerror=alert(1)>", "n": 1, "mean_r2": 0.5},
        {"chromosome": "[x](javascript:alert(2)) a|b *c* &amp;", "n": 2, "mean_r2": None}]}
    md = quality_markdown(doc)
    page = mistune.create_markdown(escape=False, plugins=["table"])(md)  # as nbconvert renders it: HTML live
    assert "<img" not in page and "<a " not in page and "<em>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "[x](javascript:alert(2)) a|b *c* &amp;amp;" in page


def test_export__markdown_outputs_rendered_without_live_html(tmp_path):
    """nbconvert would keep raw HTML and javascript: links of a markdown output live; the export escapes them."""
    from fedimpute.report import export_html

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(Markdown(name))")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": (
        f"**job** {EVIL_NAME} <script>window.__y=1</script> [open](javascript:window.__z=1)\n\n| a |\n|---|\n| b |"
    )})]
    nb.cells.append(cell)
    html = export_html(nb)
    assert EVIL_NAME not in html and "<script>window.__y" not in html and "javascript:" not in html
    assert EVIL_ESCAPED in html and "&lt;script&gt;window.__y=1&lt;/script&gt;" in html
    assert "<strong>job</strong>" in html and "<td>b</td>" in html  # markdown itself still renders


def test_report_scope__owner_env_all_owners(store, monkeypatch):
    mine = _job(store, "tester", "mine")
    bobs = _job(store, "bob", "bob's")
    assert report_scope(store, []).job_ids == [mine]  # FEDIMPUTE_USER=tester (conftest)
    monkeypatch.setenv("FEDIMPUTE_USER", "bob")
    scope = report_scope(store, [])
    assert (scope.owner, scope.job_ids, scope.scope_ids) == ("bob", [bobs], [bobs])
    assert report_scope(store, [], owner="tester").job_ids == [mine]
    every = report_scope(store, [], all_owners=True)
    assert every.owner is None and set(every.job_ids) == set(every.scope_ids) == {mine, bobs}
    assert report_scope(store, [mine], all_owners=True).job_ids == [mine]
    with pytest.raises(JobNotFoundError, match=f"no job {mine} of bob in this store.*--all-owners"):
        report_scope(store, [mine])  # another owner's job: refused like a missing one
    with pytest.raises(JobNotFoundError, match="no job fi-unknown of bob"):
        report_scope(store, ["fi-unknown"])
    with pytest.raises(UsageError, match="--owner USER or --all-owners, not both"):
        report_scope(store, [], owner="bob", all_owners=True)


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


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
EVIL_NAME = "<img src=x onerror=window.__x=1>"
EVIL_ESCAPED = "&lt;img src=x onerror=window.__x=1&gt;"
EVIL_MESSAGE = "Remaining sites: 7,735 <script>window.__y=1</script>"


def _job(store, owner: str, name: str, status: str = "completed") -> str:
    from fedimpute.models import Job, JobStatus

    job = store.add_job(Job(service="local", owner=owner, panel="sim", name=name))
    store.update_job(job.job_id, status=JobStatus(status), detail="test")
    return job.job_id


@pytest.fixture
def shared_home(store, known_files):
    """A home shared by tester and bob: tester's job with a hostile name, step message and service
    description, two more tester jobs, and three of bob's."""
    from fedimpute.catalogue import make_service
    from fedimpute.models import MessageLevel, StepMessage

    store.add_service(make_service("local", "wes", "http://127.0.0.1:9/ga4gh/wes/v1",
                                   description="lab engine <b onmouseover=window.__s=1>fast</b>"))
    evil = add_job(store, known_files["info"], name=EVIL_NAME)
    store.add_step_messages([StepMessage(job_id=evil, step_index=0, step="Input Validation", message_index=0,
                                         level=MessageLevel.INFO, text=EVIL_MESSAGE)])
    mine = [evil, _job(store, "tester", "second", "failed"), _job(store, "tester", "third", "running")]
    bobs = [_job(store, "bob", "bob secret study"), _job(store, "bob", "bob 2", "failed"),
            _job(store, "bob", "bob 3", "queued")]
    return {"mine": mine, "bobs": bobs}


@pytest.mark.slow
def test_render_report__owner_only_and_every_value_escaped(store, shared_home, tmp_path):
    """Without job ids, the report holds the owner's jobs only, counts only theirs in the statistics, and
    shows a hostile job name, step message and service description as text; in chromium no script of
    theirs runs."""
    evil = shared_home["mine"][0]
    out = render_report([], tmp_path / "report.html", home=store.home)
    html = out.read_text()
    assert_offline(html)
    assert EVIL_NAME not in html and "<script>window.__y" not in html and "<b onmouseover" not in html
    assert EVIL_ESCAPED in html and "&lt;script&gt;window.__y=1&lt;/script&gt;" in html
    assert "&lt;b onmouseover=window.__s=1&gt;fast&lt;/b&gt;" in html
    assert evil in html and "Jobs of <strong>tester</strong>: 3 in this store; this report shows 1." in html
    assert not any(job_id in html for job_id in shared_home["bobs"]) and "bob secret study" not in html
    assert "Jobs by service and status (3)" in html
    _open_in_chromium(out)


@pytest.mark.slow
def test_cli_report__all_owners_holds_every_job(store, shared_home, tmp_path):
    import typer
    from typer.testing import CliRunner

    from fedimpute.cli.report import report

    app = typer.Typer()
    app.command()(report)
    out = tmp_path / "all.html"
    result = CliRunner().invoke(app, ["--all-owners", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "Jobs of <strong>every owner</strong>: 6 in this store; this report shows 2." in html
    assert "Jobs by service and status (6)" in html
    assert shared_home["bobs"][0] in html and "bob secret study" in html and EVIL_ESCAPED in html
    bob = CliRunner().invoke(app, ["--owner", "bob", "--out", str(tmp_path / "bob.html")])
    assert bob.exit_code == 0, bob.output
    bob_html = (tmp_path / "bob.html").read_text()
    assert "Jobs of <strong>bob</strong>: 3 in this store" in bob_html and "Jobs by service and status (3)" in bob_html
    assert not any(job_id in bob_html for job_id in shared_home["mine"])


def test_cli_report__owner_and_all_owners_together_exit_2(cli, tmp_path):
    result = cli("report", "--owner", "bob", "--all-owners", "--out", str(tmp_path / "r.html"))
    assert result.returncode == 2 and "--owner USER or --all-owners, not both" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_build_report__refuses_another_owners_job_and_leaves_no_file(store, shared_home):
    from fedimpute.report import build_report

    with pytest.raises(JobNotFoundError, match="of tester"):
        build_report(store.home, [shared_home["bobs"][0]], owner="tester", all_owners=False)
    assert not list((store.home / "reports").iterdir())


@pytest.mark.slow
def test_build_report__dashboard_call_writes_a_private_report(store, shared_home):
    from fedimpute.report import build_report

    path = build_report(store.home, [], owner="bob", all_owners=False)
    assert path.parent == store.home / "reports" and path.name.startswith("report-bob-") and path.suffix == ".html"
    html = path.read_text()
    assert shared_home["bobs"][0] in html and not any(job_id in html for job_id in shared_home["mine"])


def _open_in_chromium(page_file) -> None:
    """Load the report offline; the plots draw, the hostile values show as text and never run."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.fail("Chromium is not installed: run scripts/setup.sh (apt-get install -y chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:",
                                                                                      "about:")) else r.abort())
            page.goto(page_file.as_uri())
            page.locator("canvas").first.wait_for(state="visible", timeout=60_000)  # the page's scripts ran
            page.get_by_text(EVIL_NAME).first.wait_for(state="visible")
            # an onmouseover would run on this event (dispatched: a pointer hover waits for layout)
            page.get_by_text("lab engine <b onmouseover=window.__s=1>fast</b>").first.dispatch_event("mouseover")
            assert page.get_by_text(EVIL_MESSAGE).count() == 1
            flags = page.evaluate("() => [window.__x, window.__y, window.__s]")
            assert flags == [None, None, None]
            assert page.locator("img[src='x'], [onerror*='__x'], [onmouseover*='__s']").count() == 0
            assert not dialogs
        finally:
            browser.close()
