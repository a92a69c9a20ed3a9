"""Tokens and passwords: environment overrides, the 0600 file, and no leaks."""

from __future__ import annotations

import logging
import stat

import pytest

from fedimpute.credentials import Credentials, token_env_name
from fedimpute.exceptions import CredentialError

PLANTED = "plantedTOKEN-7f3a9c1e5b"


def test_env_name__contract_rule():
    assert token_env_name("my-wes.1") == "FEDIMPUTE_TOKEN_MY_WES_1"


def test_token__environment_overrides_store(home, monkeypatch):
    creds = Credentials(home)
    creds.set_token("michigan", "stored-token")
    assert creds.token("michigan").get_secret_value() == "stored-token"
    monkeypatch.setenv("FEDIMPUTE_TOKEN_MICHIGAN", "env-token")
    assert creds.token("michigan").get_secret_value() == "env-token"
    assert "environment" in creds.token_source("michigan")


def test_file_backend__mode_0600(home):
    creds = Credentials(home)
    creds.set_token("michigan", "abcd1234")
    path = home / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_backend__refuses_world_readable_file(home):
    creds = Credentials(home)
    creds.set_token("michigan", "abcd1234")
    (home / "secrets.json").chmod(0o644)
    with pytest.raises(CredentialError, match="chmod 600"):
        creds.token("michigan")


def test_secretstr__repr_hides_token(home):
    creds = Credentials(home)
    creds.set_token("michigan", PLANTED)
    token = creds.token("michigan")
    assert PLANTED not in repr(token) and PLANTED not in str(token)


def test_planted_token__not_in_duckdb_nor_logs(home, cli, caplog):
    """We can log in and work with a token; neither the DuckDB file nor any log line holds it."""
    caplog.set_level(logging.DEBUG)
    login = cli("--debug", "login", "michigan", "--token-stdin", input=PLANTED + "\n")
    assert login.returncode == 0, login.stderr
    runs = [cli("--debug", "services", "list", "--json"), cli("--debug", "jobs", "list", "--json"),
            cli("--debug", "services", "add", "w", "--protocol", "wes", "--url", "http://127.0.0.1:9")]
    # Code that logs a secret by mistake is still masked, in any logger, as the record is made.
    creds = Credentials(home)
    stored = creds.token("michigan", "tester")  # login keeps it as the caller's own (FEDIMPUTE_USER=tester)
    logging.getLogger("fedimpute.test").warning("oops, token is %s", stored.get_secret_value())
    try:
        raise ValueError(f"request failed with token {PLANTED}")
    except ValueError:
        logging.getLogger("httpx").exception("a library logging a traceback")
    logs = "\n".join([login.stderr, *(r.stderr for r in runs), caplog.text])
    assert "stored the token" in logs or "stored in the" in logs  # logging really ran
    assert PLANTED not in logs
    assert "oops, token is ***" in caplog.text and "request failed with token ***" in caplog.text
    for f in home.iterdir():
        if f.name.startswith("fedimpute.duckdb"):
            assert PLANTED.encode() not in f.read_bytes(), f.name
    assert creds.token("michigan", "tester").get_secret_value() == PLANTED  # and it was really stored, as tester's
