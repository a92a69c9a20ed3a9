"""Opt-in checks against a real DNAstack Workbench (never run in CI).

Set ``FEDIMPUTE_LIVE_DNASTACK_URL`` (e.g. https://workbench.omics.ai) and
``FEDIMPUTE_LIVE_DNASTACK_TOKEN`` (an access token for it, e.g. from ``omics auth login``
or :func:`fedimpute.services.dnastack.oauth.device_code_login`), optionally
``FEDIMPUTE_LIVE_DNASTACK_NAMESPACE``, then run ``pytest -m live tests/test_live_dnastack.py``.
Nothing is submitted: the tests only discover endpoints, read the profile and list runs.
"""

from __future__ import annotations

import os

import httpx
import pytest
from pydantic import SecretStr

from fedimpute.models import HealthStatus, Protocol, ServiceConfig
from fedimpute.services.dnastack import DnastackService

# Read at import: the autouse clean_environ fixture removes FEDIMPUTE_* variables from each test.
LIVE_URL = os.environ.get("FEDIMPUTE_LIVE_DNASTACK_URL")
LIVE_TOKEN = os.environ.get("FEDIMPUTE_LIVE_DNASTACK_TOKEN")
LIVE_NAMESPACE = os.environ.get("FEDIMPUTE_LIVE_DNASTACK_NAMESPACE")

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not (LIVE_URL and LIVE_TOKEN), reason="set FEDIMPUTE_LIVE_DNASTACK_URL and "
                       "FEDIMPUTE_LIVE_DNASTACK_TOKEN to run against a real DNAstack Workbench"),
]


@pytest.fixture
async def live():
    settings = {"namespace": LIVE_NAMESPACE} if LIVE_NAMESPACE else {}
    config = ServiceConfig(name="live", protocol=Protocol.DNASTACK, url=LIVE_URL or "https://unset",
                           settings=settings)
    async with httpx.AsyncClient(timeout=60, follow_redirects=True) as client:
        yield DnastackService(config, client, SecretStr(LIVE_TOKEN or ""))


async def test_live__endpoints_discovered(live):
    endpoints = await live.endpoints()
    assert endpoints.ewes.startswith(("https://", "http://"))
    assert await live.namespace()
    assert await live.oauth_configs(), "the registry listed no OAuth2 config"


async def test_live__token_and_health(live):
    info = await live.verify_token()
    assert info.valid, info.message
    assert (await live.health()).status is HealthStatus.UP


async def test_live__runs_listed(live):
    jobs = await live.list_jobs()
    assert all(j.remote_id and j.remote_state for j in jobs)
