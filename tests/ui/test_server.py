"""Serving: the users file check, authorization, origins, the runtime, and `serve` for real."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time

import httpx
import panel as pn
import pytest

from fedimpute.exceptions import UsageError
from fedimpute.ui.runtime import get_runtime
from fedimpute.ui.server import websocket_origins
from tests.conftest import ROOT
from tests.ui.serving import add_accounts, dashboard_env, free_port, stop_process_group, wait_until_up


def test_websocket_origins__every_name_when_listening_widely():
    assert websocket_origins("127.0.0.1", 5006) == ["127.0.0.1:5006", "localhost:5006"]
    wide = websocket_origins("0.0.0.0", 80)
    assert "0.0.0.0:80" not in wide and "localhost:80" in wide and len(wide) >= 3


def test_runtime__one_per_home_and_started_once(home, monkeypatch):
    monkeypatch.setattr(pn.state, "cache", {})
    first = get_runtime(home, monitor_period=3)
    try:
        thread = first._thread
        assert get_runtime(home) is first and first.running and first._thread is thread
        assert not get_runtime(home.parent / "other", monitor_period=0).start()
    finally:
        first.stop()
    assert not first.running and not thread.is_alive()


def test_runtime__monitor_sweeps_on_its_own_thread_and_loop(home, monkeypatch):
    """The monitor never runs on the caller's (a server's) event loop: its store calls may wait for the lock."""
    monkeypatch.setattr(pn.state, "cache", {})
    runtime = get_runtime(home, monitor_period=0.05, start=False)
    seen = []

    async def record():
        seen.append((threading.current_thread(), asyncio.get_running_loop()))

    monkeypatch.setattr(runtime, "_sweep", record)
    runtime.start()
    try:
        deadline = time.monotonic() + 30
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        runtime.stop()
    assert len(seen) >= 2, "the monitor did not sweep periodically"
    assert all(t is not threading.main_thread() and t.name == runtime.task_name for t, _ in seen)
    assert len({id(loop) for _, loop in seen}) == 1
    assert not runtime.running and not seen[0][0].is_alive()  # stop() returns once the thread has ended


async def test_runtime__sweep_never_overlaps_and_survives_errors(home, monkeypatch):
    monkeypatch.setattr(pn.state, "cache", {})
    runtime = get_runtime(home, start=False)
    calls = []

    async def boom():
        calls.append(1)
        raise RuntimeError("a bug")

    monkeypatch.setattr(runtime, "_sweep", boom)
    await runtime.sweep()
    assert calls == [1] and "a bug" in runtime.last_error and runtime.sweeps == 1


def test_serve_command__dashboard_behind_a_login(tmp_path, home):
    """`fedimpute serve`'s function on a home with an account: anonymous users go to the login page."""
    port = free_port()
    add_accounts(home, {"alice": "pw-alice-0123"})
    code = f"from fedimpute.cli.serve import serve; serve(port={port})"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=dashboard_env(home), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(proc, base, log)
        anonymous = httpx.get(f"{base}/dashboard", follow_redirects=False)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["location"]
        with httpx.Client(base_url=base) as client:
            bad = client.post("/login", data={"username": "alice", "password": "wrong"}, follow_redirects=False)
            assert "error" in bad.headers.get("location", "")
            client.post("/login", data={"username": "alice", "password": "pw-alice-0123"}, follow_redirects=False)
            page = client.get("/dashboard")
            assert page.status_code == 200 and "fedimpute" in page.text
    finally:
        stop_process_group(proc)
    assert (home / "cookie_secret").stat().st_mode & 0o777 == 0o600  # the first serve made it, owner-only
