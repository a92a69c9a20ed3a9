"""Serving a dashboard for tests and benchmarks: free ports, ``panel serve`` subprocesses, sign-in.

Each served dashboard is a real ``panel serve`` subprocess in its own session, killed as a
process group: its workers would outlive a plain kill and keep the port and the DuckDB lock.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from fedimpute.accounts import Accounts
from tests.conftest import ROOT

__all__ = ["CHROMIUM_ARGS", "COOKIE_SECRET", "SCREENSHOTS", "Served", "add_accounts", "dashboard_env", "free_port",
           "login", "screenshot", "signed_in", "stop_process_group", "wait_until_up"]

SCREENSHOTS = ROOT / "test-output" / "screenshots"
COOKIE_SECRET = "test-cookie-secret-0123456789-abcdefghijklmnop"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def screenshot(page, name: str) -> Path:
    """A full-page PNG under test-output/screenshots/ (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    url: str
    home: Path
    log: Path
    proc: subprocess.Popen

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def wait_until_up(proc: subprocess.Popen, base: str, log: Path, timeout: float = 90, *, path: str = "/favicon.ico",
                  what: str = "panel serve", verify: bool | ssl.SSLContext = True) -> None:
    """Return once ``base + path`` answers 200; fail with the server's log if it exits or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}{path}", timeout=2, verify=verify).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer within {timeout} s:\n{log.read_text(errors='replace')}")


def stop_process_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def dashboard_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDIMPUTE_")}
    env.update({"FEDIMPUTE_HOME": str(home), "FEDIMPUTE_SECRETS": "file", "FEDIMPUTE_USER": "tester",
                "FEDIMPUTE_REFRESH_MS": "500", "FEDIMPUTE_MONITOR_PERIOD": "0", "FEDIMPUTE_HEALTH_PERIOD": "0",
                **extra})
    return env


def add_accounts(home: Path, users: dict[str, str], admins: tuple[str, ...] = ()) -> None:
    """Accounts in ``home`` as `fedimpute users add` makes them (existing names keep theirs)."""
    accounts = Accounts(home)
    for name, password in users.items():
        if accounts.get(name) is None:
            accounts.add(name, password, admin=name in admins)


@contextlib.contextmanager
def signed_in(base: str, user: str, password: str, **client: object) -> Iterator[httpx.Client]:
    """An HTTP client signed in through POST /login (the session cookie kept by the client)."""
    with httpx.Client(base_url=base, **client) as session:  # type: ignore[arg-type]
        answer = session.post("/login", data={"username": user, "password": password}, follow_redirects=False)
        assert answer.status_code == 302 and "fedimpute_session" in session.cookies, answer
        yield session


def login(page, base: str, user: str, password: str) -> None:
    """Sign in through the server's /login page, then open the dashboard."""
    page.goto(f"{base}/dashboard")
    page.locator("input[name=username]").fill(user)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    if "/dashboard" not in page.url:  # Panel may land on the index after a failed attempt
        page.goto(f"{base}/dashboard")
