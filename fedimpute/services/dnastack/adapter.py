"""The DNAstack Workbench adapter: runs submitted through ``/batch``, followed, listed, cancelled
and downloaded in the namespace :mod:`.resolution` picks, at the endpoints :mod:`.discovery` found."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urljoin

import httpx
from pydantic import SecretStr

from fedimpute._http import json_body
from fedimpute.exceptions import RemoteRejectedError, ServiceError, UsageError
from fedimpute.models import HealthRecord, HealthStatus, JobStatus, ReferencePanel, ServiceConfig
from fedimpute.services import base
from fedimpute.services.auth import BearerAuth
from fedimpute.services.dnastack.oauth import OAuthLogin
from fedimpute.services.dnastack.parameters import DnastackSettings, run_params
from fedimpute.services.dnastack.parsing import parse_run
from fedimpute.services.dnastack.resolution import Resolution
from fedimpute.services.settings import ServiceSettings
from fedimpute.services.tokens import jwt_expiry, token_check_failed
from fedimpute.services.wes_parse import JOB_TAG, KEY_TAG

__all__ = ["DnastackService", "DnastackSettings"]

PAGE_SIZE = 100
MAX_PAGES = 1000


class DnastackService(Resolution, OAuthLogin):
    """One Workbench; ``config.url`` is its base URL (e.g. https://workbench.omics.ai)."""

    protocol: ClassVar[str] = "dnastack"
    Settings: ClassVar[type[ServiceSettings]] = DnastackSettings
    needs_token: ClassVar[bool] = True  # every ewes call takes an OAuth2 bearer token
    def __init__(self, config: ServiceConfig, client: httpx.AsyncClient, token: SecretStr | None) -> None:
        super().__init__(config, client, token)
        self._namespace = self.settings.namespace or None
        self._engine = self.settings.engine_id or None
        self._workflow = self.settings.workflow_url or None

    def auth(self) -> httpx.Auth:
        """Bearer, to the Workbench URL and (once discovered) every host its registry lists."""
        self.bearer = BearerAuth(self.token, origins=[self.config.url])
        return self.bearer

    # -- service, token, panels --------------------------------------------------------------

    async def health(self) -> HealthRecord:
        """Up when the registry lists an ewes service and its service-info answers (a refused
        token still means the service is up)."""
        start = time.perf_counter()
        try:
            endpoints = await self.endpoints()
            if self.token is None and not self.settings.namespace:
                return self._health(start, HealthStatus.UP, f"registry lists ewes at {endpoints.ewes}; "
                                    f"log in (`fedimpute login {self.name}`) to check the run service")
            info = await self.request_json("GET", await self.wes_url("/service-info"), what="ewes service info")
        except ServiceError as exc:
            status = HealthStatus.MAINTENANCE if exc.status_code == 503 else (
                HealthStatus.UP if exc.status_code in (401, 403) else HealthStatus.DOWN)
            return self._health(start, status, exc.detail)
        version = info.get("version") or ",".join(info.get("supported_wes_versions") or []) or "?"
        return self._health(start, HealthStatus.UP, f"{info.get('name') or 'ewes'} {version}; "
                            f"namespace {self._namespace}")

    def _health(self, start: float, status: HealthStatus, detail: str) -> HealthRecord:
        return HealthRecord(service=self.name, status=status, detail=detail,
                            latency_ms=(time.perf_counter() - start) * 1000)

    async def verify_token(self) -> base.TokenInfo:
        """One authenticated call: the user service's ``/users/me`` (who the token belongs to), else the
        ewes service-info.  A 401/403, from it or from discovery, is a refusal naming the status code; a
        Workbench that cannot be asked leaves the token unknown, with the reason."""
        if self.token is None:
            return base.TokenInfo(valid=False, message=f"no token; run `fedimpute login {self.name}`")
        try:
            endpoints = await self.endpoints()
            url = f"{endpoints.users}/users/me" if endpoints.users else await self.wes_url("/service-info")
            me = await self.request_json("GET", url, what="token check")
        except ServiceError as exc:
            return token_check_failed(exc)
        except UsageError as exc:  # no namespace to build the service-info URL from
            return base.TokenInfo(valid=None, message=f"could not check the token: {exc}")
        user = (me.get("email") or me.get("full_name")) if endpoints.users and isinstance(me, dict) else None
        return base.TokenInfo(valid=True, user=user, expires_at=jwt_expiry(self.token))

    async def discover_panels(self) -> list[ReferencePanel]:
        """Workbench has no panel catalogue: the panel is passed to the workflow as given."""
        return []

    # -- runs --------------------------------------------------------------------------------

    async def submit(self, files: list[Path], options: base.SubmitOptions, *, job_name: str,
                     submission_key: str | None = None,
                     progress: base.ProgressCallback | None = None) -> str:
        """One run through ``/batch``; nothing is uploaded (inputs are already in the cloud)."""
        params = run_params(self.name, files, options, self.settings)
        workflow, engine = await self.workflow_url(), await self.engine_id()
        body = {
            "workflow_url": workflow, "workflow_type": "WDL",
            "workflow_type_version": self.settings.workflow_type_version or "1.0",
            "engine_id": engine, "default_workflow_params": self.settings.extra_params,
            "run_requests": [{"workflow_params": params,
                              "tags": {JOB_TAG: job_name, **({KEY_TAG: submission_key} if submission_key else {})}}],
        }
        data = await self.request_json("POST", await self.wes_url("/batch"), json=body, what="submission")
        runs = data.get("runs") if isinstance(data, dict) else None
        first = runs[0] if isinstance(runs, list) and runs and isinstance(runs[0], dict) else {}
        if not first.get("run_id") or first.get("error_code"):
            raise RemoteRejectedError(self.name, f"submission refused: {first.get('msg') or data}")
        return str(first["run_id"])

    async def get_job(self, remote_id: str, *, previous: JobStatus | None = None) -> base.RemoteJob:
        url = await self.wes_url(f"/runs/{quote(remote_id, safe='')}")
        return parse_run(await self.request_json("GET", url, what=f"run {remote_id}"))

    async def list_jobs(self, *, wanted: set[str] | None = None) -> list[base.RemoteJob]:
        """Every run of the namespace, following ``pagination.next_page_url`` (or ``next_page_token``)."""
        first = await self.wes_url("/runs")
        url: str | None = first
        params: dict[str, Any] | None = {"page_size": PAGE_SIZE}
        jobs: list[base.RemoteJob] = []
        seen: set[str] = set()
        while url and len(seen) < MAX_PAGES:
            response = await self.request("GET", url, params=params, what="run list")
            seen.add(str(response.url))
            data = json_body(self.name, response, what="run list")
            runs = [r for r in data.get("runs") or [] if isinstance(r, dict) and r.get("run_id")]
            jobs.extend(parse_run(r) for r in runs)
            url, params = _next_page(first, str(response.url), data)
            if url and str(httpx.URL(url, params=params) if params else url) in seen:
                break  # the service pointed back at a page already read
        return jobs

    async def cancel(self, remote_id: str) -> base.RemoteJob:
        """Ask for the cancel, then report the run as it is now (usually CANCELING)."""
        await self.request("POST", await self.wes_url(f"/runs/{quote(remote_id, safe='')}/cancel"),
                           what=f"cancel of {remote_id}")
        return await self.get_job(remote_id)

    async def download(self, remote: base.RemoteFile, dest: Path, *,
                       progress: base.ProgressCallback | None = None) -> base.DownloadedFile:
        """One GET of an http(s) output; the bearer token goes only to Workbench's own hosts."""
        if not remote.url.lower().startswith(("http://", "https://")):
            raise UsageError(f"{remote.name} is stored at {remote.url}, which fedimpute cannot download (only "
                             "http(s) links are); copy it with the cloud's own tools, e.g. `gsutil cp URL .`, "
                             "`aws s3 cp URL .` or `azcopy copy URL .`")
        return await super().download(remote, dest, progress=progress)


def _next_page(first: str, current: str, data: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The next page: ``pagination.next_page_url`` (resolved against the current page's URL),
    else ``next_page_token`` sent to the list URL; ``(None, None)`` at the end."""
    pagination = data.get("pagination")
    pagination = pagination if isinstance(pagination, dict) else {}
    if pagination.get("next_page_url"):
        return urljoin(current, str(pagination["next_page_url"])), None
    if data.get("next_page_token"):
        return first, {"page_size": PAGE_SIZE, "page_token": str(data["next_page_token"])}
    return None, None
