"""Pytest fixtures for the simulator; load with pytest_plugins = ["tests.cloudgene_server.fixtures"].

Why function scope: each test gets a fresh server state, so counters, quotas
and fault lists never leak between tests.
"""

from __future__ import annotations

import pytest

from fedimpute.catalogue import make_service
from fedimpute.hub import Hub

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


def sim_hub(url: str, *, poll_interval: str = "0", only_sim: bool = False) -> Hub:
    """A Hub on the test's home with the simulator as service ``sim`` (alice's token); ``only_sim``
    removes the built-in public services, so nothing that walks the catalogue can reach them."""
    hub = Hub()
    if only_sim:
        for name in ("michigan", "topmed", "h3africa"):
            hub.store.remove_service(name)
    hub.store.add_service(make_service("sim", "cloudgene", url, settings=[f"poll_interval={poll_interval}"]))
    hub.credentials.set_token("sim", ALICE_TOKEN)
    return hub
