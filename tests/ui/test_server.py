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
from fedimpute.ui.runtime import _AUTH_KEY, get_runtime
from fedimpute.ui.server import authorize, check_users_file, serve_dashboard, websocket_origins
from tests.conftest import ROOT
from tests.ui.serving import dashboard_env, free_port, stop_process_group, wait_until_up


def users_file(tmp_path, content, mode=0o600):
    path = tmp_path / "users.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    path.chmod(mode)
    return path


def test_check_users_file__accepts_a_private_mapping(tmp_path):
    path = users_file(tmp_path, {"alice": "pw"})
    assert check_users_file(path) == path


@pytest.mark.parametrize(("content", "mode", "message"), [
    ({"alice": "pw"}, 0o644, "chmod 600"),
    ("{not json", 0o600, "not valid JSON"),
    ({"alice": ""}, 0o600, "non-empty password"),
    (["alice"], 0o600, "mapping each user"),
])
def test_check_users_file__refuses_unsafe_or_malformed(tmp_path, content, mode, message):
    with pytest.raises(UsageError, match=message):
        check_users_file(users_file(tmp_path, content, mode))


def test_check_users_file__missing_file_is_not_taken_as_a_password(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        check_users_file(tmp_path / "typo.json")


def test_authorize__needs_a_user_when_sign_in_is_on(monkeypatch):
    assert authorize(None, "/dashboard")  # one person's server: no sign-in configured
    monkeypatch.setitem(pn.state.cache, _AUTH_KEY, True)
    assert not authorize(None, "/dashboard") and not authorize({"user": ""}, "/dashboard")
    assert authorize({"user": "alice"}, "/dashboard")


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
    """We can serve with `fedimpute serve`'s function: anonymous users go to the login page."""
    port = free_port()
    users = users_file(tmp_path, {"alice": "pw-alice"})
    code = ("from pathlib import Path; from fedimpute.cli.serve import serve; "
            f"serve(port={port}, basic_auth=Path({str(users)!r}), cookie_secret='s' * 32)")
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
            client.post("/login", data={"username": "alice", "password": "pw-alice"}, follow_redirects=False)
            page = client.get("/dashboard")
            assert page.status_code == 200 and "fedimpute" in page.text
    finally:
        stop_process_group(proc)


def test_serve_dashboard__refuses_a_missing_users_file(tmp_path):
    """A mistyped --basic-auth path stops the server instead of becoming a shared password."""
    with pytest.raises(UsageError, match="does not exist"):
        serve_dashboard(basic_auth=tmp_path / "nope.json")
