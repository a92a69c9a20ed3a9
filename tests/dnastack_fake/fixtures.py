"""Pytest fixtures for the fake Workbench; import them into a test module with
``from tests.dnastack_fake.fixtures import dnastack_fake, dnastack_url  # noqa: F401``.

Why function scope: every test gets fresh state (tokens, runs, knobs) and its own port.
The fake starts with user alice (namespace ``ns-alice``, token ``ALICE_TOKEN``), the
workflow ``fedimpute-impute`` (versions 1.0 and 1.1), and a confidential client
``CLIENT_ID``/``CLIENT_SECRET`` acting for alice.
"""

from __future__ import annotations

import pytest

from .server import serve_in_thread
from .state import FakeWorkbench, make_token

__all__ = ["ALICE", "ALICE_TOKEN", "CLIENT_ID", "CLIENT_SECRET", "NAMESPACE", "WORKFLOW", "dnastack_fake",
           "dnastack_url"]

ALICE = "alice@example.org"
NAMESPACE = "ns-alice"
WORKFLOW = "fedimpute-impute"
ALICE_TOKEN = make_token(ALICE, lifetime=30 * 86400)
CLIENT_ID, CLIENT_SECRET = "hub-service-account", "s3cret-client-value"


@pytest.fixture
def dnastack_fake() -> FakeWorkbench:
    fake = FakeWorkbench()
    fake.add_user(ALICE, NAMESPACE, token=ALICE_TOKEN, name="Alice Example")
    fake.add_workflow(NAMESPACE, WORKFLOW, ["1.0", "1.1"])
    fake.add_client(CLIENT_ID, CLIENT_SECRET, ALICE)
    return fake


@pytest.fixture
def dnastack_url(dnastack_fake):
    with serve_in_thread(dnastack_fake) as handle:
        yield handle.url
