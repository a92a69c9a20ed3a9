"""The lab server as an attacker on the network meets it: a real `fedimpute serve` over HTTP.

Forged cookies and session tokens, routes without sign-in, cookies in the page, logout, removed
users, throttling, security headers, and the refusals at start-up (both serving routes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from bokeh.util.token import generate_jwt_token, generate_session_id, get_token_payload
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.web import create_signed_value
from tornado.websocket import websocket_connect

from fedimpute.accounts import Accounts
from fedimpute.cli import main
from tests.conftest import ROOT
from tests.ui.serving import add_accounts, dashboard_env, free_port, signed_in, stop_process_group, wait_until_up

USERS = {"alice": "pw-alice-0123", "bob": "pw-bob-012345", "carol": "pw-carol-0123"}


def start_server(home, tmp_path, **env: str):
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    code = f"from fedimpute.cli.serve import serve; serve(port={port})"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=dashboard_env(home, **env), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(proc, base, log)
    return base, proc, log


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    home = work / "home"
    add_accounts(home, USERS, admins=("carol",))
    base, proc, log = start_server(home, work)
    yield base, home, log
    stop_process_group(proc)


def as_user(base: str, user: str):
    return signed_in(base, user, USERS[user])


def refused(answer: httpx.Response) -> bool:
    """Nothing of the dashboard: a redirect to /login, or 401/403/404, and no Bokeh document."""
    to_login = answer.status_code == 302 and "login" in answer.headers.get("location", "")
    return (to_login or answer.status_code in (401, 403, 404)) and "bokeh" not in answer.text.lower()


@pytest.mark.parametrize("path", ["/", "/dashboard", "/dashboard/", "/dashboard/autoload.js?bokeh-autoload-element=x",
                                  "/dashboard/metadata", "/liveness", "/liveness?endpoint=/dashboard",
                                  "/results/x/y", "/admin", "/dashboard/ws"])
def test_every_route_needs_a_signed_in_user(server, path):
    base, _, _ = server
    assert refused(httpx.get(base + path, follow_redirects=False))


def test_forged_and_unsigned_cookies_get_nothing(server):
    base, _, _ = server
    other = create_signed_value("another-secret-" + "x" * 32, "fedimpute_session", "made-up-session").decode()
    panel_user = create_signed_value("another-secret-" + "x" * 32, "user", "carol").decode()
    for cookies in ({"fedimpute_session": other}, {"is_guest": "1"}, {"user": panel_user},
                    {"fedimpute_session": "made-up-session"}):
        assert refused(httpx.get(f"{base}/dashboard", cookies=cookies, follow_redirects=False)), cookies


def test_a_forged_bokeh_session_token_is_refused(server):
    """Even for a signed-in user: an unsigned token (here claiming the guest cookie) gets 403."""
    base, _, _ = server
    forged = generate_jwt_token(generate_session_id(signed=False), signed=False,
                                extra_payload={"cookies": {"is_guest": "1"}, "headers": {}, "arguments": {}})
    with as_user(base, "bob") as bob:
        answer = bob.get("/dashboard", params={"bokeh-token": forged}, follow_redirects=False)
        assert answer.status_code == 403

        async def first_message(cookie: str | None, token: str) -> str | bytes | None:
            """What the server sends on the socket: None when it refuses or closes it unused."""
            headers = {"Origin": base, **({"Cookie": f"fedimpute_session={cookie}"} if cookie else {})}
            url = base.replace("http", "ws") + "/dashboard/ws"
            try:
                socket = await websocket_connect(HTTPRequest(url, headers=headers), subprotocols=["bokeh", token])
            except HTTPClientError as exc:
                assert exc.code in (401, 403)
                return None
            message = await socket.read_message()
            socket.close()
            return message

        for cookie in (None, bob.cookies["fedimpute_session"]):
            assert asyncio.run(first_message(cookie, forged)) is None
        # the control: the page's own signed token with bob's cookie opens a working socket
        token = re.search(r'token":"([^"]+)"', bob.get("/dashboard").text).group(1)
        assert asyncio.run(first_message(bob.cookies["fedimpute_session"], token)) is not None


def test_the_page_carries_no_request_cookie(server):
    base, _, _ = server
    with as_user(base, "alice") as alice:
        alice.cookies.set("tracker", "visible-to-scripts?")
        page = alice.get("/dashboard")
        assert page.status_code == 200
        token = re.search(r'token":"([^"]+)"', page.text).group(1)
        payload = get_token_payload(token)
        assert payload["cookies"] == {} and "Cookie" not in payload["headers"] and "cookie" not in payload["headers"]
        assert alice.cookies["fedimpute_session"] not in json.dumps(payload)


def test_cookie_flags_and_security_headers(server):
    base, _, _ = server
    answer = httpx.post(f"{base}/login", data={"username": "alice", "password": USERS["alice"]},
                        follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain HTTP on loopback
    for response in (answer, httpx.get(f"{base}/login"), httpx.get(f"{base}/nothing-here"),
                     httpx.get(f"{base}/dashboard", follow_redirects=False)):
        assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_logout_ends_the_session_on_the_server(server):
    base, home, _ = server
    with as_user(base, "alice") as alice:
        assert Accounts(home).get("alice").last_sign_in is not None  # stamped before the sign-in answered
        copied = alice.cookies["fedimpute_session"]
        alice.get("/logout", follow_redirects=False)
    assert refused(httpx.get(f"{base}/dashboard", cookies={"fedimpute_session": copied}, follow_redirects=False))


def test_a_removed_user_or_changed_password_ends_sessions(server):
    base, home, _ = server
    add_accounts(home, {"dave": "pw-dave-0123", "erin": "pw-erin-0123"})
    USERS.update(dave="pw-dave-0123", erin="pw-erin-0123")
    with as_user(base, "dave") as dave, as_user(base, "erin") as erin:
        assert dave.get("/dashboard").status_code == 200
        Accounts(home).remove("dave")  # as `fedimpute users remove dave` in another process
        Accounts(home).set_password("erin", "a brand new password")
        assert refused(dave.get("/dashboard", follow_redirects=False))
        assert refused(erin.get("/dashboard", follow_redirects=False))


def test_unknown_and_wrong_passwords_read_the_same(server):
    base, _, log = server
    for user in ("alice", "nobody"):
        answer = httpx.post(f"{base}/login", data={"username": user, "password": "wrong-password"},
                            follow_redirects=False)
        assert answer.status_code == 302 and "error=invalid" in answer.headers["location"]


def test_failed_sign_ins_are_throttled_and_logged(tmp_path):
    home = tmp_path / "home"
    add_accounts(home, {"alice": USERS["alice"]})
    base, proc, log = start_server(home, tmp_path)
    try:
        statuses = []
        for _ in range(30):
            answer = httpx.post(f"{base}/login", data={"username": "alice", "password": "guess-123456"},
                                follow_redirects=False)
            statuses.append(answer.status_code)
        assert statuses[:5] == [302] * 5 and 429 in statuses
        refusal = answer if answer.status_code == 429 else None
        assert refusal is not None and int(refusal.headers["retry-after"]) >= 1
        # after the cool-down (Retry-After says how long), alice signs in
        with httpx.Client(base_url=base) as client:
            for _ in range(600):
                answer = client.post("/login", data={"username": "alice", "password": USERS["alice"]},
                                     follow_redirects=False)
                if answer.status_code != 429:
                    break
                wait_for_retry(answer)
            assert answer.status_code == 302 and client.get("/dashboard").status_code == 200
    finally:
        stop_process_group(proc)
    text = log.read_text()
    assert "failed sign-in for user 'alice' from 127.0.0.1" in text and "refused" in text
    assert "guess-123456" not in text and USERS["alice"] not in text


def wait_for_retry(answer: httpx.Response) -> None:
    """Wait as long as the server's Retry-After asks (the condition the server itself names)."""
    time.sleep(min(float(answer.headers["retry-after"]), 5.0))


def test_serve__refuses_the_network_without_tls_and_a_secret_on_the_command_line(home, monkeypatch, capsys):
    monkeypatch.setenv("FEDIMPUTE_HOME", str(home))
    assert main(["serve", "--address", "0.0.0.0"]) == 2
    message = capsys.readouterr().err
    assert "--ssl-certfile" in message and "--insecure-http" in message
    assert main(["serve", "--cookie-secret", "S" * 40]) == 2
    assert "FEDIMPUTE_COOKIE_SECRET" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["basic-auth-typo", "no-accounts-in-home", "readable-users-file", "unsigned"])
def test_panel_serve_route_refuses_to_start(tmp_path, case):
    home = tmp_path / "home"
    port = free_port()
    args = [sys.executable, "-m", "panel", "serve", str(ROOT / "apps" / "dashboard.py"), "--port", str(port),
            "--setup", str(ROOT / "apps" / "auth_setup.py")]
    env = dashboard_env(home, FEDIMPUTE_COOKIE_SECRET="c" * 40, BOKEH_SIGN_SESSIONS="yes", BOKEH_SECRET_KEY="k" * 40)
    if case != "no-accounts-in-home":
        add_accounts(home, {"alice": USERS["alice"]})
    if case == "basic-auth-typo":
        args += ["--basic-auth", "user.json"]
    else:
        args += ["--auth-module", str(ROOT / "apps" / "auth_module.py")]
    if case == "readable-users-file":
        (home / "users.json").chmod(0o644)
    if case == "unsigned":
        del env["BOKEH_SIGN_SESSIONS"]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    expected = {"basic-auth-typo": "not fedimpute's sign-in", "no-accounts-in-home": "needs accounts",
                "readable-users-file": "chmod 600", "unsigned": "BOKEH_SIGN_SESSIONS"}[case]
    assert expected in done.stdout + done.stderr
