"""Pytest fixtures for the simulator; load with pytest_plugins = ["tests.cloudgene_server.fixtures"].

Why function scope: each test gets a fresh server state, so counters, quotas
and fault lists never leak between tests.
"""

from __future__ import annotations

import pytest

from .server import serve_in_thread
from .state import CloudgeneSim

ALICE_TOKEN = "alice-token-0123456789"
BOB_TOKEN = "bob-token-0123456789"


@pytest.fixture
def cloudgene_sim(tmp_path) -> CloudgeneSim:
    sim = CloudgeneSim(workdir=tmp_path / "cloudgene-sim")
    sim.add_user("alice", ALICE_TOKEN, name="Alice Example", mail="alice@example.org")
    sim.add_user("bob", BOB_TOKEN)
    return sim


@pytest.fixture
def cloudgene_url(cloudgene_sim):
    with serve_in_thread(cloudgene_sim) as handle:
        yield handle.url
