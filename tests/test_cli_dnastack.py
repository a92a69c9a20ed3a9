"""DNAstack logins and token checks from the CLI against the fake Workbench: a token given with
--token is verified before it is stored; client credentials and device code."""

from __future__ import annotations

import json
import threading
import time

import pytest

from fedimpute.cli import main
from fedimpute.credentials import Credentials
from tests.dnastack_fake.fixtures import (  # noqa: F401
    ALICE,
    ALICE_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    dnastack_fake,
    dnastack_url,
)


@pytest.fixture
def dn(dnastack_url, capsys):
    assert main(["services", "add", "dn", "--protocol", "dnastack", "--url", dnastack_url,
                 "--set", "input_prefix=gs://bucket/cohort"]) == 0
    capsys.readouterr()
    return "dn"


def test_login__client_credentials(dn, monkeypatch, home, capsys):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(CLIENT_SECRET + "\n"))
    assert main(["login", "dn", "--client-id", CLIENT_ID]) == 0
    assert Credentials(home).token("dn", "tester") is not None
    assert CLIENT_SECRET not in capsys.readouterr().err


def test_login__device_code_approved_in_browser(dn, dnastack_fake, home, capsys):
    def approve_soon():  # the user approving in a browser, once the login has asked for a code
        for _ in range(200):
            if dnastack_fake.devices:
                dnastack_fake.approve_device(ALICE)
                return
            time.sleep(0.05)

    threading.Thread(target=approve_soon, daemon=True).start()
    assert main(["login", "dn", "--device"]) == 0
    assert "approve the login" in capsys.readouterr().err
    assert Credentials(home).token("dn", "tester") is not None


def test_login__exactly_one_method(dn, capsys):
    assert main(["login", "dn", "--device", "--token", "x"]) == 2


def test_services_check__wrong_token_is_invalid_with_status(dn, monkeypatch, capsys):
    monkeypatch.setenv("FEDIMPUTE_TOKEN_DN", "wrong-token-0000")
    assert main(["services", "check", "dn", "--json"]) == 0
    captured = capsys.readouterr()
    (row,) = json.loads(captured.out)
    assert row["health"]["status"] == "up"
    token = row["token"]
    assert (token["present"], token["valid"], token["user"], token["expires_at"]) == (True, False, None, None)
    assert token["message"].startswith("HTTP 401: ") and "fedimpute login dn" in captured.err


def test_services_check__right_token_is_valid_with_user(dn, monkeypatch, capsys):
    monkeypatch.setenv("FEDIMPUTE_TOKEN_DN", ALICE_TOKEN)
    assert main(["services", "check", "dn", "--json"]) == 0
    token = json.loads(capsys.readouterr().out)[0]["token"]
    assert (token["present"], token["valid"], token["user"]) == (True, True, ALICE)


def test_login__wrong_token_exits_1_and_stores_nothing(dn, home, capsys):
    assert main(["login", "dn", "--token", "wrong-token-0000"]) == 1
    assert "dn: the service rejected this token (HTTP 401: " in capsys.readouterr().err
    assert Credentials(home).token("dn", "tester") is None


def test_login__right_token_is_verified_then_stored(dn, home, capsys):
    assert main(["login", "dn", "--token", ALICE_TOKEN]) == 0
    assert f"(user {ALICE}, expires " in capsys.readouterr().err
    assert Credentials(home).token("dn", "tester").get_secret_value() == ALICE_TOKEN
