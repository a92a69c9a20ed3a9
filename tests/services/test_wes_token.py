"""The WES token check: one authenticated call (``GET /runs?page_size=1``) against a real sapporo
with bearer auth; respx only for the answers sapporo does not give (403, 404, 503)."""

from __future__ import annotations

import time

import httpx
import pytest
import respx
from pydantic import SecretStr

from fedimpute.catalogue import make_service
from fedimpute.hub import Hub
from fedimpute.models import HealthStatus, Protocol, ServiceConfig
from fedimpute.services.wes import WesService

UNREACHABLE = "http://127.0.0.1:9/ga4gh/wes/v1"  # the discard port: nothing listens there
FAKE = "https://wes.example.org/ga4gh/wes/v1"


@pytest.fixture
async def requests_seen():
    """An httpx client that records every request it sends."""
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request)

    async with httpx.AsyncClient(timeout=30, event_hooks={"request": [record]}) as client:
        yield client, seen


def _adapter(url: str, client: httpx.AsyncClient, token: str | None) -> WesService:
    config = ServiceConfig(name="w", protocol=Protocol.WES, url=url)
    return WesService(config, client, SecretStr(token) if token else None)


async def test_verify_token__right_token_is_valid_with_user_and_expiry(sapporo, sapporo_tokens, requests_seen):
    client, seen = requests_seen
    info = await _adapter(sapporo.url, client, sapporo_tokens["alice"]).verify_token()
    assert info.valid is True and info.user == "alice"
    assert time.time() + 23 * 3600 < info.expires_at.timestamp() <= time.time() + 24 * 3600 + 60
    assert [(r.method, r.url.path, r.url.params.get("page_size")) for r in seen] == [
        ("GET", "/ga4gh/wes/v1/runs", "1")]
    assert seen[0].headers["Authorization"] == f"Bearer {sapporo_tokens['alice']}"


async def test_verify_token__wrong_token_is_refused_naming_401(sapporo, requests_seen):
    client, seen = requests_seen
    info = await _adapter(sapporo.url, client, "not-a-valid-jwt").verify_token()
    assert info.valid is False and info.message.startswith("HTTP 401: ")
    assert info.user is None and info.expires_at is None and len(seen) == 1


async def test_verify_token__no_token_is_not_valid(sapporo, requests_seen):
    client, seen = requests_seen
    info = await _adapter(sapporo.url, client, None).verify_token()
    assert info.valid is False and "fedimpute login w" in info.message and seen == []


async def test_verify_token__unreachable_is_unknown_with_the_reason(requests_seen):
    client, _ = requests_seen
    info = await _adapter(UNREACHABLE, client, "some-token").verify_token()
    assert info.valid is None
    assert info.message.startswith("could not check the token: could not reach the service")


@pytest.mark.parametrize("status, valid, start", [
    (403, False, "HTTP 403: the token is not allowed in"),
    (404, None, "could not check the token (HTTP 404): token check not found"),
    (503, None, "could not check the token (HTTP 503): the service is in maintenance"),
])
async def test_verify_token__status_codes(status, valid, start):
    async with httpx.AsyncClient() as client:
        with respx.mock(base_url=FAKE) as mock:
            mock.get("/runs", params={"page_size": "1"}).mock(
                return_value=httpx.Response(status, json={"msg": "nope", "status_code": status}))
            info = await _adapter(FAKE, client, "tok-123456").verify_token()
    assert info.valid is valid and info.message.startswith(start)


async def test_check_service__wrong_token_is_invalid_not_null(store, sapporo, monkeypatch):
    store.add_service(make_service("w", "wes", sapporo.url))
    monkeypatch.setenv("FEDIMPUTE_TOKEN_W", "not-a-valid-jwt")
    health, token = await Hub(store).check_service("w")
    assert health.status is HealthStatus.UP
    assert token is not None and token.valid is False and "HTTP 401" in token.message


async def test_check_service__unreachable_is_down_and_token_unknown(store, monkeypatch):
    store.add_service(make_service("w", "wes", UNREACHABLE))
    monkeypatch.setenv("FEDIMPUTE_TOKEN_W", "some-token")
    health, token = await Hub(store).check_service("w")
    assert health.status is HealthStatus.DOWN
    assert token is not None and token.valid is None and "could not reach" in token.message
