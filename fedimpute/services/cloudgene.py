"""The Cloudgene v2 adapter: Michigan Imputation Server 2, TOPMed and H3Africa/AfriGen-D.

Every route and quirk follows the Cloudgene reference: ``X-Auth-Token`` with no prefix,
the misspelt ``maintenace`` flag, GET for cancel and restart, checkbox options sent only
to enable them (any value means "on"), and options checked client-side against the
app's own schema, because the server accepts bad values and fails the job hours later.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from fedimpute._http import check_response, json_body, transport_errors
from fedimpute._multipart import MultipartBody
from fedimpute.downloads import safe_join, stream_to_file
from fedimpute.exceptions import (
    AuthenticationError,
    RemoteNotFoundError,
    RemoteRejectedError,
    ServiceError,
    UsageError,
)
from fedimpute.models import HealthRecord, HealthStatus, JobStatus, ReferencePanel
from fedimpute.services.base import (
    DownloadedFile,
    ImputationService,
    ProgressCallback,
    RemoteFile,
    RemoteJob,
    SubmitOptions,
    TokenInfo,
)
from fedimpute.services.cloudgene_schema import AppSchema, parse_job, short_panel_id

__all__ = ["CloudgeneService", "expiry_of", "form_fields", "read_job", "with_key"]

API = "/api/v2"
QC_ONLY_KEYS = ("qc_only", "qconly", "qc-only")
PAGE_SIZE = 15
#: The operators' published retention: results are deleted 7 days after a job completes, unless the job's
#: own ``deletedOn`` (set once the service sent its reminder) says otherwise.
RETENTION = timedelta(days=7)
DEAD = "-1"


def expiry_of(data: dict[str, Any], remote: RemoteJob) -> datetime | None:
    """When the service deletes the results of this job: its ``deletedOn`` when set (epoch ms, -1 when
    not), else 7 days after completion; None for jobs that have no results to lose (not completed)."""
    deleted_on = data.get("deletedOn")
    if isinstance(deleted_on, int | float) and deleted_on > 0:
        return datetime.fromtimestamp(deleted_on / 1000, tz=UTC)
    if remote.status is not JobStatus.COMPLETED or remote.results_expired or remote.finished_at is None:
        return None
    return remote.finished_at + RETENTION


def read_job(root: str, data: dict[str, Any], previous: JobStatus | None = None) -> RemoteJob:
    """A Cloudgene JobResponse (or list item) as a RemoteJob, with the date its results are deleted."""
    remote = parse_job(root, data, previous)
    return remote.model_copy(update={"expires_at": expiry_of(data, remote)})


class CloudgeneService(ImputationService):
    """One Cloudgene server; ``config.app`` names the app jobs are submitted to."""

    protocol: ClassVar[str] = "cloudgene"
    can_cancel: ClassVar[bool] = True
    can_restart: ClassVar[bool] = True
    discovers_panels: ClassVar[bool] = True
    lists_jobs: ClassVar[bool] = True
    verifies_token: ClassVar[bool] = True
    needs_token: ClassVar[bool] = True

    def __init__(self, config, client: httpx.AsyncClient, token: SecretStr | None) -> None:
        super().__init__(config, client, token)
        self.app = config.app or "imputationserver2"

    @classmethod
    def restartable(cls, remote_state: str | None) -> bool:
        """Only a DEAD job (state -1, interrupted by a restart of the server) can be re-queued."""
        return remote_state == DEAD

    def _headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token.get_secret_value()} if self.token else {}

    async def _request(self, method: str, path: str, *, what: str, **kwargs: Any) -> httpx.Response:
        with transport_errors(self.name, what=what):
            response = await self.client.request(method, f"{self.config.url}{path}",
                                                 headers=self._headers(), **kwargs)
        return check_response(self.name, response, what=what)

    async def _json(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        return json_body(self.name, await self._request(method, path, what=what, **kwargs), what=what)

    # -- server, token, panels ------------------------------------------------------------

    async def health(self) -> HealthRecord:
        """Up when ``/api/v2/server`` answers with ``maintenace: false``; 503 means maintenance."""
        start = time.perf_counter()
        try:
            info = await self._json("GET", f"{API}/server", what="server info")
        except ServiceError as exc:
            status = HealthStatus.MAINTENANCE if exc.status_code == 503 else (
                HealthStatus.UP if exc.status_code in (401, 403) else HealthStatus.DOWN)
            return HealthRecord(service=self.name, status=status, detail=exc.detail,
                                latency_ms=(time.perf_counter() - start) * 1000)
        latency = (time.perf_counter() - start) * 1000
        if info.get("maintenace"):
            return HealthRecord(service=self.name, status=HealthStatus.MAINTENANCE, latency_ms=latency,
                                detail=str(info.get("maintenaceMessage") or "maintenance mode"))
        apps = [a.get("id", "") for a in info.get("apps") or []]
        detail = f"{info.get('name') or 'Cloudgene'}; apps: {', '.join(apps) or 'none visible'}"
        return HealthRecord(service=self.name, status=HealthStatus.UP, detail=detail, latency_ms=latency)

    async def verify_token(self) -> TokenInfo:
        """``POST /api/v2/tokens/verify`` (anonymous, always 200; a 404 means not a Cloudgene server)."""
        if self.token is None:
            return TokenInfo(valid=False, message=f"no token; run `fedimpute login {self.name}`")
        with transport_errors(self.name, what="token check"):
            response = await self.client.post(f"{self.config.url}{API}/tokens/verify",
                                              data={"token": self.token.get_secret_value()})
        if response.status_code == 404:
            raise RemoteRejectedError(self.name, "this URL has no Cloudgene token endpoint; is it an "
                                      "imputation server? check the URL with `fedimpute services list`",
                                      status_code=404)
        body = json_body(self.name, check_response(self.name, response, what="token check"))
        expires = body.get("expire")
        return TokenInfo(
            valid=bool(body.get("valid")), user=body.get("username"),
            expires_at=datetime.fromisoformat(expires.replace("Z", "+00:00")) if expires and body.get("valid")
            else None,
            message=str(body.get("message") or "").replace("%s", body.get("username") or "the user"),
        )

    async def app_schema(self) -> AppSchema:
        """The app's parameters.  Cloudgene answers a bad token here with 404 "... or the request
        requires user authentication", so that case is told apart by asking about the token."""
        try:
            return AppSchema(await self._json("GET", f"{API}/server/apps/{self.app}", what=f"app {self.app}"))
        except RemoteNotFoundError as exc:
            if "authentication" in exc.detail and not (await self.verify_token()).valid:
                raise AuthenticationError(
                    self.name, f"the token was refused (missing, invalid or expired); run `fedimpute login "
                    f"{self.name}` with a new token from the service's profile page", status_code=401) from exc
            raise

    async def discover_panels(self) -> list[ReferencePanel]:
        return (await self.app_schema()).panels(self.name)

    # -- jobs ------------------------------------------------------------------------------

    async def submit(self, files: list[Path], options: SubmitOptions, *, job_name: str,
                     submission_key: str | None = None,
                     progress: ProgressCallback | None = None) -> str:
        schema = await self.app_schema()
        body = MultipartBody()
        for key, value in form_fields(schema, options, job_name=with_key(job_name, submission_key)):
            body.add_field(key, value)
        for path in files:
            body.add_file("files", path)
        with transport_errors(self.name, what="upload"):
            response = await self.client.post(
                f"{self.config.url}{API}/jobs/submit/{self.app}", content=body.stream(progress),
                headers={**self._headers(), **body.headers()})
        data = json_body(self.name, check_response(self.name, response, what="submission"), what="submission")
        if not data.get("success") or not data.get("id"):
            raise RemoteRejectedError(self.name, f"submission refused: {data.get('message') or data}")
        return str(data["id"])

    async def get_job(self, remote_id: str, *, previous: JobStatus | None = None) -> RemoteJob:
        data = await self._json("GET", f"{API}/jobs/{remote_id}", what=f"job {remote_id}")
        return read_job(self.config.url, data, previous)

    async def list_jobs(self, *, wanted: set[str] | None = None) -> list[RemoteJob]:
        """Jobs of the account.  Pages of 15, newest first, stopping once every ``wanted`` id was seen;
        when ``wanted`` is longer than a page, one unpaged request is cheaper than many pages (a monitor
        sweep asks at most once a minute, so this is not the tight loop the operators warn about)."""
        if wanted is not None and len(wanted) > PAGE_SIZE:
            data = await self._json("GET", f"{API}/jobs", what="job list")
            return [read_job(self.config.url, item) for item in data.get("data") or []]
        jobs, page, missing = [], 1, set(wanted or ())
        while page:
            data = await self._json("GET", f"{API}/jobs", params={"page": page}, what="job list")
            items = [read_job(self.config.url, item) for item in data.get("data") or []]
            jobs.extend(items)
            missing -= {j.remote_id for j in items}
            if wanted is not None and not missing:
                break
            page = data.get("next") if isinstance(data.get("next"), int) and data.get("next") != page else None
        return jobs

    async def cancel(self, remote_id: str) -> RemoteJob:
        data = await self._json("GET", f"{API}/jobs/{remote_id}/cancel", what=f"cancel of {remote_id}")
        return read_job(self.config.url, data)

    async def restart(self, remote_id: str) -> str:
        """Re-queue a DEAD (-1) job; the server refuses any other state."""
        data = await self._json("GET", f"{API}/jobs/{remote_id}/restart", what=f"restart of {remote_id}")
        return str(data.get("message") or "restarted")

    async def download(self, remote: RemoteFile, dest: Path, *,
                       progress: ProgressCallback | None = None) -> DownloadedFile:
        """One GET of ``remote`` into ``dest`` (a folder); the name may hold sub-folders."""
        return await stream_to_file(self.name, self.client, remote.url, safe_join(dest, remote.name),
                                    progress=progress)


def with_key(job_name: str, key: str | None) -> str:
    """The Cloudgene job name carrying fedimpute's job id, so a lost submission can be found again."""
    return job_name if not key or job_name == key else f"{job_name} [{key}]"


def _choose(schema: AppSchema, param: str, value: str, flag: str) -> str:
    allowed = schema.values(param)
    if not schema.has(param):
        raise UsageError(f"the app {schema.id or '?'} has no {flag} option; drop {flag}")
    if allowed and value not in allowed:
        raise UsageError(f"{flag} {value!r} is not offered by this service; choose one of {', '.join(allowed)}")
    return value


def _panel_key(schema: AppSchema, panel: str) -> str:
    keys = schema.panel_keys()
    for key in keys:
        if panel in (key, short_panel_id(key)) or key.endswith(f"@{panel}") or f"@{panel}@" in key:
            return key
    ids = ", ".join(short_panel_id(k) for k in keys) or "none"
    raise UsageError(f"unknown panel {panel!r} for this service; choose one of {ids} (see `fedimpute panels`)")


def _population(schema: AppSchema, panel_key: str, population: str) -> str:
    if not schema.has("population"):
        raise UsageError(f"the app {schema.id or '?'} has no population option; drop --population")
    known = schema.populations(panel_key)
    for pop in known:
        if pop.id.lower() == population.lower():
            return pop.id
    ids = ", ".join(p.id for p in known) or "none"
    raise UsageError(f"population {population!r} is not offered with panel {short_panel_id(panel_key)}; "
                     f"choose one of {ids}")


def form_fields(schema: AppSchema, options: SubmitOptions, *, job_name: str) -> list[tuple[str, str]]:
    """The multipart fields for ``options``, validated against ``schema`` (files are added apart)."""
    key = _panel_key(schema, options.panel)
    fields = [("job-name", job_name), ("refpanel", key)]
    if options.build:
        fields.append(("build", _choose(schema, "build", options.build, "--build")))
    if options.population:
        fields.append(("population", _population(schema, key, options.population)))
    if options.phasing:
        fields.append(("phasing", _choose(schema, "phasing", options.phasing, "--phasing")))
    if options.r2_filter is not None:
        fields.append(("r2Filter", _choose(schema, "r2Filter", options.r2_filter, "--r2-filter")))
    if options.mode:
        mode = options.mode
        if mode in QC_ONLY_KEYS:
            mode = next((k for k in schema.values("mode") if k in QC_ONLY_KEYS), "qc_only")
        fields.append(("mode", _choose(schema, "mode", mode, "--mode")))
    for flag, param, wanted in (("--aes", "aesEncryption", options.aes), ("--meta", "meta", options.meta)):
        if wanted:  # any value means "on" to Cloudgene: send the field only to enable it
            if not schema.has(param):
                raise UsageError(f"the app {schema.id or '?'} has no {flag} option; drop {flag}")
            fields.append((param, "true"))
    if options.password is not None and options.password.get_secret_value():
        fields.append(("password", options.password.get_secret_value()))
    return fields
