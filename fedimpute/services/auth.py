"""How a token travels: one ``httpx.Auth`` per scheme, set on the adapter's client.

The token is attached only to requests for the service itself (its origins, and for Cloudgene
only its API): a result link on another host, or a redirect to cloud storage, must never see it.
httpx drops ``Authorization`` on a redirect to another origin but copies any other header, which
is why Cloudgene's ``X-Auth-Token`` is kept to the API paths, where the server never redirects.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

__all__ = ["BearerAuth", "HeaderTokenAuth", "origin"]

Origin = tuple[str, str, int | None]


def origin(url: str | httpx.URL) -> Origin:
    """``(scheme, host, port)`` of ``url``, with the scheme's default port filled in."""
    parts = urlsplit(str(url))
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


class HeaderTokenAuth(httpx.Auth):
    """``<header>: <prefix><token>`` on requests whose URL starts with one of ``prefixes``."""

    def __init__(self, token: SecretStr | None, *, header: str, prefixes: Iterable[str], prefix: str = "") -> None:
        self.token, self.header, self.prefix = token, header, prefix
        self.prefixes = tuple(prefixes)

    def applies(self, url: httpx.URL) -> bool:
        return str(url).startswith(self.prefixes)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is not None and self.applies(request.url):
            request.headers[self.header] = f"{self.prefix}{self.token.get_secret_value()}"
        yield request


class BearerAuth(HeaderTokenAuth):
    """``Authorization: Bearer <token>`` on requests to the service's own origins; ``add_origin`` widens
    them (DNAstack's registry lists further hosts of the same Workbench)."""

    def __init__(self, token: SecretStr | None, *, origins: Iterable[str]) -> None:
        super().__init__(token, header="Authorization", prefix="Bearer ", prefixes=())
        self.origins = {origin(url) for url in origins}

    def add_origin(self, url: str) -> None:
        self.origins.add(origin(url))

    def applies(self, url: httpx.URL) -> bool:
        return origin(url) in self.origins
