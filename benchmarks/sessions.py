"""A lab's load on the served dashboard: what the *server* spends per signed-in chromium session.

    python benchmarks/sessions.py [--jobs 20000] [--users 20] [--idle 60] [--active 300] [--poll 0] [--quick]

Why the server's own process: on 2 cores chromium's rendering dominates wall time, so the
figures are read with psutil from the served process (and its children): CPU seconds and RSS
before and after each added session, and CPU while the sessions sit open for ``--idle`` seconds.

The store: ``--jobs`` finished jobs (bulk SQL, :func:`benchmarks.dashboard.fill_store`) spread
evenly over ``--users`` users, plus ``--active`` jobs (a few hundred, not 20,000: each is a real
job on the simulator, and a lab rarely has more running) on a local Cloudgene simulator
(``python -m tests.cloudgene_server`` in its own process) polled with the lab's shared token.
The simulator runs two of them at a time, each failing its input validation after a few
seconds, so during the idle window the served process's monitor (``FEDIMPUTE_MONITOR_PERIOD=5``)
really updates jobs: statuses, queue positions, step messages.  It polls each of them at every
sweep (``--poll 0``, the simulator's ``poll_interval``: a busy monitor; Cloudgene's default is
60 s).  Those jobs are the newest, so each user's open page shows them change (pages re-read the
store every 2 s, the default).

Two servers, one after the other, each on a fresh copy of that set-up (``fedimpute serve``):
  - baseline: no accounts, so no sign-in; every session is the one user ``user00``;
  - sign-in: one account per user; each session signs in through the login form.
Per server, once its monitor has made its first (costliest) sweep: a window with no session open
(the monitor alone, ``--idle``/4 s, 5 s at least), then the sessions one by one, each a fresh
browser context read once its first rows are visible, then the idle window with all open.
A session's reading also holds what the server spent meanwhile on the monitor and the pages
already open; "CPU s/session" takes that background out (its rate with k pages open estimated
between the two windows, in proportion to k) and "(raw)" keeps it.  The first session of a
server pays one-off costs (lazy imports, caches) and is shown apart; "per added session" is the
mean over the others.  Goals (sign-in on): at most 0.3 s CPU and 50 MiB per added session, under
10 % of a core for the open sessions, monitor included.  Exit status 1 when one fails.
``--profile FILE`` runs the signed-in server under cProfile (its main thread only: Tornado and
Bokeh; the page reads in worker threads and the monitor's thread are not profiled).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.dashboard import ROWS_VISIBLE_JS, fill_store  # noqa: E402  (needs the checkout on sys.path)
from tests.ui.serving import (  # noqa: E402
    CHROMIUM_ARGS,
    add_accounts,
    dashboard_env,
    free_port,
    login,
    stop_process_group,
    wait_until_up,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

MiB = 1024 * 1024
TOKEN = "bench-token-0123456789"
GOAL_CPU_S, GOAL_RSS_MIB, GOAL_IDLE_PCT = 0.3, 50.0, 10.0
PAGE_TIMEOUT_MS = 180_000  # 20 pages re-rendering every 2 s on 2 cores
SIM_STEP_SECONDS, SIM_SLOTS = "4", "2"  # about one job ends every 2 s: the queue moves all run long


def user_name(i: int) -> str:
    return f"user{i:02d}"


def password(user: str) -> str:
    return f"{user}-bench-passphrase"


# -- the lab: a simulator with active jobs, a store with finished ones ---------------------------------------------

def start_simulator(active: int, log: Path) -> tuple[subprocess.Popen[str], str, list[str]]:
    """The simulator in its own process with ``active`` jobs queued; returns it, its URL and the jobs' ids."""
    err = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "tests.cloudgene_server", "--token", TOKEN, "--user", "lab",
                             "--step-seconds", SIM_STEP_SECONDS, "--engine-slots", SIM_SLOTS,
                             "--preload-jobs", str(active)], cwd=ROOT, stdout=subprocess.PIPE, stderr=err,
                            text=True, start_new_session=True)
    err.close()
    assert proc.stdout is not None
    ready = proc.stdout.readline().split()
    if len(ready) != 2 or ready[0] != "READY":
        stop_process_group(proc)
        raise RuntimeError(f"the simulator did not start:\n{log.read_text(errors='replace')}")
    ids = []
    for line in proc.stdout:
        if line.strip() == "END":
            break
        ids.append(line.strip())
    return proc, ready[1], ids


def fill_lab(home: Path, jobs: int, users: int, sim_url: str, remote_ids: list[str], poll: float) -> None:
    """``jobs`` finished jobs over ``users`` users, and the simulator's jobs (queued) spread the same way."""
    from fedimpute.catalogue import make_service
    from fedimpute.credentials import Credentials
    from fedimpute.store import Store

    fill_store(home, jobs, events=jobs * 5)
    store = Store(home)
    store.add_service(make_service("sim", "cloudgene", sim_url, settings=[f"poll_interval={poll:g}"]))
    Credentials(home).set_token("sim", TOKEN)  # the lab's shared token: every user's jobs are polled with it
    with store.tx() as con:
        # fill_store's jobs belong to two users and some are active on public services: spread them over the
        # lab and end them, so the monitor polls only the simulator (completed ones: results already fetched)
        con.execute(f"""UPDATE jobs SET owner = printf('user%02d', CAST(substr(job_id, 10) AS INTEGER) % {users}),
                        status = CASE status WHEN 'running' THEN 'completed' WHEN 'queued' THEN 'failed'
                                             WHEN 'pending' THEN 'cancelled' ELSE status END, queue_position = NULL""")
        con.execute("INSERT INTO job_tracking (job_id, submit_state, results_state) "
                    "SELECT job_id, 'submitted', 'expired' FROM jobs WHERE status = 'completed'")
        rows = [(f"fi-sim-{i:05d}", f"lab run {i}", user_name(i % users), rid) for i, rid in enumerate(remote_ids)]
        con.executemany("INSERT INTO jobs (job_id, name, service, panel, build, owner, remote_id, status, "
                        "remote_state, options, inputs, created_at, updated_at, submitted_at) VALUES "
                        "(?, ?, 'sim', 'hapmap-2', 'hg19', ?, ?, 'queued', '1', '{}', '[]', now(), now(), now())",
                        rows)
        con.executemany("INSERT INTO job_tracking (job_id, submit_state) VALUES (?, 'submitted')",
                        [(r[0],) for r in rows])


def sim_jobs(home: Path) -> dict[str, tuple[Any, ...]]:
    """The simulator jobs as the store has them now (what the monitor writes)."""
    from fedimpute.store import Store

    with Store(home).read() as con:
        rows = con.execute("SELECT job_id, status, queue_position, remote_state, updated_at FROM jobs "
                           "WHERE service = 'sim'").fetchall()
    return {r[0]: r[1:] for r in rows}


# -- the server and what it spends ---------------------------------------------------------------------------------

def serve(home: Path, log: Path, profile: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``fedimpute serve`` on a free port (sign-in whenever the home has accounts), monitor on."""
    port = free_port()
    env = dashboard_env(home, FEDIMPUTE_USER=user_name(0), FEDIMPUTE_REFRESH_MS="2000",
                        FEDIMPUTE_MONITOR_PERIOD="5")
    runner = ["-m", "cProfile", "-o", str(profile)] if profile else []
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, *runner, "-m", "fedimpute", "serve", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(proc, base, log, what="fedimpute serve")
    return proc, base


def stop_server(proc: subprocess.Popen[bytes], profiled: bool) -> None:
    if profiled:  # Ctrl-C ends pn.serve, so cProfile writes its file
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(60)
    stop_process_group(proc)


class Meter:
    """CPU seconds and RSS of a process and its children, read with psutil."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)

    def _tree(self) -> list[Any]:
        return [self.proc, *self.proc.children(recursive=True)]

    def cpu(self) -> float:
        total = 0.0
        for p in self._tree():
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        return total

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in self._tree())


@dataclass
class Session:
    user: str
    wall: float  # from opening the context to the first rows visible
    seconds: float  # since the previous reading (the interval ``cpu`` covers)
    cpu: float
    rss: int
    rss_delta: int
    background: float = 0.0  # what the server spent meanwhile on the monitor and the pages already open


@dataclass
class Run:
    label: str
    rss_start: int
    quiet_pct: float = 0.0  # % of a core with no session open (the monitor alone)
    sessions: list[Session] = field(default_factory=list)
    idle_pct: float = 0.0
    idle_seconds: float = 0.0
    sim_changed: int = 0
    sim_active: int = 0

    def added(self) -> list[Session]:
        return self.sessions[1:] or self.sessions

    def subtract_background(self) -> None:
        """Estimate each session's background: the rate with ``k`` pages open is taken between the one
        with none and the one with all of them (idle window), in proportion to ``k``."""
        n = len(self.sessions)
        for k, s in enumerate(self.sessions):
            s.background = (self.quiet_pct + k / n * (self.idle_pct - self.quiet_pct)) / 100 * s.seconds

    @property
    def raw_cpu_per_session(self) -> float:
        return statistics.mean(s.cpu for s in self.added())

    @property
    def cpu_per_session(self) -> float:
        return statistics.mean(s.cpu - s.background for s in self.added())

    @property
    def mib_per_session(self) -> float:
        if len(self.sessions) < 2:
            return self.sessions[0].rss_delta / MiB
        return (self.sessions[-1].rss - self.sessions[0].rss) / (len(self.sessions) - 1) / MiB


def open_session(browser: Browser, base: str, user: str, signed_in: bool) -> BrowserContext:
    """A fresh context on the dashboard (through the login form when signed in), once its first rows show."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    if signed_in:
        login(page, base, user, password(user))
    else:
        page.goto(f"{base}/dashboard")
    page.wait_for_function(ROWS_VISIBLE_JS, polling=200, timeout=PAGE_TIMEOUT_MS)
    return context


def wait_for_monitor(home: Path, initial: dict[str, tuple[Any, ...]], log: Path, timeout: float = 180) -> None:
    """Return once the served monitor has written the simulator's jobs (its first sweep, the costliest)."""
    deadline = time.monotonic() + timeout
    while sim_jobs(home) == initial:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server's monitor updated no job within {timeout:.0f} s:\n"
                               f"{log.read_text(errors='replace')}")
        time.sleep(0.5)


def window(meter: Meter, seconds: float) -> tuple[float, float]:
    """A measurement window: % of a core the server spends over ``seconds`` of wall time, and that time."""
    started, cpu = time.perf_counter(), meter.cpu()
    time.sleep(seconds)
    elapsed = time.perf_counter() - started
    return 100 * (meter.cpu() - cpu) / elapsed, elapsed


def add_sessions(run: Run, meter: Meter, browser: Browser, base: str, users: list[str],
                 signed_in: bool) -> list[BrowserContext]:
    """Open one session per entry of ``users``, reading the server after each (contiguous readings)."""
    contexts = []
    run.rss_start = meter.rss()
    last, cpu, rss = time.perf_counter(), meter.cpu(), run.rss_start
    for user in users:
        started = time.perf_counter()
        contexts.append(open_session(browser, base, user, signed_in))
        now, now_cpu, now_rss = time.perf_counter(), meter.cpu(), meter.rss()
        run.sessions.append(Session(user, now - started, now - last, now_cpu - cpu, now_rss, now_rss - rss))
        last, cpu, rss = now, now_cpu, now_rss
        print(f"  {run.label}: session {len(run.sessions):2d} ({user}) rows after {now - started:5.1f} s, "
              f"server {run.sessions[-1].cpu:5.2f} s CPU, RSS {now_rss / MiB:6.1f} MiB", flush=True)
    return contexts


def measure(browser: Browser, label: str, args: argparse.Namespace, work: Path, *, signed_in: bool) -> Run:
    """One server on a fresh lab: a window with no session, sessions added one by one, the idle window."""
    work.mkdir()
    home = work / "home"
    os.environ["FEDIMPUTE_HOME"] = str(home)
    sim, sim_url, remote_ids = start_simulator(args.active, work / "simulator.log")
    server = None
    contexts = []
    profile = args.profile if signed_in else None
    try:
        fill_lab(home, args.jobs, args.users, sim_url, remote_ids, args.poll)
        users = [user_name(i) for i in range(args.users)]
        if signed_in:
            add_accounts(home, {u: password(u) for u in users})
        else:
            users = [user_name(0)] * args.users  # one person's server: every session is theirs
        initial = sim_jobs(home)
        server, base = serve(home, work / "server.log", profile)
        wait_for_monitor(home, initial, work / "server.log")
        meter = Meter(server.pid)
        run = Run(label, 0)
        run.quiet_pct, _ = window(meter, max(5.0, args.idle / 4))
        contexts = add_sessions(run, meter, browser, base, users, signed_in)
        before = sim_jobs(home)
        run.idle_pct, run.idle_seconds = window(meter, args.idle)  # the sessions sit open as the monitor works
        after = sim_jobs(home)
        run.sim_changed = sum(after.get(k) != v for k, v in before.items())
        run.sim_active = sum(v[0] in ("pending", "queued", "running") for v in after.values())
        run.subtract_background()
        return run
    finally:
        for context in contexts:
            context.close()
        if server is not None:
            stop_server(server, profiled=profile is not None)
        stop_process_group(sim)


# -- the report ----------------------------------------------------------------------------------------------------

def report(runs: list[Run], args: argparse.Namespace) -> int:
    """The table (per added session: net of the background, and raw), the sign-in cost, the goals."""
    base, signed = runs
    print(f"\nserver spending, {args.jobs:,} finished jobs + {args.active} active on the simulator, "
          f"{args.users} users, {args.idle:.0f} s idle")
    print(f"{'server':22} {'CPU s/session':>14} {'(raw)':>6} {'MiB/session':>12} {'idle % core':>12} "
          f"{'0 sessions':>11} {'1st session':>15} {'monitor (idle)':>20}")
    for run in runs:
        first = run.sessions[0]
        print(f"{run.label:22} {run.cpu_per_session:14.2f} {run.raw_cpu_per_session:6.2f} "
              f"{run.mib_per_session:12.1f} {run.idle_pct:12.1f} {run.quiet_pct:11.1f} "
              f"{f'{first.cpu:.2f} s {first.rss_delta / MiB:.0f} MiB':>15} {f'{run.sim_changed} jobs changed':>20}")
    print(f"{'sign-in cost':22} {signed.cpu_per_session - base.cpu_per_session:+14.2f} "
          f"{signed.raw_cpu_per_session - base.raw_cpu_per_session:+6.2f} "
          f"{signed.mib_per_session - base.mib_per_session:+12.1f} {signed.idle_pct - base.idle_pct:+12.1f}")
    print(f"{'goal (sign-in on)':22} {f'<= {GOAL_CPU_S}':>14} {'':6} {f'<= {GOAL_RSS_MIB:.0f}':>12} "
          f"{f'< {GOAL_IDLE_PCT:.0f}':>12}")
    ratios = (signed.cpu_per_session / GOAL_CPU_S, signed.mib_per_session / GOAL_RSS_MIB,
              signed.idle_pct / GOAL_IDLE_PCT)
    print(f"{'ratio to goal':22} {ratios[0]:14.2f} {'':6} {ratios[1]:12.2f} {ratios[2]:12.2f}")
    print("CPU s/session: mean over the sessions after the first, less the background the server spent meanwhile "
          "(monitor, pages already open; estimated from the 0-session and idle windows); (raw): without that")
    for run in runs:
        net = [s.cpu - s.background for s in run.added()]
        print(f"{run.label}: per added session median {statistics.median(net):.2f} s, max {max(net):.2f} s; "
              f"RSS {run.rss_start / MiB:.0f} -> {run.sessions[-1].rss / MiB:.0f} MiB; idle window "
              f"{run.idle_seconds:.0f} s with {len(run.sessions)} sessions open; "
              f"{run.sim_active} simulator jobs still active after it")
        if run.sim_changed == 0:
            print(f"  warning: the monitor changed no job during {run.label}'s idle window")
    fails = [name for name, ratio, strict in zip(("CPU per session", "memory per session", "idle CPU"), ratios,
                                                  (False, False, True), strict=True)
             if ratio > 1 or (strict and ratio == 1)]
    print("goals: " + ("all met" if not fails else "FAIL: " + ", ".join(fails)))
    return 1 if fails else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, help="finished jobs in the store (default 20000; --quick: 500)")
    parser.add_argument("--users", type=int, help="users, one session each (default 20; --quick: 3)")
    parser.add_argument("--idle", type=float, help="seconds the sessions sit open (default 60; --quick: 8)")
    parser.add_argument("--active", type=int, help="jobs active on the simulator (default 300; --quick: 30)")
    parser.add_argument("--poll", type=float, default=0.0, help="the simulator's poll_interval: 0 (default) polls "
                        "every active job at each 5 s sweep; Cloudgene's own default is 60")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--profile", type=Path, help="cProfile the signed-in server into this file")
    args = parser.parse_args(argv)
    defaults = (500, 3, 8.0, 30) if args.quick else (20_000, 20, 60.0, 300)
    for name, default in zip(("jobs", "users", "idle", "active"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.users < 1 or args.active < 1 or args.idle <= 0:
        parser.error("--users and --active must be at least 1, --idle positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="fedimpute-sessions-bench-"))
    os.environ["FEDIMPUTE_SECRETS"] = "file"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM") or shutil.which("chromium"),
                                        args=CHROMIUM_ARGS)
            try:
                runs = [measure(browser, "no sign-in (1 user)", args, work / "baseline", signed_in=False),
                        measure(browser, f"sign-in ({args.users} users)", args, work / "signin", signed_in=True)]
            finally:
                browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report(runs, args)


if __name__ == "__main__":
    sys.exit(main())
