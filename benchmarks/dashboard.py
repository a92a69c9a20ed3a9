"""Dashboard responsiveness on a big store, next to a minimal Panel Tabulator page, in one run.

    python benchmarks/dashboard.py [--jobs 50000] [--events 500000] [--repeats 5]

A temporary FEDIMPUTE_HOME gets ``--jobs`` jobs and ``--events`` events (bulk SQL after the
store has migrated it).  Both pages are served by ``panel serve`` and opened in Debian's
chromium through Playwright; each measurement is a fresh browser context.  Printed: the time
from the request to the first table rows visible, and from a filter change to the filtered rows
visible, medians of ``--repeats``.  Acceptance: first rows within 1.5x the minimal page's time,
a filter change (the status filter) under 300 ms.  Exit status 1 when either fails.  Also printed:
a search change, which always reads DuckDB (status pages are read ahead; searches are not).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui.serving import (  # noqa: E402  (importable only once the checkout is on sys.path)
    CHROMIUM_ARGS,
    dashboard_env,
    free_port,
    stop_process_group,
    wait_until_up,
)

MINIMAL_APP = '''
import pandas as pd
import panel as pn

pn.extension("tabulator")
frame = pd.DataFrame({"job_id": [f"job-{i}" for i in range(20)],
                      "status": ["completed" if i % 2 else "failed" for i in range(20)],
                      "service": ["michigan"] * 20})
status = pn.widgets.Select(label="Status", options=["all", "completed", "failed"])
table = pn.widgets.Tabulator(frame, disabled=True, show_index=False, pagination="local", page_size=20)
status.param.watch(lambda e: setattr(table, "value", frame if e.new == "all" else frame[frame.status == e.new]),
                   "value")
pn.Column(status, table).servable()
'''

# Walks open shadow roots (Panel renders its components in them): texts of one column's cells.
CELLS_JS = """(field) => {
  const out = [];
  const walk = (root) => {
    root.querySelectorAll(`.tabulator-row .tabulator-cell[tabulator-field="${field}"]`)
        .forEach(c => out.push(c.textContent));
    root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) walk(el.shadowRoot); });
  };
  walk(document);
  return out;
}"""
ROWS_VISIBLE_JS = f"() => ({CELLS_JS})('status').length > 0"
ALL_STATUS_JS = f"(value) => {{ const c = ({CELLS_JS})('status'); return c.length > 0 && c.every(t => t === value); }}"


def fill_store(home: Path, jobs: int, events: int) -> None:
    """Bulk-insert ``jobs`` jobs (90 % of them the benchmark user's) and ``events`` events."""
    from fedimpute.store import Store

    store = Store(home)
    statuses = "['completed', 'failed', 'running', 'queued', 'cancelled', 'pending']"
    services = "['michigan', 'topmed', 'h3africa', 'local']"
    with store.tx() as con:
        con.execute(f"""
            INSERT INTO jobs (job_id, name, service, panel, build, owner, remote_id, status, remote_state,
                              queue_position, options, inputs, created_at, updated_at, submitted_at, finished_at)
            SELECT printf('fi-bench-%07d', i), printf('cohort %d chr%d', i // 22, i % 22 + 1),
                   {services}[i % 4 + 1], 'hapmap-2', 'hg19', CASE WHEN i % 10 = 0 THEN 'other' ELSE 'bench' END,
                   printf('job-%d', i), {statuses}[i % 6 + 1], 'x', CASE WHEN i % 6 = 3 THEN i % 50 END,
                   '{{}}', '[]', TIMESTAMP '2025-01-01' + to_minutes(i), TIMESTAMP '2025-01-01' + to_minutes(i),
                   TIMESTAMP '2025-01-01' + to_minutes(i) + INTERVAL 1 MINUTE,
                   CASE WHEN i % 6 IN (0, 1, 4) THEN TIMESTAMP '2025-01-01' + to_minutes(i + 90) END
            FROM range({jobs}) t(i)""")
        con.execute(f"""
            INSERT INTO job_events (job_id, time, old_status, status, detail)
            SELECT printf('fi-bench-%07d', i % {jobs}), TIMESTAMP '2025-01-01' + to_seconds(i),
                   'queued', 'running', 'remote state 2'
            FROM range({events}) t(i)""")


def serve(script: Path, home: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``panel serve SCRIPT`` in its own session (monitor off, as the benchmark user); returns the URL too."""
    port = free_port()
    env = dashboard_env(home, FEDIMPUTE_USER="bench", FEDIMPUTE_REFRESH_MS="2000")
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(script), "--port", str(port),
                                 "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}",
                                 "--liveness", "--log-level", "warning"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(proc, base, log)
    httpx.get(f"{base}/{script.stem}", timeout=60)  # the first session imports the app's modules
    return proc, f"{base}/{script.stem}"


def first_rows(browser, url: str) -> float:
    """Seconds from the request to the first table rows visible, in a fresh context."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(ROWS_VISIBLE_JS, polling="raf", timeout=60_000)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def filter_changes(browser, url: str, repeats: int) -> list[float]:
    """Seconds from choosing a status to every visible row having it (alternating two statuses)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(ROWS_VISIBLE_JS, polling="raf", timeout=60_000)
    select = page.get_by_role("combobox", name="Status")
    times = []
    for i in range(repeats + 1):
        value = ("failed", "completed")[i % 2]
        start = time.perf_counter()
        select.select_option(value)
        page.wait_for_function(ALL_STATUS_JS, arg=value, polling="raf", timeout=30_000)
        if i:  # the first change warms the server's code path up
            times.append(time.perf_counter() - start)
    context.close()
    return times


def search_changes(browser, url: str, repeats: int) -> list[float]:
    """Seconds from a new search term (always a DuckDB read: nothing prefetched) to its rows visible."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(ROWS_VISIBLE_JS, polling="raf", timeout=60_000)
    box = page.get_by_role("textbox", name="Search id or name")
    times = []
    for i in range(repeats + 1):
        job_id = f"fi-bench-{4 * (i + 1) + 1:07d}"  # job 5, 9, 13, ...: completed, failed, completed, ...
        box.fill(job_id)
        start = time.perf_counter()
        box.press("Enter")
        page.wait_for_function(f"() => ({CELLS_JS})('job_id').join() === {job_id!r}", polling="raf",
                               timeout=30_000)
        if i:
            times.append(time.perf_counter() - start)
    context.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="fedimpute-dashboard-bench-"))
    home = work / "home"
    os.environ.update({"FEDIMPUTE_HOME": str(home), "FEDIMPUTE_SECRETS": "file"})
    started = time.perf_counter()
    fill_store(home, args.jobs, args.events)
    print(f"store: {args.jobs:,} jobs, {args.events:,} events inserted in {time.perf_counter() - started:.1f} s")
    minimal = work / "minimal.py"
    minimal.write_text(MINIMAL_APP)
    procs = []
    try:
        proc, minimal_url = serve(minimal, home, work / "minimal.log")
        procs.append(proc)
        proc, dashboard_url = serve(ROOT / "apps" / "dashboard.py", home, work / "dashboard.log")
        procs.append(proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM") or shutil.which("chromium"),
                                        args=CHROMIUM_ARGS)
            loads = {"minimal": [], "dashboard": []}
            for _ in range(args.repeats):  # alternate, so both see the same machine load
                loads["minimal"].append(first_rows(browser, minimal_url))
                loads["dashboard"].append(first_rows(browser, dashboard_url))
            filters = {"minimal": filter_changes(browser, minimal_url, args.repeats),
                       "dashboard": filter_changes(browser, dashboard_url, args.repeats)}
            searches = search_changes(browser, dashboard_url, args.repeats)
            browser.close()
    finally:
        for proc in procs:
            stop_process_group(proc)
        shutil.rmtree(work, ignore_errors=True)
    return report(loads, filters, searches, args)


def report(loads: dict, filters: dict, searches: list[float], args) -> int:
    med = {k: statistics.median(v) for k, v in loads.items()}
    fmed = {k: statistics.median(v) for k, v in filters.items()}
    print(f"\n{'page':38} {'first rows visible':>20} {'filter change':>15}")
    print(f"{'minimal Panel Tabulator (20 rows)':38} {med['minimal']:>18.2f} s {fmed['minimal'] * 1000:>12.0f} ms")
    print(f"{f'dashboard ({args.jobs:,} jobs, {args.events:,} events)':38} {med['dashboard']:>18.2f} s "
          f"{fmed['dashboard'] * 1000:>12.0f} ms")
    print("runs (s): " + "; ".join(f"{k}: {', '.join(f'{x:.2f}' for x in v)}" for k, v in loads.items()))
    print("filter runs (ms): " + "; ".join(f"{k}: {', '.join(f'{x * 1000:.0f}' for x in v)}"
                                          for k, v in filters.items()))
    print(f"search change (a DuckDB read each time; not part of the acceptance): "
          f"{statistics.median(searches) * 1000:.0f} ms ({', '.join(f'{x * 1000:.0f}' for x in searches)})")
    ratio = med["dashboard"] / med["minimal"]
    ok_load, ok_filter = ratio <= 1.5, fmed["dashboard"] < 0.3
    print(f"\nfirst rows: dashboard / minimal = {ratio:.2f} (acceptance <= 1.5): {'ok' if ok_load else 'FAIL'}")
    print(f"filter change: {fmed['dashboard'] * 1000:.0f} ms (acceptance < 300 ms): {'ok' if ok_filter else 'FAIL'}")
    return 0 if ok_load and ok_filter else 1


if __name__ == "__main__":
    sys.exit(main())
