"""OAuth2 for DNAstack Workbench: client credentials, device-code login, and the auth
configs that the Workbench service registry lists next to each service; :class:`OAuthLogin`
is the adapter's ``oauth_login`` capability built on them.

Workbench takes ``Authorization: Bearer <access token>``; tokens come from an OAuth2
token endpoint and are scoped by ``resource`` (the service URLs, comma-joined).  These
helpers only *obtain* a token: storing it is the caller's job
(:meth:`fedimpute.credentials.Credentials.set_token`, never DuckDB, never a log), and
every token obtained here is registered with :mod:`fedimpute.redaction` at once so that
no log line can show it.  OAuth endpoints answer failures with RFC 6749 bodies
(``{error, error_description}``) that :func:`fedimpute._http.check_response` does not
read, so they are turned into fedimpute errors here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from fedimpute._http import check_response, json_body, transport_errors
from fedimpute.exceptions import (
    AuthenticationError,
    RemoteRejectedError,
    ServiceError,
    ServiceUnavailableError,
    UsageError,
)
from fedimpute.redaction import register_secret
from fedimpute.services.dnastack.discovery import EWES, USERS, WORKFLOWS, Discovery

__all__ = [
    "CLIENT_CREDENTIALS",
    "DEVICE_CODE",
    "OAuthConfig",
    "OAuthLogin",
    "client_credentials_token",
    "device_code_login",
    "merge_resources",
    "oauth_configs",
]

DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_CREDENTIALS = "client_credentials"
SLOW_DOWN_STEP = 5.0  # RFC 8628 section 3.5: add 5 seconds to the interval on every slow_down
DEFAULT_INTERVAL = 5.0
DEFAULT_EXPIRY = 600.0

Sleep = Callable[[float], Awaitable[Any]]


class OAuthConfig(BaseModel):
    """One ``authentication`` entry of a registry service, in the registry's own field names."""

    model_config = ConfigDict(frozen=True)

    token_endpoint: str
    device_code_endpoint: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    resource: str | None = None
    scope: str | None = None
    grant_type: str | None = None


def oauth_configs(services: Iterable[dict[str, Any]]) -> list[OAuthConfig]:
    """The OAuth2 configs listed by registry ``services`` (each entry's non-standard
    ``authentication`` list), de-duplicated, in registry order.  ``resource_url`` falls
    back to the service's own URL, which is what Workbench scopes tokens by."""
    found: list[OAuthConfig] = []
    for service in services:
        for entry in service.get("authentication") or []:
            if not isinstance(entry, dict) or not entry.get("token_endpoint"):
                continue
            secret = entry.get("client_secret")
            register_secret(secret)
            config = OAuthConfig(
                token_endpoint=entry["token_endpoint"],
                device_code_endpoint=entry.get("device_code_endpoint"),
                client_id=entry.get("client_id"), client_secret=SecretStr(secret) if secret else None,
                resource=entry.get("resource_url") or entry.get("resource") or service.get("url"),
                scope=entry.get("scope"), grant_type=entry.get("grant_type"))
            if config not in found:
                found.append(config)
    return found


def merge_resources(configs: list[OAuthConfig]) -> OAuthConfig | None:
    """One config whose ``resource`` covers every config sharing the first one's token
    endpoint and client, so a single login yields a token for all those services."""
    if not configs:
        return None
    first = configs[0]
    resources: list[str] = []
    for config in configs:
        if (config.token_endpoint, config.client_id) != (first.token_endpoint, first.client_id):
            continue
        for resource in (config.resource or "").split(","):
            if resource.strip() and resource.strip() not in resources:
                resources.append(resource.strip())
    return first.model_copy(update={"resource": ",".join(resources) or None})


class OAuthLogin(Discovery):
    """The OAuth2 side of :class:`~fedimpute.services.dnastack.adapter.DnastackService`."""

    async def oauth_configs(self) -> list[OAuthConfig]:
        """Every OAuth2 config the registry lists, ewes service first."""
        endpoints = await self.endpoints()
        ordered = [*endpoints.entries(EWES), *endpoints.entries(WORKFLOWS, USERS), *endpoints.services]
        return oauth_configs(ordered)  # de-duplicated, so the ewes configs come first

    async def login_config(self) -> OAuthConfig | None:
        """One config for a token that covers the ewes, workflow and user services."""
        endpoints = await self.endpoints()
        return merge_resources(oauth_configs([*endpoints.entries(EWES), *endpoints.entries(WORKFLOWS, USERS)]))

    async def oauth_login(self, *, client_id: str | None = None, client_secret: str | None = None,
                          on_prompt: Callable[[str, str], None] | None = None) -> str:
        """A token from the registry's OAuth2 config: client credentials when ``client_id`` and
        ``client_secret`` are given, else the device-code flow (the user approves in a browser)."""
        config = await self.login_config()
        if config is None:
            raise UsageError(f"the registry of {self.name} lists no OAuth2 configuration; use --token")
        if client_id and client_secret:
            token, _ = await client_credentials_token(self.client, config.token_endpoint, client_id, client_secret,
                                                      config.resource or "", config.scope, service=self.name)
            return token
        if config.device_code_endpoint and config.client_id:
            return await device_code_login(self.client, config.device_code_endpoint, config.token_endpoint,
                                           config.client_id, config.resource or "", config.scope,
                                           on_prompt=on_prompt or (lambda url, code: None), service=self.name)
        raise UsageError(f"{self.name} offers no device-code login; use --client-id with a client secret")


async def client_credentials_token(client: httpx.AsyncClient, token_endpoint: str, client_id: str,
                                   client_secret: str | SecretStr, resource: str, scope: str | None = None,
                                   *, service: str = "DNAstack") -> tuple[str, int | None]:
    """A service-account token: ``(access_token, expires_in seconds or None)``."""
    secret = client_secret.get_secret_value() if isinstance(client_secret, SecretStr) else client_secret
    register_secret(secret)
    form = {"grant_type": CLIENT_CREDENTIALS, "client_id": client_id, "client_secret": secret,
            "resource": resource}
    if scope:
        form["scope"] = scope
    body = await _post_token(client, token_endpoint, form, service)
    if body.get("error"):
        raise _oauth_error(service, body, client_id)
    token = _access_token(service, body)
    expires = body.get("expires_in")
    return token, int(expires) if isinstance(expires, int | float) else None


async def device_code_login(client: httpx.AsyncClient, device_code_endpoint: str, token_endpoint: str,
                            client_id: str, resource: str, scope: str | None = None, *,
                            on_prompt: Callable[[str, str], None], sleep: Sleep = asyncio.sleep,
                            service: str = "DNAstack") -> str:
    """Interactive login (RFC 8628): show the verification link through ``on_prompt(url,
    user_code)``, then poll until the user approves, the service refuses, or the code expires."""
    start = await _start_device_flow(client, device_code_endpoint, client_id, resource, scope, service)
    url = start.get("verification_uri_complete") or start.get("verification_uri") or ""
    on_prompt(str(url), str(start.get("user_code") or ""))
    interval = float(start.get("interval") or DEFAULT_INTERVAL)
    expires_in = float(start.get("expires_in") or DEFAULT_EXPIRY)
    form = {"grant_type": DEVICE_CODE, "device_code": str(start["device_code"]), "client_id": client_id}
    waited, began = 0.0, time.monotonic()
    while True:
        if max(waited, time.monotonic() - began) + interval > expires_in:
            raise _expired(service, expires_in)
        await sleep(interval)
        waited += interval
        body = await _post_token(client, token_endpoint, form, service)
        error = body.get("error")
        if not error:
            return _access_token(service, body)
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += SLOW_DOWN_STEP
            continue
        if error == "expired_token":
            raise _expired(service, expires_in)
        raise _oauth_error(service, body, client_id)


async def _start_device_flow(client: httpx.AsyncClient, endpoint: str, client_id: str, resource: str,
                             scope: str | None, service: str) -> dict[str, Any]:
    """POST the device-code endpoint; Workbench takes its parameters in the query string."""
    params = {"grant_type": DEVICE_CODE, "client_id": client_id, "resource": resource}
    if scope:
        params["scope"] = scope
    with transport_errors(service, what="device login"):
        response = await client.post(endpoint, params=params)
    body = _oauth_body(response)
    if body.get("error"):
        raise _oauth_error(service, body, client_id)
    check_response(service, response, what="device login")
    if not body.get("device_code"):
        raise ServiceUnavailableError(service, "the device-login endpoint sent no device_code; try again "
                                      "later", status_code=response.status_code)
    register_secret(str(body["device_code"]))
    return body


async def _post_token(client: httpx.AsyncClient, endpoint: str, form: dict[str, str],
                      service: str) -> dict[str, Any]:
    """POST a form to the token endpoint; OAuth error bodies are returned, other failures raised."""
    with transport_errors(service, what="token request"):
        response = await client.post(endpoint, data=form, headers={"Accept": "application/json"})
    body = _oauth_body(response)
    if body.get("error"):
        return body
    check_response(service, response, what="token request")
    reply: dict[str, Any] = json_body(service, response, what="token reply")
    return reply


def _oauth_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _access_token(service: str, body: dict[str, Any]) -> str:
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise ServiceUnavailableError(service, "the token endpoint answered without an access_token; "
                                      "try again")
    register_secret(token)
    register_secret(body.get("refresh_token"))
    register_secret(body.get("id_token"))
    return token


def _expired(service: str, expires_in: float) -> AuthenticationError:
    return AuthenticationError(
        service, f"the login code expired before it was approved (it is valid for {expires_in:.0f} s); "
        "run the login again and approve it in the browser sooner", status_code=400)


def _oauth_error(service: str, body: dict[str, Any], client_id: str | None) -> ServiceError:
    error = str(body.get("error"))
    detail = str(body.get("error_description") or body.get("msg") or "").strip()
    said = f"{error}: {detail}" if detail else error
    if error in ("invalid_client", "unauthorized_client"):
        return AuthenticationError(service, f"the token endpoint refused the client {client_id!r} ({said}); "
                                   "check the client id and secret", status_code=401)
    if error == "access_denied":
        return AuthenticationError(service, f"the login was refused ({said}); run it again and approve "
                                   "the request in the browser", status_code=400)
    return RemoteRejectedError(service, f"the token request was refused ({said}); check the client id, "
                               "resource and scope listed by the service registry", status_code=400)
