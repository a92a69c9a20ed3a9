"""The Cloudgene v2 adapter: Michigan Imputation Server 2, TOPMed and H3Africa/AfriGen-D.

Every route and quirk follows the Cloudgene reference: ``X-Auth-Token`` with no prefix,
the misspelt ``maintenace`` flag, GET for cancel and restart, checkbox options sent only
to enable them (any value means "on"), and options checked client-side against the
app's own schema, because the server accepts bad values and fails the job hours later.
The servers' own wording for a full job quota ("Only N jobs per user ...") and a used-up
download counter ("max downloads exceeded") becomes typed errors here.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from fedimpute._multipart import MultipartBody
from fedimpute.exceptions import (
    AuthenticationError,
    DownloadLimitError,
    QuotaExceededError,
    RemoteNotFoundError,
    RemoteRejectedError,
    ServiceError,
    UsageError,
)
from fedimpute.models import HealthRecord, HealthStatus, JobStatus, ReferencePanel, ServiceConfig
from fedimpute.services import base
from fedimpute.services.auth import HeaderTokenAuth
from fedimpute.services.cloudgene_schema import AppSchema, parse_job, short_panel_id
from fedimpute.services.settings import ServiceSettings

__all__ = ["CloudgeneService", "CloudgeneSettings", "expiry_of", "form_fields", "read_job", "with_key"]

API = "/api/v2"
QC_ONLY_KEYS = ("qc_only", "qconly", "qc-only")
PAGE_SIZE = 15
#: The operators' published retention: results are deleted 7 days after a job completes, unless the job's
#: own ``deletedOn`` (set once the service sent its reminder) says otherwise.
RETENTION = timedelta(days=7)
DEAD = "-1"
_QUOTA = re.compile(r"Only (\d+) jobs? per user", re.I)
_DOWNLOAD_LIMIT = "max downloads exceeded"


def expiry_of(data: dict[str, Any], remote: base.RemoteJob) -> datetime | None:
    """When the service deletes the results of this job: its ``deletedOn`` when set (epoch ms, -1 when
    not), else 7 days after completion; None for jobs that have no results to lose (not completed)."""
    deleted_on = data.get("deletedOn")
    if isinstance(deleted_on, int | float) and deleted_on > 0:
        return datetime.fromtimestamp(deleted_on / 1000, tz=UTC)
    if remote.status is not JobStatus.COMPLETED or remote.results_expired or remote.finished_at is None:
        return None
    return remote.finished_at + RETENTION


def read_job(root: str, data: dict[str, Any], previous: JobStatus | None = None) -> base.RemoteJob:
    """A Cloudgene JobResponse (or list item) as a RemoteJob, with the date its results are deleted."""
    remote = parse_job(root, data, previous)
    return remote.model_copy(update={"expires_at": expiry_of(data, remote)})


class CloudgeneSettings(ServiceSettings):
    """Cloudgene takes no settings beyond the common ones (the app is ``--app``)."""


class CloudgeneService(base.ImputationService):
    """One Cloudgene server; ``config.app`` names the app jobs are submitted to."""

    protocol: ClassVar[str] = "cloudgene"
    Settings: ClassVar[type[ServiceSettings]] = CloudgeneSettings
    default_poll: ClassVar[float] = 60.0  # TOPMed asks for no more than one poll a minute
    #: From the cloudgene-api reference (shared/reference/cloudgene-api.md): min_samples 20 and max_samples
    #: 50,000 are the imputationserver2 pipeline defaults (section 6.2, "At least 20 samples must be
    #: uploaded.", genepi/imputationserver-utils: steps/InputValidationCommand.java); max_upload_mb 5000 is
    #: Cloudgene's ``uploadLimit`` default (section 3.1, genepi/cloudgene3: cli/StartServer.java); the builds
    #: hg19 and hg38 are the app's ``build`` list (section 3.1), the default of ServiceConfig.builds.
    #: max_concurrent_jobs is left to the server: it answers "Only N jobs per user ..." itself.
    default_limits = MappingProxyType({"min_samples": 20, "max_samples": 50_000, "max_upload_mb": 5000})
    needs_token: ClassVar[bool] = True

    def __init__(self, config: ServiceConfig, client: httpx.AsyncClient, token: SecretStr | None) -> None:
        super().__init__(config, client, token)
        self.app = config.app or "imputationserver2"

    def auth(self) -> httpx.Auth:
        """``X-Auth-Token`` on API calls only: result links are public, and may redirect to storage."""
        return HeaderTokenAuth(self.token, header="X-Auth-Token", prefixes=[f"{self.config.url}{API}/"])

    def refine_error(self, error: ServiceError) -> ServiceError:
        """Cloudgene answers a full job quota and a used-up download counter with a plain 400 and a sentence."""
        if type(error) is not RemoteRejectedError:
            return error
        if match := _QUOTA.search(error.said):
            return QuotaExceededError(self.name, f"{error.said} Wait for one of your jobs to finish, or cancel "
                                      "one.", limit=int(match[1]), status_code=error.status_code or 400)
        if _DOWNLOAD_LIMIT in error.said:
            return DownloadLimitError(self.name, f"{error.said} The file's download quota is used up; ask the "
                                      "service's operators to reset it", status_code=error.status_code)
        return error

    @classmethod
    def restartable(cls, remote_state: str | None) -> bool:
        """Only a DEAD job (state -1, interrupted by a restart of the server) can be re-queued."""
        return remote_state == DEAD

    # -- server, token, panels ------------------------------------------------------------

    async def health(self) -> HealthRecord:
        """Up when ``/api/v2/server`` answers with ``maintenace: false``; 503 means maintenance."""
        start = time.perf_counter()
        try:
            info = await self.request_json("GET", f"{API}/server", what="server info")
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

    async def verify_token(self) -> base.TokenInfo:
        """``POST /api/v2/tokens/verify`` (anonymous, always 200; a 404 means not a Cloudgene server)."""
        if self.token is None:
            return base.TokenInfo(valid=False, message=f"no token; run `fedimpute login {self.name}`")
        try:
            body = await self.request_json("POST", f"{API}/tokens/verify", what="token check",
                                           data={"token": self.token.get_secret_value()})
        except RemoteNotFoundError as exc:
            raise RemoteRejectedError(self.name, "this URL has no Cloudgene token endpoint; is it an "
                                      "imputation server? check the URL with `fedimpute services list`",
                                      status_code=404) from exc
        expires = body.get("expire")
        return base.TokenInfo(
            valid=bool(body.get("valid")), user=body.get("username"),
            expires_at=datetime.fromisoformat(expires.replace("Z", "+00:00")) if expires and body.get("valid")
            else None,
            message=str(body.get("message") or "").replace("%s", body.get("username") or "the user"),
        )

    async def app_schema(self) -> AppSchema:
        """The app's parameters.  Cloudgene answers a bad token here with 404 "... or the request
        requires user authentication", so that case is told apart by asking about the token."""
        try:
            return AppSchema(await self.request_json("GET", f"{API}/server/apps/{self.app}", what=f"app {self.app}"))
        except RemoteNotFoundError as exc:
            if "authentication" in exc.said and not (await self.verify_token()).valid:
                raise AuthenticationError(
                    self.name, f"the token was refused (missing, invalid or expired); run `fedimpute login "
                    f"{self.name}` with a new token from the service's profile page", status_code=401) from exc
            raise

    async def discover_panels(self) -> list[ReferencePanel]:
        return (await self.app_schema()).panels(self.name)

    async def terms(self) -> list[str]:
        """The app's ``terms_checkbox`` texts (Michigan: not re-identifying participants, reporting data
        incidents), read from the app's schema each time: a changed text must be accepted again."""
        return (await self.app_schema()).terms()

    # -- jobs ------------------------------------------------------------------------------

    async def submit(self, files: list[Path], options: base.SubmitOptions, *, job_name: str,
                     submission_key: str | None = None,
                     progress: base.ProgressCallback | None = None) -> str:
        schema = await self.app_schema()
        body = MultipartBody()
        for key, value in form_fields(schema, options, job_name=with_key(job_name, submission_key)):
            body.add_field(key, value)
        for path in files:
            body.add_file("files", path)
        data = await self.request_json("POST", f"{API}/jobs/submit/{self.app}", what="submission",
                                       sending="upload", content=body.stream(progress), headers=body.headers())
        if not data.get("success") or not data.get("id"):
            raise RemoteRejectedError(self.name, f"submission refused: {data.get('message') or data}")
        return str(data["id"])

    async def get_job(self, remote_id: str, *, previous: JobStatus | None = None) -> base.RemoteJob:
        data = await self.request_json("GET", f"{API}/jobs/{remote_id}", what=f"job {remote_id}")
        return read_job(self.config.url, data, previous)

    async def list_jobs(self, *, wanted: set[str] | None = None) -> list[base.RemoteJob]:
        """Jobs of the account.  Pages of 15, newest first, stopping once every ``wanted`` id was seen;
        when ``wanted`` is longer than a page, one unpaged request is cheaper than many pages (a monitor
        sweep asks at most once a minute, so this is not the tight loop the operators warn about)."""
        if wanted is not None and len(wanted) > PAGE_SIZE:
            data = await self.request_json("GET", f"{API}/jobs", what="job list")
            return [read_job(self.config.url, item) for item in data.get("data") or []]
        jobs: list[base.RemoteJob] = []
        page: int | None = 1
        missing = set(wanted or ())
        while page:
            data = await self.request_json("GET", f"{API}/jobs", params={"page": page}, what="job list")
            items = [read_job(self.config.url, item) for item in data.get("data") or []]
            jobs.extend(items)
            missing -= {j.remote_id for j in items}
            if wanted is not None and not missing:
                break
            page = data.get("next") if isinstance(data.get("next"), int) and data.get("next") != page else None
        return jobs

    async def cancel(self, remote_id: str) -> base.RemoteJob:
        data = await self.request_json("GET", f"{API}/jobs/{remote_id}/cancel", what=f"cancel of {remote_id}")
        return read_job(self.config.url, data)

    async def restart(self, remote_id: str) -> str:
        """Re-queue a DEAD (-1) job; the server refuses any other state."""
        data = await self.request_json("GET", f"{API}/jobs/{remote_id}/restart", what=f"restart of {remote_id}")
        return str(data.get("message") or "restarted")


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


def form_fields(schema: AppSchema, options: base.SubmitOptions, *, job_name: str) -> list[tuple[str, str]]:
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
