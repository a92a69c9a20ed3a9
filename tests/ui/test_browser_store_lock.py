"""In the browser: another process holding the DuckDB lock never freezes the served dashboard.

DuckDB locks the whole file per process, so a CLI command, a notebook or a second server that
has the store open keeps the dashboard's reads out until it lets go.  Here that other process is
real: ``python -c`` opens the store read-write with ``duckdb.connect``, says so through a file and
keeps it for 10 s (``tests.ui.locking``).  Meanwhile clicks that need the store change the view
promptly (the issue asks for "within 1 s"), a new session opens, and the page says the store is
busy; once the lock is released the page catches up by itself.  A dashboard whose event loop waited for the lock would
answer only when the holder exits, about 10 s later.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from fedimpute.paths import DB_FILENAME
from fedimpute.store import Store
from fedimpute.ui.state.hub import BUSY_NOTICE
from tests.ui.data import populate
from tests.ui.locking import store_locked
from tests.ui.serving import screenshot

pytestmark = pytest.mark.browser

HOLD_SECONDS = 10
#: A click's view change, measured: "within 1 s" on an idle machine; the slack is for a loaded 2-core
#: runner.  A loop blocked on the lock would take the rest of the 10 s hold.
CLICK_BOUND_S = 3.0
#: A new page, from the request to its navigation and busy notice (a page load costs ~1 s here).
OPEN_BOUND_S = 6.0
#: Long enough for a frozen page to answer after the lock is gone, so a failure reports the time it took.
LATE_MS = 30_000


def timed(action: Callable[[], None], shown: Locator) -> float:
    """Seconds from ``action`` (a click) to ``shown`` being visible."""
    start = time.perf_counter()
    action()
    expect(shown).to_be_visible(timeout=LATE_MS)
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def world(tmp_path_factory, serve_app):
    """alice's dashboard (no sign-in: FEDIMPUTE_USER) over a store holding alice's and bob's jobs."""
    home = tmp_path_factory.mktemp("lock-home")
    owners = populate(Store(home))
    return serve_app(home, FEDIMPUTE_USER="alice"), owners


def busy_notice(page: Page) -> Locator:
    return page.get_by_text(BUSY_NOTICE).first


def test_store_lock__clicks_change_the_view_while_another_process_holds_the_store(page: Page, world, tmp_path):
    served, owners = world
    page.goto(f"{served.url}/dashboard")
    expect(page.get_by_text(f"of {len(owners.alice)} (page 1 of 1)")).to_be_visible()
    button = page.get_by_role
    took = {}
    with store_locked(served.home / DB_FILENAME, tmp_path / "locked", HOLD_SECONDS) as holder:
        # Statistics has not been read yet: opening it needs the store
        took["Statistics"] = timed(lambda: button("button", name="Statistics").click(),
                                   page.get_by_role("heading", name="Statistics"))
        took["Services"] = timed(lambda: button("button", name="Services").click(),
                                 page.get_by_role("heading", name="Services"))
        took["Jobs"] = timed(lambda: button("button", name="Jobs").click(), page.get_by_text(owners.alice[0]))
        expect(busy_notice(page)).to_be_visible(timeout=LATE_MS)
        screenshot(page, "store-busy")
        held_throughout = holder.poll() is None
        holder.wait(HOLD_SECONDS + 30)
    print(f"click -> view, seconds, store held by another process: {took}")
    assert held_throughout, f"the lock was released before the clicks were answered ({took})"
    assert all(seconds < CLICK_BOUND_S for seconds in took.values()), took
    # the lock is gone: the statistics and the page catch up without a reload
    page.get_by_role("button", name="Statistics").click()
    expect(page.get_by_text(f"{len(owners.alice)} job(s), your jobs")).to_be_visible()
    expect(busy_notice(page)).to_have_count(0)


def test_store_lock__a_new_session_opens_while_another_process_holds_the_store(page: Page, world, tmp_path):
    served, owners = world
    with store_locked(served.home / DB_FILENAME, tmp_path / "locked", HOLD_SECONDS) as holder:
        start = time.perf_counter()
        page.goto(f"{served.url}/dashboard", wait_until="commit")
        expect(page.get_by_role("button", name="Services")).to_be_visible(timeout=LATE_MS)
        expect(busy_notice(page)).to_be_visible(timeout=LATE_MS)
        opened = time.perf_counter() - start
        clicked = timed(lambda: page.get_by_role("button", name="Services").click(),
                        page.get_by_role("heading", name="Services"))
        held_throughout = holder.poll() is None
        holder.wait(HOLD_SECONDS + 30)
    print(f"store held by another process: page open {opened:.2f} s, click -> view {clicked:.2f} s")
    assert held_throughout, f"the lock was released before the page answered (open {opened:.1f} s)"
    assert opened < OPEN_BOUND_S and clicked < CLICK_BOUND_S, (opened, clicked)
    page.get_by_role("button", name="Jobs").click()  # the first rows arrive by the periodic retry
    expect(page.get_by_text(f"of {len(owners.alice)} (page 1 of 1)")).to_be_visible()
    expect(busy_notice(page)).to_have_count(0)
    assert page.get_by_text(owners.bob[0]).count() == 0
