"""The DNAstack Workbench adapter ("ewes", DNAstack's extended WES).

Workbench is not plain WES, and every difference shapes this module:

* Endpoints are found through a GA4GH service registry (``/services``, then
  ``/service-registry/services``, then ``/api/service-registry/services``) and picked by
  ``type`` (``com.dnastack.workbench:ewes-service`` and friends), once per adapter.
* Runs live under a namespace (``{ewes}/{ns}/ga4gh/wes/v1/...``), are submitted as JSON
  through ``/batch`` with an ``engine_id``, and name a workflow of Workbench's own
  registry as ``"<workflow id>/<version id>"``; each of the three is a setting or is
  looked up (user's default namespace, default engine, workflow by name).
* Runs execute in the cloud and cannot read local files: inputs are referenced as
  ``<input_prefix>/<file name>`` and the user copies them there first.  Outputs that are
  http(s) links are downloadable; cloud-storage outputs (``gs://`` ...) are reported in a
  message for the cloud's own tools.
* Auth is an OAuth2 bearer token (see :mod:`fedimpute.services.dnastack_auth`), sent
  only to the Workbench hosts, never to third-party download links.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urljoin, urlsplit

import httpx
from pydantic import SecretStr

from fedimpute._http import check_response, json_body, transport_errors
from fedimpute.downloads import safe_join, stream_to_file
from fedimpute.exceptions import (
    RemoteRejectedError,
    ServiceError,
    TransientServiceError,
    UsageError,
)
from fedimpute.models import (
    HealthRecord,
    HealthStatus,
    JobStatus,
    MessageLevel,
    ReferencePanel,
    ServiceConfig,
)
from fedimpute.redaction import redact
from fedimpute.services.base import (
    DownloadedFile,
    ImputationService,
    ProgressCallback,
    RemoteFile,
    RemoteJob,
    RemoteMessage,
    RemoteStep,
    SubmitOptions,
    TokenInfo,
)
from fedimpute.services.dnastack_auth import OAuthConfig, merge_resources, oauth_configs
from fedimpute.services.tokens import jwt_claims, jwt_expiry, token_check_failed

__all__ = ["STATES", "DnastackService", "Endpoints", "map_state", "output_files", "parse_run", "run_params"]

REGISTRY_PATHS = ("/services", "/service-registry/services", "/api/service-registry/services")
GROUP = "com.dnastack.workbench"
EWES, WORKFLOWS, USERS = "ewes-service", "workflow-service", "workbench-user-service"
WES = "/ga4gh/wes/v1"
JOB_TAG = "fedimpute_job"
KEY_TAG = "fedimpute_key"
PAGE_SIZE = 100
MAX_PAGES = 1000

#: Workbench run state -> JobStatus.  Anything not listed is treated as still running.
STATES: dict[str, JobStatus] = {
    "QUEUED": JobStatus.QUEUED, "INITIALIZING": JobStatus.QUEUED, "PREPROCESSING": JobStatus.QUEUED,
    "RUNNING": JobStatus.RUNNING, "PAUSED": JobStatus.RUNNING, "CANCELING": JobStatus.RUNNING,
    "COMPLETE": JobStatus.COMPLETED,
    "COMPLETE_WITH_ERRORS": JobStatus.FAILED, "EXECUTOR_ERROR": JobStatus.FAILED,
    "SYSTEM_ERROR": JobStatus.FAILED, "PREPROCESSING_ERROR": JobStatus.FAILED,
    "NOT_PROCESSED": JobStatus.FAILED, "PREEMPTED": JobStatus.FAILED,
    "CANCELED": JobStatus.CANCELLED,
}  # fmt: skip


def map_state(state: str | None) -> JobStatus:
    """Workbench state -> JobStatus; unknown (new, or ``UNKNOWN``) states are never terminal."""
    return STATES.get(str(state or "").upper(), JobStatus.RUNNING)


@dataclass(frozen=True)
class Endpoints:
    """What the service registry said: its URL, its raw entries, the three service URLs."""

    registry: str
    services: tuple[dict[str, Any], ...]
    ewes: str
    workflows: str | None
    users: str | None

    def entries(self, *artifacts: str) -> list[dict[str, Any]]:
        return [s for s in self.services if _artifact(s) in artifacts]


class DnastackService(ImputationService):
    """One Workbench; ``config.url`` is its base URL (e.g. https://workbench.omics.ai)."""

    protocol: ClassVar[str] = "dnastack"
    can_cancel: ClassVar[bool] = True
    can_restart: ClassVar[bool] = False
    discovers_panels: ClassVar[bool] = False
    lists_jobs: ClassVar[bool] = True
    verifies_token: ClassVar[bool] = True
    needs_token: ClassVar[bool] = True  # every ewes call takes an OAuth2 bearer token

    def __init__(self, config: ServiceConfig, client: httpx.AsyncClient, token: SecretStr | None) -> None:
        super().__init__(config, client, token)
        self.settings = dict(config.settings)
        self._endpoints: Endpoints | None = None
        self._namespace: str | None = self.settings.get("namespace") or None
        self._engine: str | None = self.settings.get("engine_id") or None
        self._workflow: str | None = self.settings.get("workflow_url") or None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token.get_secret_value()}"} if self.token else {}

    async def _request(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        with transport_errors(self.name, what=what):
            response = await self.client.request(method, url, headers=self._headers(), **kwargs)
        return check_response(self.name, response, what=what)

    async def _json(self, method: str, url: str, *, what: str, **kwargs: Any) -> Any:
        return json_body(self.name, await self._request(method, url, what=what, **kwargs), what=what)

    # -- discovery ---------------------------------------------------------------------------

    async def endpoints(self) -> Endpoints:
        """The registry's services, looked up once per adapter."""
        if self._endpoints is None:
            registry, services = await self._registry()
            found = {a: _service_url(registry, services, a) for a in (EWES, WORKFLOWS, USERS)}
            self._endpoints = Endpoints(registry, tuple(services), found[EWES] or "", found[WORKFLOWS],
                                        found[USERS])
        return self._endpoints

    async def _registry(self) -> tuple[str, list[dict[str, Any]]]:
        """The first of the three registry paths whose listing has an ewes service; a 404 or a
        body that is not a listing (a web page) means "try the next path"."""
        transient: TransientServiceError | None = None
        listed: str | None = None
        for path in REGISTRY_PATHS:
            url = f"{self.config.url}{path}"
            with transport_errors(self.name, what="service discovery"):
                response = await self.client.get(url, headers=self._headers())
            if response.status_code in (401, 403):
                check_response(self.name, response, what="service discovery")
            try:
                services = _registry_entries(json_body(self.name, check_response(self.name, response)))
            except ServiceError as exc:  # a 5xx is kept to report if no path answers
                if isinstance(exc, TransientServiceError) and response.status_code >= 500:
                    transient = transient or exc
                continue
            if services is not None and _service_url(url, services, EWES):
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

    async def namespace(self) -> str:
        """The ``namespace`` setting, else the user's default namespace, else the token's subject."""
        if self._namespace is None:
            users = (await self.endpoints()).users
            if users:
                me = await self._json("GET", f"{users}/users/me", what="user profile")
                found = me.get("default_namespace") if isinstance(me, dict) else None
                self._namespace = str(found) if found else None
            if self._namespace is None:
                self._namespace = str(jwt_claims(self.token).get("sub") or "") or None
            if self._namespace is None:
                raise UsageError(_set_hint(self.name, "namespace", "<namespace id>",
                                           "the Workbench did not say which namespace to use"))
        return self._namespace

    async def _wes(self, path: str = "") -> str:
        return f"{(await self.endpoints()).ewes}/{quote(await self.namespace(), safe='')}{WES}{path}"

    async def engine_id(self) -> str:
        """The ``engine_id`` setting, else the engine Workbench marks ``default``."""
        if self._engine is None:
            ewes, ns = (await self.endpoints()).ewes, quote(await self.namespace(), safe="")
            data = await self._json("GET", f"{ewes}/{ns}/engines", what="engine list")
            engines = [e for e in data.get("engines") or [] if isinstance(e, dict) and e.get("id")]
            chosen = [e for e in engines if e.get("default")] or (engines if len(engines) == 1 else [])
            if not chosen:
                ids = ", ".join(str(e["id"]) for e in engines) or "none visible"
                raise UsageError(_set_hint(self.name, "engine_id", "<engine id>",
                                           f"no default engine in namespace {ns} (engines: {ids})"))
            self._engine = str(chosen[0]["id"])
        return self._engine

    async def workflow_url(self) -> str:
        """The ``workflow_url`` setting, else the latest version of ``workflow_name``."""
        if self._workflow is None:
            name = self.settings.get("workflow_name")
            if not name:
                raise UsageError(
                    f"{self.name}: no workflow chosen; set the workflow_name setting to the imputation "
                    "workflow's name in the Workbench registry, or workflow_url to "
                    f"'<workflow id>/<version id>' (`fedimpute services add {self.name} --protocol dnastack "
                    "--url URL --set workflow_name=NAME --replace`)")
            self._workflow = await self._find_workflow(name)
        return self._workflow

    async def _find_workflow(self, name: str) -> str:
        base = (await self.endpoints()).workflows
        if not base:
            raise UsageError(_set_hint(self.name, "workflow_url", "<workflow id>/<version id>",
                                       "the service registry lists no workflow service to look names up in"))
        root = f"{base}/{quote(await self.namespace(), safe='')}/workflows"
        data = await self._json("GET", root, params={"search": name}, what=f"workflow search for {name!r}")
        found = [w for w in data.get("workflows") or [] if isinstance(w, dict) and not w.get("deleted")
                 and str(w.get("name", "")).casefold() == name.casefold()]
        if len(found) != 1:
            problem = "no workflow" if not found else f"{len(found)} workflows"
            raise UsageError(_set_hint(self.name, "workflow_url", "<workflow id>/<version id>",
                                       f"{problem} named {name!r} in the Workbench workflow registry"))
        workflow_id = str(found[0].get("internalId") or found[0].get("id"))
        version = found[0].get("latestVersion") or await self._latest_version(root, workflow_id)
        return f"{workflow_id}/{version}"

    async def _latest_version(self, root: str, workflow_id: str) -> str:
        data = await self._json("GET", f"{root}/{quote(workflow_id, safe='')}/versions",
                                what=f"versions of workflow {workflow_id}")
        versions = [v for v in data.get("versions") or [] if isinstance(v, dict) and v.get("id")
                    and not v.get("deleted")]
        if not versions:
            raise UsageError(_set_hint(self.name, "workflow_url", "<workflow id>/<version id>",
                                       f"workflow {workflow_id} has no usable version"))
        newest = max(enumerate(versions), key=lambda iv: (str(iv[1].get("createdAt") or ""), iv[0]))[1]
        return str(newest["id"])

    async def oauth_configs(self) -> list[OAuthConfig]:
        """Every OAuth2 config the registry lists, ewes service first."""
        endpoints = await self.endpoints()
        ordered = [*endpoints.entries(EWES), *endpoints.entries(WORKFLOWS, USERS), *endpoints.services]
        return oauth_configs(ordered)  # de-duplicated, so the ewes configs come first

    async def login_config(self) -> OAuthConfig | None:
        """One config for a token that covers the ewes, workflow and user services."""
        endpoints = await self.endpoints()
        ours = [*endpoints.entries(EWES), *endpoints.entries(WORKFLOWS, USERS)]
        return merge_resources(oauth_configs(ours))

    # -- service, token, panels --------------------------------------------------------------

    async def health(self) -> HealthRecord:
        """Up when the registry lists an ewes service and its service-info answers (a refused
        token still means the service is up)."""
        start = time.perf_counter()
        try:
            endpoints = await self.endpoints()
            if self.token is None and "namespace" not in self.settings:
                return self._health(start, HealthStatus.UP, f"registry lists ewes at {endpoints.ewes}; "
                                    f"log in (`fedimpute login {self.name}`) to check the run service")
            info = await self._json("GET", await self._wes("/service-info"), what="ewes service info")
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

    async def verify_token(self) -> TokenInfo:
        """One authenticated call: the user service's ``/users/me`` (who the token belongs to), else the
        ewes service-info.  A 401/403, from it or from discovery, is a refusal naming the status code; a
        Workbench that cannot be asked leaves the token unknown, with the reason."""
        if self.token is None:
            return TokenInfo(valid=False, message=f"no token; run `fedimpute login {self.name}`")
        try:
            endpoints = await self.endpoints()
            url = f"{endpoints.users}/users/me" if endpoints.users else await self._wes("/service-info")
            me = await self._json("GET", url, what="token check")
        except ServiceError as exc:
            return token_check_failed(exc)
        except UsageError as exc:  # no namespace to build the service-info URL from
            return TokenInfo(valid=None, message=f"could not check the token: {exc}")
        user = (me.get("email") or me.get("full_name")) if endpoints.users and isinstance(me, dict) else None
        return TokenInfo(valid=True, user=user, expires_at=jwt_expiry(self.token))

    async def discover_panels(self) -> list[ReferencePanel]:
        """Workbench has no panel catalogue: the panel is passed to the workflow as given."""
        return []

    # -- runs --------------------------------------------------------------------------------

    async def submit(self, files: list[Path], options: SubmitOptions, *, job_name: str,
                     submission_key: str | None = None,
                     progress: ProgressCallback | None = None) -> str:
        """One run through ``/batch``; nothing is uploaded (inputs are already in the cloud)."""
        params = run_params(self.name, files, options, self.settings)
        defaults = _extra_params(self.name, self.settings)
        workflow, engine = await self.workflow_url(), await self.engine_id()
        body = {
            "workflow_url": workflow, "workflow_type": "WDL",
            "workflow_type_version": self.settings.get("workflow_type_version") or "1.0",
            "engine_id": engine, "default_workflow_params": defaults,
            "run_requests": [{"workflow_params": params,
                              "tags": {JOB_TAG: job_name, **({KEY_TAG: submission_key} if submission_key else {})}}],
        }
        data = await self._json("POST", await self._wes("/batch"), json=body, what="submission")
        runs = data.get("runs") if isinstance(data, dict) else None
        first = runs[0] if isinstance(runs, list) and runs and isinstance(runs[0], dict) else {}
        if not first.get("run_id") or first.get("error_code"):
            raise RemoteRejectedError(self.name, f"submission refused: {first.get('msg') or data}")
        return str(first["run_id"])

    async def get_job(self, remote_id: str, *, previous: JobStatus | None = None) -> RemoteJob:
        url = await self._wes(f"/runs/{quote(remote_id, safe='')}")
        return parse_run(await self._json("GET", url, what=f"run {remote_id}"))

    async def list_jobs(self, *, wanted: set[str] | None = None) -> list[RemoteJob]:
        """Every run of the namespace, following ``pagination.next_page_url`` (or ``next_page_token``)."""
        base = await self._wes("/runs")
        url: str | None = base
        params: dict[str, Any] | None = {"page_size": PAGE_SIZE}
        jobs, seen = [], set()
        while url and len(seen) < MAX_PAGES:
            response = await self._request("GET", url, params=params, what="run list")
            seen.add(str(response.url))
            data = json_body(self.name, response, what="run list")
            runs = [r for r in data.get("runs") or [] if isinstance(r, dict) and r.get("run_id")]
            jobs.extend(parse_run(r) for r in runs)
            url, params = _next_page(base, str(response.url), data)
            if url and str(httpx.URL(url, params=params) if params else url) in seen:
                break  # the service pointed back at a page already read
        return jobs

    async def cancel(self, remote_id: str) -> RemoteJob:
        """Ask for the cancel, then report the run as it is now (usually CANCELING)."""
        await self._request("POST", await self._wes(f"/runs/{quote(remote_id, safe='')}/cancel"),
                            what=f"cancel of {remote_id}")
        return await self.get_job(remote_id)

    async def download(self, remote: RemoteFile, dest: Path, *,
                       progress: ProgressCallback | None = None) -> DownloadedFile:
        """One GET of an http(s) output; the bearer token goes only to Workbench's own hosts."""
        if not remote.url.lower().startswith(("http://", "https://")):
            raise UsageError(_not_downloadable(remote.name, remote.url))
        headers = self._headers() if self._is_workbench_host(remote.url) else None
        return await stream_to_file(self.name, self.client, remote.url, safe_join(dest, remote.name),
                                    progress=progress, headers=headers)

    def _is_workbench_host(self, url: str) -> bool:
        origins = {_origin(self.config.url)}
        if self._endpoints is not None:
            origins |= {_origin(s.get("url") or "") for s in self._endpoints.services}
        return _origin(url) in origins


# -- submission parameters ---------------------------------------------------------------------

def run_params(service: str, files: list[Path], options: SubmitOptions,
               settings: dict[str, str]) -> dict[str, Any]:
    """The workflow inputs for one run: ``<params_prefix><option>`` for every option that is set
    and ``<params_prefix>vcfs`` listing ``<input_prefix>/<file name>`` for each input file."""
    prefix = settings.get("input_prefix", "").strip().rstrip("/")
    if not prefix:
        raise UsageError(
            f"{service}: DNAstack Workbench runs in the cloud and cannot read local files; copy the VCFs to "
            "cloud storage (e.g. `gsutil cp *.vcf.gz gs://BUCKET/cohort/`) and set the input_prefix setting "
            f"to that folder (`fedimpute services add {service} --protocol dnastack --url URL "
            "--set input_prefix=gs://BUCKET/cohort --replace`)")
    if options.aes:
        raise UsageError(f"{service}: DNAstack Workbench does not encrypt results with a password; "
                         "drop --aes")
    key = settings.get("params_prefix", "impute.")
    params: dict[str, Any] = {f"{key}panel": options.panel}
    for name in ("build", "population", "phasing", "r2_filter", "mode"):
        value = getattr(options, name)
        if value is not None and value != "":
            params[f"{key}{name}"] = value
    if options.meta:
        params[f"{key}meta"] = True
    params[f"{key}vcfs"] = [f"{prefix}/{Path(f).name}" for f in files]
    return params


def _extra_params(service: str, settings: dict[str, str]) -> dict[str, Any]:
    raw = settings.get("extra_params", "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{service}: the extra_params setting is not valid JSON ({exc.msg}); set it to a "
                         "JSON object such as {\"impute.ref_dir\": \"gs://BUCKET/refs\"}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{service}: the extra_params setting must be a JSON object of workflow inputs")
    return value


# -- reading runs --------------------------------------------------------------------------------

def parse_run(data: dict[str, Any]) -> RemoteJob:
    """An ExtendedRun (run detail) or an ExtendedRunStatus (list item) as a RemoteJob."""
    state = str(data.get("state") or "UNKNOWN").upper()
    status = map_state(state)
    request = data.get("request") if isinstance(data.get("request"), dict) else {}
    tags = data.get("tags") or request.get("tags") or {}
    run_log = data.get("run_log") if isinstance(data.get("run_log"), dict) else {}
    events = [e for e in data.get("events") or [] if isinstance(e, dict)]
    files, elsewhere = output_files(data.get("outputs") if isinstance(data.get("outputs"), dict) else {})
    steps = [s for s in (_events_step(events), *_task_steps(data.get("task_logs") or []),
                         _elsewhere_step(elsewhere)) if s is not None]
    submitted = next((e.get("created_at") for e in events if e.get("event_type") == "RUN_SUBMITTED"), None)
    return RemoteJob(
        remote_id=str(data["run_id"]),
        name=str(tags[JOB_TAG]) if isinstance(tags, dict) and tags.get(JOB_TAG) else None,
        submission_key=str(tags[KEY_TAG]) if isinstance(tags, dict) and tags.get(KEY_TAG) else None,
        status=status, remote_state=state, submitted_at=_time(submitted),
        started_at=_time(run_log.get("start_time") or data.get("start_time")),
        finished_at=_time(run_log.get("end_time") or data.get("end_time")),
        steps=steps, outputs=files,
        error=_error_text(state, data, events, run_log) if status is JobStatus.FAILED else None)


def output_files(outputs: dict[str, Any]) -> tuple[list[RemoteFile], list[tuple[str, str]]]:
    """http(s) links among the output values (nested lists and objects too) as RemoteFiles, and
    ``(output name, URL)`` for the other URLs (gs://, s3://, drs://...), which fedimpute cannot fetch."""
    files: list[RemoteFile] = []
    elsewhere: list[tuple[str, str]] = []
    names: set[str] = set()
    for key, url in _urls(outputs):
        if not url.lower().startswith(("http://", "https://")):
            elsewhere.append((key, url))
            continue
        name = _file_name(key, url, names)
        names.add(name)
        files.append(RemoteFile(name=name, url=url))
    return files, elsewhere


def _urls(value: Any, key: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(key, value)] if "://" in value else []
    if isinstance(value, dict):
        return [u for k, v in value.items() for u in _urls(v, f"{key}.{k}" if key else str(k))]
    if isinstance(value, list):
        return [u for item in value for u in _urls(item, key)]
    return []


def _file_name(key: str, url: str, taken: set[str]) -> str:
    """The URL's last path segment; clashing names go into a folder named after the output."""
    base = PurePosixPath(unquote(urlsplit(url).path)).name or key.rsplit(".", 1)[-1] or "output"
    name = base
    if name in taken:
        name = f"{key.rsplit('.', 1)[-1] or 'output'}/{base}"
    counter = 2
    while name in taken:
        name, counter = f"{key.rsplit('.', 1)[-1] or 'output'}-{counter}/{base}", counter + 1
    return name


def _events_step(events: list[dict[str, Any]]) -> RemoteStep | None:
    messages = [m for m in (_event_message(e) for e in events) if m is not None]
    return RemoteStep(name="Workbench events", messages=messages) if messages else None


def _event_message(event: dict[str, Any]) -> RemoteMessage | None:
    kind = str(event.get("event_type") or "")
    meta = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
    note = str(meta.get("message") or "").strip()
    level = MessageLevel.INFO
    if kind == "STATE_TRANSITION":
        text = f"state {meta.get('old_state') or '?'} -> {meta.get('new_state') or '?'}"
        if map_state(meta.get("new_state")) is JobStatus.FAILED or meta.get("errors"):
            level = MessageLevel.ERROR
        text += "".join(f"; {e}" for e in meta.get("errors") or [])
    elif kind == "ERROR_OCCURRED":
        text = "error: " + ("; ".join(str(e) for e in meta.get("errors") or []) or note)
        level = MessageLevel.ERROR
    elif kind == "RUN_SUBMITTED":
        text = f"submitted by {meta['submitted_by']}" if meta.get("submitted_by") else "submitted"
    elif kind == "RUN_SUBMITTED_TO_ENGINE":
        text = f"sent to the engine as {meta.get('external_id') or '?'}"
    elif kind == "PREPROCESSING":
        text = f"preprocessing: {meta.get('outcome') or 'started'}"
        level = MessageLevel.ERROR if str(meta.get("outcome")).upper() == "FAILURE" else level
    else:
        text = kind.replace("_", " ").lower() or "event"
    if note and note not in text:
        text = f"{text} ({note})"
    return RemoteMessage(time=_time(event.get("created_at")), level=level, text=redact(text))


def _task_steps(task_logs: list[Any]) -> list[RemoteStep]:
    steps = []
    for task in task_logs:
        if not isinstance(task, dict):
            continue
        code = task.get("exit_code")
        text = f"{task.get('state') or 'state unknown'}" + (f"; exit code {code}" if code is not None else "")
        level = MessageLevel.ERROR if isinstance(code, int) and code != 0 else (
            MessageLevel.RUNNING if map_state(task.get("state")) is JobStatus.RUNNING else MessageLevel.INFO)
        messages = [RemoteMessage(time=_time(task.get("start_time")), level=level, text=text)]
        tail = _inline_tail(task.get("stderr")) if level is MessageLevel.ERROR else ""
        if tail:
            messages.append(RemoteMessage(level=MessageLevel.ERROR, text=redact(tail)))
        name = task.get("pretty_name") or task.get("name") or task.get("task_id") or f"task {len(steps) + 1}"
        steps.append(RemoteStep(name=str(name), messages=messages))
    return steps


def _elsewhere_step(elsewhere: list[tuple[str, str]]) -> RemoteStep | None:
    if not elsewhere:
        return None
    messages = [RemoteMessage(level=MessageLevel.WARNING, text=f"{key or 'output'}: {url} (in cloud storage; "
                              "copy it with the cloud's own tools, e.g. `gsutil cp` or `aws s3 cp`)")
                for key, url in elsewhere]
    return RemoteStep(name="outputs in cloud storage", messages=messages)


def _error_text(state: str, data: dict[str, Any], events: list[dict[str, Any]],
                run_log: dict[str, Any]) -> str:
    """The run's ``errors[]``, errors carried by events, and the tail of an inline stderr."""
    found: list[str] = []
    for error in data.get("errors") or []:
        found.append(str(error.get("msg") or error) if isinstance(error, dict) else str(error))
    for event in events:
        meta = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
        found.extend(str(e) for e in meta.get("errors") or [])
    if tail := _inline_tail(run_log.get("stderr")):
        found.append(tail)
    unique = list(dict.fromkeys(f.strip() for f in found if f and f.strip()))
    return redact("\n".join(unique)) if unique else f"the run ended in state {state}"


def _inline_tail(stderr: Any, lines: int = 10) -> str:
    """The last lines of stderr when the service put the text inline (not a URL to fetch)."""
    if not isinstance(stderr, str) or not stderr.strip():
        return ""
    text = stderr.strip()
    one_word = "\n" not in text and " " not in text
    if one_word and (text.startswith(("/", "..", "http:", "https:")) or "://" in text):
        return ""
    return "\n".join(text.splitlines()[-lines:])[-2000:]


# -- small helpers -------------------------------------------------------------------------------

def _registry_entries(body: Any) -> list[dict[str, Any]] | None:
    """A registry listing (a JSON array, or ``{"services": [...]}``); None for anything else."""
    if isinstance(body, dict):
        body = body.get("services")
    if not isinstance(body, list):
        return None
    return [s for s in body if isinstance(s, dict)]


def _artifact(service: dict[str, Any]) -> str | None:
    """``type.artifact`` of a Workbench service (``group:artifact:version`` strings accepted too)."""
    kind = service.get("type")
    if isinstance(kind, str):
        parts = kind.split(":")
        kind = {"group": parts[0], "artifact": parts[1] if len(parts) > 1 else None}
    if isinstance(kind, dict) and kind.get("group") == GROUP:
        return kind.get("artifact")
    return None


def _service_url(registry: str, services: list[dict[str, Any]], artifact: str) -> str | None:
    for service in services:
        if _artifact(service) == artifact and service.get("url"):
            return urljoin(registry, str(service["url"])).rstrip("/")
    return None


def _next_page(base: str, current: str, data: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The next page: ``pagination.next_page_url`` (resolved against the current page's URL),
    else ``next_page_token`` sent to the list URL; ``(None, None)`` at the end."""
    pagination = data.get("pagination") if isinstance(data.get("pagination"), dict) else {}
    if pagination.get("next_page_url"):
        return urljoin(current, str(pagination["next_page_url"])), None
    if data.get("next_page_token"):
        return base, {"page_size": PAGE_SIZE, "page_token": str(data["next_page_token"])}
    return None, None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _set_hint(service: str, key: str, value: str, problem: str) -> str:
    return (f"{service}: {problem}; set the {key} setting (`fedimpute services add {service} "
            f"--protocol dnastack --url URL --set {key}={value} --replace`)")


def _not_downloadable(name: str, url: str) -> str:
    return (f"{name} is stored at {url}, which fedimpute cannot download (only http(s) links are); copy it "
            "with the cloud's own tools, e.g. `gsutil cp URL .`, `aws s3 cp URL .` or `azcopy copy URL .`")
