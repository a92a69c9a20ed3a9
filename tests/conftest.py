"""Shared fixtures: every test gets its own FEDIMPUTE_HOME and a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ["tests.cloudgene_server.fixtures", "tests.wes_fixtures"]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch, tmp_path):
    """No FEDIMPUTE_* or proxy variables leak in; secrets go to the 0600 file backend."""
    for key in list(os.environ):
        if key.startswith("FEDIMPUTE_") or key.lower() in {"http_proxy", "https_proxy", "all_proxy"}:
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "fedimpute-home"
    monkeypatch.setenv("FEDIMPUTE_HOME", str(home))
    monkeypatch.setenv("FEDIMPUTE_SECRETS", "file")
    monkeypatch.setenv("FEDIMPUTE_USER", "tester")
    monkeypatch.setenv("FEDIMPUTE_HEALTH_PERIOD", "0")  # monitors never check the public services' health
    yield home


@pytest.fixture
def home(clean_environ) -> Path:
    return clean_environ


@pytest.fixture
def store(home):
    from fedimpute.store import Store

    return Store(home)


def run_cli(*args: str, input: str | None = None, env: dict | None = None, timeout: float = 60):
    """Run the real console entry point in a subprocess (``python -m fedimpute``)."""
    return subprocess.run(
        [sys.executable, "-m", "fedimpute", *args], input=input, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=timeout, cwd=ROOT,
    )


@pytest.fixture
def cli():
    return run_cli
