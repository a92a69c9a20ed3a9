"""Fixtures for the dashboard tests: stores with jobs, served dashboards, Debian's chromium.

Browser tests drive ``/usr/bin/chromium`` (``apt-get install chromium``) through Playwright;
``playwright install`` is never needed.  Each served dashboard is a real ``panel serve``
subprocess in its own session, killed as a process group (its workers would outlive a
plain kill and keep the port and the DuckDB lock).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.ui.data import Owners, populate
from tests.ui.serving import (
    CHROMIUM_ARGS,
    COOKIE_SECRET,
    Served,
    add_accounts,
    dashboard_env,
    free_port,
    stop_process_group,
    wait_until_up,
)

EXPECT_TIMEOUT_MS = 30_000  # a 2-core CI machine that also runs the imputation engine


def pytest_configure(config) -> None:
    # bokeh 3.9 on pandas 3 warns on every table update (its own reset_index call); not ours to fix
    config.addinivalue_line("filterwarnings", "ignore:The inplace keyword in DataFrame.reset_index:Warning")
    try:
        from playwright.sync_api import expect
    except ImportError:  # pragma: no cover - playwright is a test dependency
        return
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch the system chromium instead of a browser Playwright would download."""
    exe = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not exe:
        pytest.fail("no system chromium: run scripts/setup.sh (apt-get install chromium) or set CHROMIUM")
    return {**browser_type_launch_args, "executable_path": exe, "args": CHROMIUM_ARGS}


# pytest-playwright keeps one sync Playwright (whose event loop counts as running in the main thread)
# for the whole session: every async test collected after the first browser test would then fail
# ("cannot be called from a running event loop").  These overrides confine it to a browser module.

@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name or "chromium")


@pytest.fixture(scope="module")
def browser(browser_type, browser_type_launch_args):
    browser = browser_type.launch(**browser_type_launch_args)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def browser_context_args():
    """A tall viewport, so full-page screenshots show a job's detail under the table.

    (Replaces the plugin's, which needs the session-wide Playwright for device presets.)
    """
    return {"viewport": {"width": 1400, "height": 1600}}


@pytest.fixture
def context(context):
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    return context


@pytest.fixture(scope="module")
def serve_app(tmp_path_factory) -> Iterator:
    """Start ``panel serve apps/dashboard.py`` for a home; returns a function, stops them all after."""
    started: list[Served] = []

    def start(home: Path, *, users: dict[str, str] | None = None, admins: tuple[str, ...] = (), **env: str) -> Served:
        """``users`` become accounts of the home (``admins`` among them), served with fedimpute's sign-in."""
        port = free_port()
        work = tmp_path_factory.mktemp("served")
        args = [sys.executable, "-m", "panel", "serve", str(ROOT / "apps" / "dashboard.py"), "--port", str(port),
                "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}",
                "--setup", str(ROOT / "apps" / "auth_setup.py"), "--log-level", "warning"]
        if users:
            add_accounts(home, users, admins)
            args += ["--auth-module", str(ROOT / "apps" / "auth_module.py")]
            env = {"FEDIMPUTE_COOKIE_SECRET": COOKIE_SECRET, "BOKEH_SIGN_SESSIONS": "yes",
                   "BOKEH_SECRET_KEY": COOKIE_SECRET + "-bokeh", **env}
        log = work / "panel.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(args, cwd=ROOT, env=dashboard_env(home, **env), stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        served = Served(f"http://127.0.0.1:{port}", home, log, proc)
        started.append(served)
        wait_until_up(proc, served.url, log)
        return served

    yield start
    for served in started:
        stop_process_group(served.proc)


# -- stores with jobs -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _populated_db(tmp_path_factory) -> tuple[Path, Owners]:
    """One populated store per session; tests get a copy (each transaction costs ~50 ms here)."""
    from fedimpute.store import Store

    home = tmp_path_factory.mktemp("populated-home")
    owners = populate(Store(home))
    return home, owners


@pytest.fixture
def owners(home, _populated_db) -> Owners:
    """Copy the populated store into this test's FEDIMPUTE_HOME."""
    from fedimpute.paths import DB_FILENAME

    source, owners = _populated_db
    home.mkdir(parents=True, exist_ok=True)
    for f in source.glob(f"{DB_FILENAME}*"):
        shutil.copy(f, home / f.name)
    return owners


@pytest.fixture
def store(home, owners):
    """The store of this test's home, holding the jobs of ``owners`` (overrides the empty one)."""
    from fedimpute.store import Store

    return Store(home)


@pytest.fixture
def alice_state(store, owners):
    from fedimpute.ui.state import HubState

    return HubState.from_home(store.home, user="alice")
