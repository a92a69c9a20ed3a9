"""Finding a Workbench's services: the GA4GH service registry, read once per adapter.

The registry sits at one of three paths under the Workbench URL; its entries are picked by
``type`` (group ``com.dnastack.workbench``: the ewes, workflow and user services) and carry the
OAuth2 configs a login needs.  Every host the registry lists is a Workbench host: the adapter's
bearer auth is widened to them once they are known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from fedimpute._http import check_response, json_body, transport_errors
from fedimpute.exceptions import RemoteRejectedError, ServiceError, TransientServiceError
from fedimpute.services.auth import BearerAuth
from fedimpute.services.base import ImputationService

__all__ = ["EWES", "GROUP", "REGISTRY_PATHS", "USERS", "WORKFLOWS", "Discovery", "Endpoints", "artifact",
           "registry_entries", "service_url"]

REGISTRY_PATHS = ("/services", "/service-registry/services", "/api/service-registry/services")
GROUP = "com.dnastack.workbench"
EWES, WORKFLOWS, USERS = "ewes-service", "workflow-service", "workbench-user-service"


@dataclass(frozen=True)
class Endpoints:
    """What the service registry said: its URL, its raw entries, the three service URLs."""

    registry: str
    services: tuple[dict[str, Any], ...]
    ewes: str
    workflows: str | None
    users: str | None

    def entries(self, *artifacts: str) -> list[dict[str, Any]]:
        return [s for s in self.services if artifact(s) in artifacts]


class Discovery(ImputationService):
    """The registry lookup of :class:`~fedimpute.services.dnastack.adapter.DnastackService` (a part of it:
    the protocol is named there)."""

    bearer: BearerAuth
    _endpoints: Endpoints | None = None

    async def endpoints(self) -> Endpoints:
        """The registry's services, looked up once per adapter; their hosts then get the token too."""
        if self._endpoints is None:
            registry, services = await self._registry()
            found = {a: service_url(registry, services, a) for a in (EWES, WORKFLOWS, USERS)}
            self._endpoints = Endpoints(registry, tuple(services), found[EWES] or "", found[WORKFLOWS],
                                        found[USERS])
            for entry in services:
                if entry.get("url"):
                    self.bearer.add_origin(urljoin(registry, str(entry["url"])))
        return self._endpoints

    async def _registry(self) -> tuple[str, list[dict[str, Any]]]:
        """The first of the three registry paths whose listing has an ewes service; a 404 or a
        body that is not a listing (a web page) means "try the next path"."""
        transient: TransientServiceError | None = None
        listed: str | None = None
        for path in REGISTRY_PATHS:
            url = f"{self.config.url}{path}"
            with transport_errors(self.name, what="service discovery"):
                response = await self.client.get(url)
            if response.status_code in (401, 403):
                check_response(self.name, response, what="service discovery")
            try:
                services = registry_entries(json_body(self.name, check_response(self.name, response)))
            except ServiceError as exc:  # a 5xx is kept to report if no path answers
                if isinstance(exc, TransientServiceError) and response.status_code >= 500:
                    transient = transient or exc
                continue
            if services is not None and service_url(url, services, EWES):
                return url, services
            listed = listed or (url if services is not None else None)
        if listed:
            raise RemoteRejectedError(
                self.name, f"the service registry at {listed} lists no {GROUP}:{EWES}; is "
                f"{self.config.url} a DNAstack Workbench? check the URL with `fedimpute services list`")
        if transient is not None:
            raise transient
        tried = ", ".join(REGISTRY_PATHS)
        raise RemoteRejectedError(
            self.name, f"no GA4GH service registry at {self.config.url} (tried {tried}); set the service "
            "URL to the Workbench base URL, e.g. https://workbench.omics.ai")


def registry_entries(body: Any) -> list[dict[str, Any]] | None:
    """A registry listing (a JSON array, or ``{"services": [...]}``); None for anything else."""
    if isinstance(body, dict):
        body = body.get("services")
    if not isinstance(body, list):
        return None
    return [s for s in body if isinstance(s, dict)]


def artifact(service: dict[str, Any]) -> str | None:
    """``type.artifact`` of a Workbench service (``group:artifact:version`` strings accepted too)."""
    kind = service.get("type")
    if isinstance(kind, str):
        parts = kind.split(":")
        kind = {"group": parts[0], "artifact": parts[1] if len(parts) > 1 else None}
    if isinstance(kind, dict) and kind.get("group") == GROUP:
        return kind.get("artifact")
    return None


def service_url(registry: str, services: list[dict[str, Any]], wanted: str) -> str | None:
    """The URL of the first ``wanted`` service, resolved against the registry's own URL."""
    for service in services:
        if artifact(service) == wanted and service.get("url"):
            return urljoin(registry, str(service["url"])).rstrip("/")
    return None
