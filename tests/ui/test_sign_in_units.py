"""Sign-in pieces without a server: the throttle, server-side sessions, tickets, the cookie secret,
redirect targets, and the refusals of ``prepare_server``."""

from __future__ import annotations

import pytest

from fedimpute.accounts import Accounts
from fedimpute.exceptions import UsageError
from fedimpute.ui.auth import SessionTable, Throttle, cookie_secret, session_key
from fedimpute.ui.auth.handlers import safe_next
from fedimpute.ui.server import prepare_server
from fedimpute.ui.state import HubState

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle__free_tries_then_doubling_delays():
    clock = Clock()
    throttle = Throttle(free=5, limit=20, window=900, clock=clock)
    for _ in range(5):
        assert throttle.retry_after("alice", "10.0.0.1") == 0
        throttle.failed("alice", "10.0.0.1")
    delays = [throttle.retry_after("alice", "10.0.0.1")]  # the 6th try waits 1 s, then 2 s, 4 s ...
    for _ in range(4):
        clock.now += delays[-1]
        throttle.failed("alice", "10.0.0.1")
        delays.append(throttle.retry_after("alice", "10.0.0.1"))
    assert delays == [1, 2, 4, 8, 16] and throttle.failures("alice") == 9
    assert throttle.retry_after("alice", "10.0.0.9") > 0  # per user name, whatever the address
    assert throttle.retry_after("bob", "10.0.0.1") > 0  # and per address, whatever the name
    assert throttle.retry_after("bob", "10.0.0.9") == 0
    clock.now += 901
    assert throttle.retry_after("alice", "10.0.0.1") == 0 and throttle.failures("alice") == 0


def test_throttle__a_wall_after_the_limit_within_the_window():
    clock = Clock()
    throttle = Throttle(free=100, limit=20, window=900, clock=clock)
    for _ in range(20):
        clock.now += 10
        throttle.failed("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == pytest.approx(900 - 190)  # until the oldest leaves
    clock.now += 711
    assert throttle.retry_after("alice", "10.0.0.1") == 0


def test_throttle__success_clears_the_name_and_address():
    throttle = Throttle(clock=Clock())
    for _ in range(6):
        throttle.failed("alice", "10.0.0.1")
    throttle.succeeded("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == 0 and throttle.failures("alice") == 0


def test_sessions__end_at_idle_removal_password_change_and_close(home):
    accounts, clock = Accounts(home), Clock()
    accounts.add("alice", PASSWORD)
    accounts.add("bob", PASSWORD)
    table = SessionTable(accounts, idle_seconds=60, clock=clock)
    alice, bob = table.open("alice"), table.open("bob")
    assert table.resolve(alice.sid).user == "alice" and table.users() == {"alice": 1, "bob": 1}
    clock.now += 59
    assert table.resolve(alice.sid)  # activity keeps it alive
    assert table.alive(bob.sid)  # looking does not count as activity ...
    clock.now += 2
    assert not table.alive(bob.sid)  # ... so bob's session has been idle too long
    accounts.set_password("alice", PASSWORD + " 2")
    assert table.resolve(alice.sid) is None  # password changed: sessions end
    carol_session = table.open("alice")
    table.close(carol_session.sid)
    assert table.resolve(carol_session.sid) is None
    again = table.open("bob")
    accounts.remove("bob")
    assert not table.alive(again.sid)
    assert table.resolve("forged") is None and table.resolve(None) is None


def test_tickets__once_and_only_for_live_sessions(home):
    accounts, clock = Accounts(home), Clock()
    accounts.add("alice", PASSWORD)
    table = SessionTable(accounts, clock=clock)
    session = table.open("alice")
    ticket = table.ticket(session)
    assert table.redeem(ticket).sid == session.sid
    assert table.redeem(ticket) is None  # one use
    late = table.ticket(session)
    clock.now += 121
    assert table.redeem(late) is None and table.redeem("made-up") is None


def test_cookie_secret__created_private_and_checked(home, monkeypatch):
    monkeypatch.delenv("FEDIMPUTE_COOKIE_SECRET", raising=False)
    with pytest.raises(UsageError, match="no cookie secret"):
        cookie_secret(home, create=False)
    secret = cookie_secret(home, create=True)
    assert len(secret) >= 32 and (home / "cookie_secret").stat().st_mode & 0o777 == 0o600
    assert cookie_secret(home, create=False) == secret
    (home / "cookie_secret").chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        cookie_secret(home, create=False)
    monkeypatch.setenv("FEDIMPUTE_COOKIE_SECRET", "S")
    with pytest.raises(UsageError, match="too short"):
        cookie_secret(home, create=False)
    assert session_key("x" * 40) != ("x" * 40).encode()


@pytest.mark.parametrize(("value", "expected"), [
    ("/dashboard", "/dashboard"), ("//evil.example", "/"), ("https://evil.example", "/"), ("/\\evil", "/"),
    ("", "/"), (None, "/"), ("/a\r\nSet-Cookie: x", "/"),
])
def test_safe_next(value, expected):
    assert safe_next(value) == expected


def test_prepare_server__refusals(home, monkeypatch):
    monkeypatch.delenv("FEDIMPUTE_COOKIE_SECRET", raising=False)
    with pytest.raises(UsageError, match="--ssl-certfile.*--insecure-http"):
        prepare_server(home, address="0.0.0.0", tls=False, create_secret=True)
    with pytest.raises(UsageError, match="without accounts"):
        prepare_server(home, address="0.0.0.0", tls=True, create_secret=True)
    assert prepare_server(home, address="127.0.0.1", tls=False, create_secret=True).context is None
    Accounts(home).add("alice", PASSWORD)
    with pytest.raises(UsageError, match="no cookie secret"):
        prepare_server(home, address="127.0.0.1", tls=False, create_secret=False)
    assert prepare_server(home, address="0.0.0.0", tls=False, insecure_http=True, create_secret=True).context
    home.chmod(0o777)
    try:
        with pytest.raises(UsageError):
            prepare_server(home, address="127.0.0.1", tls=False, create_secret=True)
    finally:
        home.chmod(0o700)


async def test_a_page_whose_sign_in_ended_reads_and_does_nothing(home):
    """The server-side half of "loses access at the next action": every read and Hub call of the
    page's state asks the session first (the browser cannot skip it by ignoring the redirect)."""
    state = HubState.from_home(home, user="bob")
    alive = [True]
    state.bind_session(lambda: alive[0])
    assert await state.in_thread(lambda: "read") == "read"
    alive[0] = False

    async def work() -> str:
        return "done"

    with pytest.raises(PermissionError, match="session has ended"):
        await state.in_thread(lambda: "read")
    with pytest.raises(PermissionError, match="session has ended"):
        await state.run_hub(work)
