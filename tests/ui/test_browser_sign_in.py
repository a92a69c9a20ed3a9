"""Sign-in in Debian's chromium: HTTPS with a certificate made here, and a removed user's open page."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import Page, expect

from fedimpute.accounts import Accounts
from tests.conftest import ROOT
from tests.ui.serving import (
    add_accounts,
    dashboard_env,
    free_port,
    login,
    screenshot,
    stop_process_group,
    wait_until_up,
)

pytestmark = pytest.mark.browser
USERS = {"alice": "pw-alice-0123", "bob": "pw-bob-012345"}


def self_signed(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, PEM files (what `openssl req -x509` would make)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return str(cert_file), str(key_file)


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    work = tmp_path_factory.mktemp("tls")
    home = work / "home"
    add_accounts(home, USERS)
    cert, key = self_signed(work)
    port = free_port()
    code = (f"from pathlib import Path; from fedimpute.cli.serve import serve; "
            f"serve(port={port}, ssl_certfile=Path({cert!r}), ssl_keyfile=Path({key!r}))")
    log = work / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=dashboard_env(home), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"https://127.0.0.1:{port}"
    wait_until_up(proc, base, log, verify=ssl.create_default_context(cafile=cert))
    yield base, home
    stop_process_group(proc)


@pytest.fixture
def tls_page(browser, https_server):
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1400, "height": 1200})
    yield context.new_page()
    context.close()


def test_https__pages_load_and_the_cookie_is_secure(tls_page: Page, https_server):
    base, _ = https_server
    login(tls_page, base, "alice", USERS["alice"])
    expect(tls_page.get_by_text("signed in as")).to_be_visible()
    expect(tls_page.get_by_role("button", name="Jobs")).to_be_visible()  # the websocket (wss) works
    cookie = next(c for c in tls_page.context.cookies() if c["name"] == "fedimpute_session")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    screenshot(tls_page, "sign-in-https")


def test_a_removed_user_loses_the_open_page(tls_page: Page, https_server):
    base, home = https_server
    login(tls_page, base, "bob", USERS["bob"])
    expect(tls_page.get_by_text("signed in as")).to_be_visible()
    Accounts(home).remove("bob")  # `fedimpute users remove bob`, from another process
    # the page's next store re-read finds the session gone: the views go, the browser goes to /login
    tls_page.wait_for_url(lambda url: "/login" in url)
    expect(tls_page.get_by_text("Your session has ended")).to_be_visible()
    tls_page.goto(f"{base}/dashboard")  # his cookie opens nothing any more
    expect(tls_page.locator("input[name=username]")).to_be_visible()
    assert "/login" in tls_page.url
