"""End to end on the demo: notebooks run headless, and the report renders offline in Chromium.

One demo home (simulated data, the local engine, one completed and downloaded job) is shared by
the module's tests; the engine is stopped when they are done.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.quality.conftest import _tools_or_fail
from tests.quality.test_report import assert_offline

pytestmark = pytest.mark.slow
nbformat = pytest.importorskip("nbformat")
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """A FEDIMPUTE_HOME made by ``fedimpute demo`` itself, from empty: the demo data, the running local
    engine, one completed and downloaded job, and the dashboard the command ends by serving."""
    import subprocess
    import sys

    from fedimpute.engine.server import engine_stop
    from fedimpute.models import JobStatus
    from fedimpute.store import Store
    from tests.ui.serving import dashboard_env, free_port, stop_process_group, wait_until_up

    _tools_or_fail("bcftools", "tabix", "bgzip", "minimac4", "beagle", "eagle")
    home = tmp_path_factory.mktemp("demo-home")
    port, log = free_port(), home.parent / f"{home.name}-demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "fedimpute", "demo", "--port", str(port)],
                                env=dashboard_env(home, FEDIMPUTE_USER="tester"), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(proc, f"http://127.0.0.1:{port}", log, timeout=900)  # simulate, impute, download
        [job] = Store(home).list_jobs()
        assert job.status is JobStatus.COMPLETED and job.name == "demo" and job.owner == "tester"
        from fedimpute.engine.demo import DEMO_PANEL

        yield {"home": home, "job_id": job.job_id, "proc": proc, "port": port, "log": log,
               "demo": {"panel": DEMO_PANEL, "target": home / "demo" / "array.vcf.gz"}}
    finally:
        stop_process_group(proc)
        engine_stop(home)


@pytest.fixture
def demo(demo_home, monkeypatch):
    monkeypatch.setenv("FEDIMPUTE_HOME", str(demo_home["home"]))
    return demo_home


def _execute(path: Path, workdir: Path, timeout: int = 900):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    return nb, outputs


def _mimes(outputs) -> set[str]:
    return {m for o in outputs for m in o.get("data", {})}


def test_notebooks__quickstart_runs_headless(demo, tmp_path):
    """We can run 01-quickstart top to bottom: catalogue, pre-flight (or its note), submit, wait, quality."""
    from fedimpute.store import Store

    before = {j.job_id for j in Store(demo["home"]).list_jobs()}
    _, outputs = _execute(NOTEBOOKS / "01-quickstart.ipynb", tmp_path)
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "| local | local |" in text and "sim-demo" in text and ": completed" in text
    assert "pre-flight: " in text or "Pre-flight checks are not available" in text
    assert "application/vnd.holoviews_exec.v0+json" in _mimes(outputs)
    new = [j for j in Store(demo["home"]).list_jobs() if j.job_id not in before]
    assert len(new) == 1 and new[0].status.value == "completed" and new[0].name == "quickstart"


def test_notebooks__monitor_runs_headless_on_the_demo(demo, tmp_path):
    """02-monitor shows the demo job in the inline dashboard and the quality of the newest completed job."""
    _, outputs = _execute(NOTEBOOKS / "02-monitor.ipynb", tmp_path, timeout=300)
    text = "".join(o.get("text", "") for o in outputs) + "".join(str(o.get("data", {})) for o in outputs)
    assert demo["job_id"] in text and "job(s) for tester" in text and "no completed job yet" not in text
    assert "application/vnd.holoviews_exec.v0+json" in _mimes(outputs)


def test_notebooks__report_runs_with_parameters(demo, tmp_path):
    """03-report runs headless for the jobs named in its parameters cell."""
    from fedimpute.report import execute_notebook

    nb = execute_notebook(NOTEBOOKS / "03-report.ipynb", {"job_ids": [demo["job_id"]]}, timeout=600)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    tables = "".join(o.get("data", {}).get("text/html", "") for o in outputs)  # escaped HTML, never markdown
    assert demo["job_id"] in tables and "variants with an R²" in tables and "<td>typed</td>" in tables
    assert "application/vnd.holoviews_exec.v0+json" in _mimes(outputs)


def test_report__demo_html_offline_secret_free_and_plots_render_in_chromium(demo, tmp_path, monkeypatch):
    """`fedimpute report JOB --out FILE.html`: no remote scripts, no secrets; plots drawn offline."""
    import typer
    from typer.testing import CliRunner

    from fedimpute.cli.report import report
    from fedimpute.credentials import Credentials

    token, password = "planted-token-9a7f3e21", "planted-result-password-5c1d"
    monkeypatch.setenv("FEDIMPUTE_TOKEN_LOCAL", token)
    Credentials(demo["home"]).set_password(demo["job_id"], password)
    out = tmp_path / "report.html"
    app = typer.Typer()
    app.command()(report)
    result = CliRunner().invoke(app, [demo["job_id"], "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert_offline(html)
    assert token not in html and password not in html
    assert demo["job_id"] in html and "variants with an R²" in html
    _render_offline(out, tmp_path / "report.png")


def _render_offline(page_file: Path, screenshot: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.fail("Chromium is not installed: run scripts/setup.sh (apt-get install -y chromium)")
    remote: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:  # no network: anything remote is refused, so the page must stand on its own
            remote.append(r.request.url)
            r.abort()

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", route)
            page.goto(page_file.as_uri())
            page.locator("canvas").first.wait_for(state="visible", timeout=60_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(screenshot), full_page=True)
            assert page.locator("canvas").count() >= 7  # every plot of the report drew
            assert page.get_by_text("Imputation report").first.is_visible()
        finally:
            browser.close()
    assert not [u for u in remote if re.search(r"\.m?js(\?|#|$)", u)], remote
    assert not [u for u in remote if "cdn.holoviz.org" in u], remote  # Panel's CSS is inlined too
    assert not errors, errors


def test_demo_command__prints_quality_then_serves_the_dashboard_with_the_job(demo):
    """`fedimpute demo` from an empty home (the module's fixture) imputed the demo cohort, printed its
    quality and serves the dashboard listing the job; Ctrl-C ends it cleanly, the engine keeps running."""
    import signal

    import httpx

    from fedimpute.engine.server import engine_status

    base = f"http://127.0.0.1:{demo['port']}"
    assert httpx.get(f"{base}/dashboard", timeout=30).status_code == 200
    _job_listed_in_browser(f"{base}/dashboard", demo["job_id"])
    demo["proc"].send_signal(signal.SIGINT)
    demo["proc"].wait(30)
    text = demo["log"].read_text(errors="replace")
    assert f"submitted demo job {demo['job_id']}" in text and f"demo job {demo['job_id']} is completed" in text
    assert "[0.05, 0.5]" in text and f"dashboard at {base}/dashboard" in text and "Traceback" not in text
    assert engine_status(demo["home"])["running"]


def test_demo__quality_meets_the_floor_for_common_variants(demo):
    """On the demo data set, the service-estimated mean R² of the [0.05, 0.5] MAF bin is at least 0.9,
    read from chr20.info.gz in the layout Michigan 2 delivers (the info VCF of `minimac4 --sites`)."""
    from fedimpute.quality import describe_file, find_quality_files, job_quality
    from fedimpute.store import Store

    store = Store(demo["home"])
    [info] = find_quality_files(store, demo["job_id"])
    assert info.name == "chr20.info.gz" and describe_file(info).layout == "info VCF (sites only) with R2"
    doc = job_quality(store, demo["job_id"])
    common = doc["bins"][-1]
    assert common["n"] > 1000 and common["mean_r2"] >= 0.9, common


def _job_listed_in_browser(url: str, job_id: str) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            page.get_by_text(job_id).first.wait_for(state="visible", timeout=60_000)
        finally:
            browser.close()
