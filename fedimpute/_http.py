"""HTTP plumbing shared by the adapters: client construction and the one place where
HTTP failures become fedimpute exceptions.

Adapters receive an ``httpx.AsyncClient`` (tests inject one, the CLI builds one with
:func:`build_client`) and call :func:`check_response` on every answer and wrap every
request in :func:`transport_errors`, so the user always gets a
:class:`~fedimpute.exceptions.ServiceError` subclass naming the service and the fix.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from fedimpute import __version__
from fedimpute.exceptions import (
    AuthenticationError,
    DownloadLimitError,
    MaintenanceError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RemoteNotFoundError,
    RemoteRejectedError,
    ServiceUnavailableError,
)

__all__ = ["USER_AGENT", "StaleConnectionRetry", "build_client", "check_response", "error_message", "json_body", "transport_errors"]

USER_AGENT = f"fedimpute/{__version__} (python-httpx)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=120.0, write=300.0)
_QUOTA = re.compile(r"Only (\d+) jobs? per user", re.I)


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
def _ssl_context():
    """One SSL context for every client: loading the CA bundle costs about 60 ms each time."""
    return httpx.create_ssl_context()


def build_client(base_url: str, *, headers: dict[str, str] | None = None,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    """An AsyncClient for one service: our User-Agent, redirects followed (S3 result links), and a
    GET retried once on a stale keep-alive connection."""
    return httpx.AsyncClient(base_url=base_url, headers={"User-Agent": USER_AGENT, **(headers or {})},
                             timeout=timeout, follow_redirects=True,
                             transport=StaleConnectionRetry(httpx.AsyncHTTPTransport(verify=_ssl_context())))


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
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def check_response(service: str, response: httpx.Response, *, what: str = "request") -> httpx.Response:
    """Return ``response`` when it succeeded; otherwise raise the matching ServiceError."""
    code = response.status_code
    if code < 400:
        return response
    message = error_message(response)
    if code == 401:
        raise AuthenticationError(
            service, f"the token was refused (missing, invalid or expired); run `fedimpute login {service}` "
            "with a new token from the service's profile page", status_code=code)
    if code == 403:
        raise PermissionDeniedError(
            service, f"access denied ({message}); the token may have been revoked or replaced "
            f"(run `fedimpute login {service}`), or the job belongs to another account", status_code=code)
    if code == 404:
        raise RemoteNotFoundError(service, f"{what} not found: {message}", status_code=code)
    if code == 413:
        raise PayloadTooLargeError(
            service, "the upload is larger than the service accepts; split the input by chromosome "
            "or into fewer samples per job", status_code=code)
    if code == 503:
        raise MaintenanceError(service, f"the service is in maintenance ({message}); try again later",
                               status_code=code)
    if code >= 500:
        raise ServiceUnavailableError(service, f"server error during {what}: {message}; try again later",
                                      status_code=code)
    if match := _QUOTA.search(message):
        raise QuotaExceededError(
            service, f"{message} Wait for one of your jobs to finish, or cancel one.",
            limit=int(match[1]), status_code=code)
    if "max downloads exceeded" in message:
        raise DownloadLimitError(
            service, f"{message} The file's download quota is used up; ask the service's operators "
            "to reset it", status_code=code)
    raise RemoteRejectedError(service, f"{what} rejected: {message}", status_code=code)


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
