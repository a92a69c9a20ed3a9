"""Opt-in checks against a real Cloudgene server (never run in CI).

Set ``FEDIMPUTE_LIVE_CLOUDGENE_URL`` (e.g. https://imputationserver.sph.umich.edu) and
``FEDIMPUTE_LIVE_CLOUDGENE_TOKEN`` (an API token from that server's profile page), optionally
``FEDIMPUTE_LIVE_CLOUDGENE_APP`` (default imputationserver2), then run
``pytest -m live tests/test_live_cloudgene.py``.
"""

from __future__ import annotations

import os

import httpx
import pytest
from pydantic import SecretStr

from fedimpute.models import HealthStatus, Protocol, ServiceConfig
from fedimpute.services.cloudgene import CloudgeneService

# Read at import: the autouse clean_environ fixture removes FEDIMPUTE_* variables from each test.
LIVE_URL = os.environ.get("FEDIMPUTE_LIVE_CLOUDGENE_URL")
LIVE_TOKEN = os.environ.get("FEDIMPUTE_LIVE_CLOUDGENE_TOKEN")
LIVE_APP = os.environ.get("FEDIMPUTE_LIVE_CLOUDGENE_APP", "imputationserver2")

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not (LIVE_URL and LIVE_TOKEN), reason="set FEDIMPUTE_LIVE_CLOUDGENE_URL and "
                       "FEDIMPUTE_LIVE_CLOUDGENE_TOKEN to run against a real Cloudgene server"),
]


@pytest.fixture
async def live():
    config = ServiceConfig(name="live", protocol=Protocol.CLOUDGENE, url=LIVE_URL or "https://unset", app=LIVE_APP)
    async with httpx.AsyncClient(timeout=60) as client:
        yield CloudgeneService(config, client, SecretStr(LIVE_TOKEN or ""))


async def test_live__token_verifies(live):
    info = await live.verify_token()
    assert info.valid, info.message
    assert info.user and info.expires_at is not None


async def test_live__panels_discovered(live):
    panels = await live.discover_panels()
    assert panels, "the server listed no reference panels"
    assert all("@" not in p.panel_id and p.key.startswith("apps@") for p in panels)


async def test_live__health(live):
    assert (await live.health()).status in (HealthStatus.UP, HealthStatus.MAINTENANCE)
