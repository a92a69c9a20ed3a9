"""HTTP plumbing shared by the adapters: client construction and the one place where
HTTP failures become fedimpute exceptions.

Adapters receive an ``httpx.AsyncClient`` (tests inject one, the CLI builds one with
:func:`build_client`) and call :func:`check_response` on every answer and wrap every
request in :func:`transport_errors`, so the user always gets a
:class:`~fedimpute.exceptions.ServiceError` subclass naming the service and the fix.
Status codes are mapped here, for every protocol alike; what a protocol's own wording
means (Cloudgene's quota sentences) is its adapter's business
(:meth:`~fedimpute.services.base.ImputationService.refine_error`), read from the
error's ``said``.
"""

from __future__ import annotations

import functools
import json
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from fedimpute import __version__
from fedimpute.exceptions import (
    AuthenticationError,
    MaintenanceError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RemoteNotFoundError,
    RemoteRejectedError,
    ServiceError,
    ServiceUnavailableError,
    UsageError,
)

__all__ = ["USER_AGENT", "StaleConnectionRetry", "build_client", "check_response", "error_message", "json_body",
           "transport_errors"]

USER_AGENT = f"fedimpute/{__version__} (python-httpx)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=120.0, write=300.0)


class StaleConnectionRetry(httpx.AsyncBaseTransport):
    """Retry a GET once when a pooled keep-alive connection turns out to be closed by the server
    ("Server disconnected without sending a response"): the request never reached the service,
    so the retry costs no quota.  Anything else, and every POST, goes back to the caller."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self.inner.handle_async_request(request)
        except httpx.RemoteProtocolError as exc:
            if request.method not in ("GET", "HEAD") or "without sending a response" not in str(exc):
                raise
            return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@functools.cache
def _ssl_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """One SSL context per CA bundle: loading one costs about 60 ms each time.  ``ca_bundle`` is a
    service's own CA (a lab's CA, a partner node's self-signed certificate): it replaces the
    system's CAs for that service only."""
    if ca_bundle is None:
        return httpx.create_ssl_context()
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load the CA bundle {ca_bundle} ({exc}); fix the service's ca_bundle setting "
                         "(a PEM file)") from exc


def build_client(base_url: str, *, auth: httpx.Auth | None = None, headers: dict[str, str] | None = None,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT, ca_bundle: str | None = None) -> httpx.AsyncClient:
    """An AsyncClient for one service: relative URLs under ``base_url``, ``auth`` on every request
    (an adapter sets its own protocol's), our User-Agent, redirects followed (S3 result links), a
    GET retried once on a stale keep-alive connection, and the service's own CA when it has one."""
    verify = _ssl_context(os.path.expanduser(ca_bundle) if ca_bundle else None)
    return httpx.AsyncClient(base_url=base_url, auth=auth, headers={"User-Agent": USER_AGENT, **(headers or {})},
                             timeout=timeout, follow_redirects=True,
                             transport=StaleConnectionRetry(httpx.AsyncHTTPTransport(verify=verify)))


def error_message(response: httpx.Response) -> str:
    """The service's own words for a failed response, from any of the known error envelopes."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip()
        if text.startswith("<") or not text:
            return f"HTTP {response.status_code} {response.reason_phrase}".strip()
        return text[:300]
    if isinstance(body, dict):
        for key in ("message", "msg", "detail", "title"):  # service envelopes; framework bodies are ignored
            said = body.get(key)
            if isinstance(said, str) and said:
                return said
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def check_response(service: str, response: httpx.Response, *, what: str = "request") -> httpx.Response:
    """Return ``response`` when it succeeded; otherwise raise the ServiceError its status code means,
    carrying the service's own words as ``said``."""
    code = response.status_code
    if code < 400:
        return response
    message = error_message(response)
    kind, text = _status_error(service, code, message, what)
    raise kind(service, text, status_code=code, said=message)


def _status_error(service: str, code: int, message: str, what: str) -> tuple[type[ServiceError], str]:
    """The error class for HTTP ``code`` and fedimpute's sentence around the service's ``message``."""
    if code == 401:
        return AuthenticationError, (f"the token was refused (missing, invalid or expired); run `fedimpute login "
                                     f"{service}` with a new token from the service's profile page")
    if code == 403:
        return PermissionDeniedError, (f"access denied ({message}); the token may have been revoked or replaced "
                                       f"(run `fedimpute login {service}`), or the job belongs to another account")
    if code == 404:
        return RemoteNotFoundError, f"{what} not found: {message}"
    if code == 413:
        return PayloadTooLargeError, ("the upload is larger than the service accepts; split the input by "
                                      "chromosome or into fewer samples per job")
    if code == 503:
        return MaintenanceError, f"the service is in maintenance ({message}); try again later"
    if code >= 500:
        return ServiceUnavailableError, f"server error during {what}: {message}; try again later"
    return RemoteRejectedError, f"{what} rejected: {message}"


def json_body(service: str, response: httpx.Response, *, what: str = "response") -> Any:
    """The JSON of a successful response; a garbled body is a transient server fault."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ServiceUnavailableError(
            service, f"the {what} was not valid JSON ({exc.__class__.__name__}); try again later",
            status_code=response.status_code) from exc


@contextmanager
def transport_errors(service: str, *, what: str = "request") -> Iterator[None]:
    """Turn httpx transport failures (refused, reset, timeouts) into ServiceUnavailableError."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise ServiceUnavailableError(service, f"{what} timed out ({type(exc).__name__}); try again later") from exc
    except httpx.TransportError as exc:
        raise ServiceUnavailableError(
            service, f"could not reach the service during {what} ({type(exc).__name__}: {exc}); "
            "check the URL and your network, then try again") from exc
