"""A real sapporo WES server on 127.0.0.1 (bearer auth on), shared by the tests of one session."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedimpute.engine.sapporo import SapporoServer

DATA = Path(__file__).parent / "data"
USERS = {"alice": "alice-wes-password", "bob": "bob-wes-password"}


@pytest.fixture(scope="session")
def sapporo(tmp_path_factory):
    server = SapporoServer(tmp_path_factory.mktemp("sapporo"), users=USERS, cancel_grace_seconds=2)
    server.start(timeout=60)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sapporo_tokens(sapporo) -> dict[str, str]:
    return {user: sapporo.token(user) for user in USERS}
