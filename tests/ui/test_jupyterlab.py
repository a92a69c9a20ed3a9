"""Live JupyterLab: notebook 02-monitor shows the dashboard inline, with the user's jobs only.

A real ``jupyter lab`` subprocess (no token, loopback) serves a copy of the notebook; chromium
opens it on a fresh workspace, runs every cell, and the jobs table appears in the output with
alice's jobs and none of bob's.  Panel's JavaScript comes from the notebook (``inline=True``),
so nothing is fetched from a CDN.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT
from tests.ui.serving import dashboard_env, free_port, screenshot, stop_process_group, wait_until_up

pytestmark = pytest.mark.browser


@pytest.fixture
def lab(tmp_path, home, owners):
    """``jupyter lab`` over a folder holding a copy of 02-monitor.ipynb, for alice's FEDIMPUTE_HOME."""
    folder = tmp_path / "lab"
    folder.mkdir()
    shutil.copy(ROOT / "notebooks" / "02-monitor.ipynb", folder / "monitor.ipynb")
    port, log = free_port(), tmp_path / "lab.log"
    env = dashboard_env(home, FEDIMPUTE_USER="alice", JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
                        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab-settings"),
                        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "lab-workspaces"))
    args = [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip", "127.0.0.1",
            "--port", str(port), "--IdentityProvider.token=", "--ServerApp.password=",
            "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={folder}"]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(proc, base, log, path="/api/status", what="jupyter lab")
        yield base
    finally:
        stop_process_group(proc)


def test_jupyterlab__monitor_notebook_shows_the_dashboard_inline(page: Page, lab, owners):
    """We can run 02-monitor in a live JupyterLab: the dashboard renders with alice's jobs, not bob's."""
    cdn, frames = [], []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))))
    page.on("request", lambda r: cdn.append(r.url) if "cdn.holoviz.org" in r.url or "cdn.bokeh.org" in r.url
            else None)
    page.goto(f"{lab}/lab/workspaces/t{int(time.time())}/tree/monitor.ipynb?reset")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                           timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    expect(page.get_by_text("signed in as alice").first).to_be_visible(timeout=120_000)
    for job_id in owners.alice[:3]:
        expect(page.get_by_text(job_id).first).to_be_visible()
    expect(page.get_by_text(f"{len(owners.alice)} job(s) for alice")).to_be_visible()
    screenshot(page, "jupyterlab-inline")
    received = page.content() + "".join(frames)  # the page and everything the kernel sent it
    assert owners.alice[0] in received and not any(job_id in received for job_id in owners.bob)
    assert not cdn, cdn[:3]
