"""DNAstack logins from the CLI against the fake Workbench: client credentials and device code."""

from __future__ import annotations

import threading
import time

import pytest

from fedimpute.cli import main
from fedimpute.credentials import Credentials
from tests.dnastack_fake.fixtures import ALICE, CLIENT_ID, CLIENT_SECRET, dnastack_fake, dnastack_url  # noqa: F401


@pytest.fixture
def dn(dnastack_url, capsys):
    assert main(["services", "add", "dn", "--protocol", "dnastack", "--url", dnastack_url,
                 "--set", "input_prefix=gs://bucket/cohort"]) == 0
    capsys.readouterr()
    return "dn"


def test_login__client_credentials(dn, monkeypatch, home, capsys):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(CLIENT_SECRET + "\n"))
    assert main(["login", "dn", "--client-id", CLIENT_ID]) == 0
    assert Credentials(home).token("dn") is not None
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
    assert Credentials(home).token("dn") is not None


def test_login__exactly_one_method(dn, capsys):
    assert main(["login", "dn", "--device", "--token", "x"]) == 2
