"""The GA4GH WES 1.0/1.1 adapter (sapporo, Toil, wes-service, any compliant server).

Which workflow a WES service runs is service configuration (``--set`` keys):

``workflow``               ``impute`` (the CWL workflow shipped with fedimpute, attached to each run),
                           a path to a local workflow file (it and the files beside it are attached), or
                           an http(s) URL the server fetches itself
``workflow_type``          default ``CWL``;  ``workflow_type_version`` default ``v1.2``
``engine``                 default: the first engine the server's service-info lists
``panels``                 path of a JSON list of ``{panel_id, name, build, populations, params}`` (WES
                           has no panel discovery), or ``local`` for the local engine's registry

Inputs are attached as ``inputs/<file name>``; the workflow receives ``vcfs`` (File[]),
``panel``, and ``build``/``population``/``phasing``/``r2_filter``/``mode`` when given,
plus the chosen panel's ``params``.  A ``tags`` entry carries fedimpute's job id.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from fedimpute._http import check_response, json_body, transport_errors
from fedimpute._multipart import MultipartBody
from fedimpute.downloads import safe_join, stream_to_file
from fedimpute.exceptions import (
    NotAvailableError,
    RemoteNotFoundError,
    RemoteRejectedError,
    ServiceError,
    UsageError,
)
from fedimpute.models import HealthRecord, HealthStatus, JobStatus, Population, ReferencePanel
from fedimpute.services.base import (
    DownloadedFile,
    ImputationService,
    ProgressCallback,
    RemoteFile,
    RemoteJob,
    SubmitOptions,
    TokenInfo,
)
from fedimpute.services.tokens import jwt_expiry, jwt_user, token_check_failed
from fedimpute.services.wes_parse import log_text_or_url, parse_run, run_list

__all__ = ["WesService", "load_panels", "workflow_attachments"]

_SKIP = {"__pycache__", ".git"}


def load_panels(service: str, setting: str | None) -> list[ReferencePanel]:
    """The panels a WES service entry lists (``panels`` setting)."""
    if not setting:
        return []
    if setting == "local":
        try:
            from fedimpute.engine.panels import registry_panels
        except ImportError:
            raise NotAvailableError("the local engine's panel registry (panels=local)") from None
        return registry_panels(service)
    path = Path(setting).expanduser()
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read the panels file {path} of service {service} ({exc}); fix it or "
                         "re-add the service with --set panels=FILE") from exc
    panels = []
    for e in entries:
        pops = [Population(id=p, label=p) if isinstance(p, str) else Population(**p)
                for p in e.get("populations", [])]
        panels.append(ReferencePanel(service=service, panel_id=e["panel_id"], name=e.get("name", e["panel_id"]),
                                     build=e.get("build"), populations=pops, samples=e.get("samples"),
                                     variants=e.get("variants")))
    return panels


def _panel_params(setting: str | None, panel_id: str) -> dict[str, Any]:
    if not setting:
        return {}
    if setting == "local":
        from fedimpute.engine.panels import panel_workflow_params

        return panel_workflow_params(panel_id)
    for e in json.loads(Path(setting).expanduser().read_text(encoding="utf-8")):
        if e["panel_id"] == panel_id:
            return dict(e.get("params") or {})
    return {}


def workflow_attachments(workflow: str) -> tuple[str, list[tuple[str, Path]]]:
    """``(workflow_url, [(attachment name, path)])`` for the ``workflow`` setting."""
    if workflow.startswith(("http://", "https://")):
        return workflow, []
    if workflow == "impute":
        try:
            from fedimpute.engine.workflow import workflow_path
        except ImportError:
            raise NotAvailableError("the imputation workflow shipped with fedimpute (workflow=impute)") from None
        main = workflow_path()
    else:
        main = Path(workflow).expanduser()
    if not main.is_file():
        raise UsageError(f"the workflow file {main} does not exist; fix the service's `workflow` setting")
    root = main.parent
    files = [(p.relative_to(root).as_posix(), p) for p in sorted(root.rglob("*"))
             if p.is_file() and not (set(p.relative_to(root).parts) & _SKIP) and not p.name.startswith(".")]
    return main.relative_to(root).as_posix(), files


class WesService(ImputationService):
    """A GA4GH WES endpoint; ``config.url`` is the full base (with or without ``/ga4gh/wes/v1``)."""

    protocol: ClassVar[str] = "wes"
    can_cancel: ClassVar[bool] = True
    lists_jobs: ClassVar[bool] = True
    verifies_token: ClassVar[bool] = True

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token.get_secret_value()}"} if self.token else {}

    async def _request(self, method: str, path: str, *, what: str, **kwargs: Any) -> httpx.Response:
        with transport_errors(self.name, what=what):
            response = await self.client.request(method, f"{self.config.url}{path}", headers=self._headers(),
                                                 **kwargs)
        return check_response(self.name, response, what=what)

    async def _json(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        return json_body(self.name, await self._request(method, path, what=what, **kwargs), what=what)

    async def service_info(self) -> dict[str, Any]:
        return await self._json("GET", "/service-info", what="service-info")

    async def health(self) -> HealthRecord:
        """Up when service-info answers.  sapporo checks a bearer token sent even there, so a 401/403
        still means the service is up (the token check says the rest), as for the other protocols."""
        start = time.perf_counter()
        try:
            info = await self.service_info()
        except ServiceError as exc:
            status = HealthStatus.MAINTENANCE if exc.status_code == 503 else (
                HealthStatus.UP if exc.status_code in (401, 403) else HealthStatus.DOWN)
            detail = (f"WES answers, but refused the token (HTTP {exc.status_code})" if status is HealthStatus.UP
                      else exc.detail)
            return HealthRecord(service=self.name, status=status, detail=detail,
                                latency_ms=(time.perf_counter() - start) * 1000)
        engines = ", ".join((info.get("workflow_engine_versions") or {}).keys()) or "no engine listed"
        types = ", ".join((info.get("workflow_type_versions") or {}).keys()) or "no type listed"
        return HealthRecord(service=self.name, status=HealthStatus.UP, detail=f"WES; {types}; engines: {engines}",
                            latency_ms=(time.perf_counter() - start) * 1000)

    async def verify_token(self) -> TokenInfo:
        """One authenticated call, ``GET /runs?page_size=1``: WES has no token endpoint, and the run list
        is the cheapest request a server guards with the same bearer check as a submission.  A 401/403
        is a refusal; an unreachable server leaves the token unknown (see :mod:`~fedimpute.services.tokens`)."""
        if self.token is None:
            return TokenInfo(valid=False, message=f"no token; run `fedimpute login {self.name}`")
        try:
            await self._request("GET", "/runs", params={"page_size": 1}, what="token check")
        except ServiceError as exc:
            return token_check_failed(exc)
        return TokenInfo(valid=True, user=jwt_user(self.token), expires_at=jwt_expiry(self.token))

    async def discover_panels(self) -> list[ReferencePanel]:
        return load_panels(self.name, self.config.settings.get("panels"))

    async def _engine(self) -> str | None:
        if self.config.settings.get("engine"):
            return self.config.settings["engine"]
        engines = list((await self.service_info()).get("workflow_engine_versions") or {})
        return engines[0] if engines else None

    def _params(self, files: list[Path], options: SubmitOptions) -> dict[str, Any]:
        panels = load_panels(self.name, self.config.settings.get("panels"))
        if panels and options.panel not in {p.panel_id for p in panels}:
            ids = ", ".join(p.panel_id for p in panels)
            raise UsageError(f"unknown panel {options.panel!r} for {self.name}; choose one of {ids}")
        params: dict[str, Any] = {"vcfs": [{"class": "File", "location": f"inputs/{f.name}"} for f in files],
                                  "panel": options.panel}
        for key in ("build", "population", "phasing", "r2_filter", "mode"):
            if getattr(options, key) is not None:
                params[key] = getattr(options, key)
        params.update(_panel_params(self.config.settings.get("panels"), options.panel))
        return params

    async def submit(self, files: list[Path], options: SubmitOptions, *, job_name: str,
                     submission_key: str | None = None,
                     progress: ProgressCallback | None = None) -> str:
        workflow = self.config.settings.get("workflow")
        if not workflow:
            raise UsageError(f"service {self.name} names no workflow; re-add it with --set workflow=impute "
                             "(or a workflow file or URL)")
        workflow_url, attachments = workflow_attachments(workflow)
        tags = {"fedimpute_job": job_name, **({"fedimpute_key": submission_key} if submission_key else {})}
        body = MultipartBody()
        body.add_field("workflow_params", json.dumps(self._params(files, options)))
        body.add_field("workflow_type", self.config.settings.get("workflow_type", "CWL"))
        body.add_field("workflow_type_version", self.config.settings.get("workflow_type_version", "v1.2"))
        if engine := await self._engine():
            body.add_field("workflow_engine", engine)
        body.add_field("tags", json.dumps(tags))
        body.add_field("workflow_url", workflow_url)
        for name, path in attachments:
            body.add_file("workflow_attachment", path, filename=name)
        for f in files:
            body.add_file("workflow_attachment", f, filename=f"inputs/{f.name}")
        with transport_errors(self.name, what="upload"):
            response = await self.client.post(f"{self.config.url}/runs", content=body.stream(progress),
                                              headers={**self._headers(), **body.headers()})
        data = json_body(self.name, check_response(self.name, response, what="submission"), what="submission")
        if not isinstance(data, dict) or not data.get("run_id"):
            raise RemoteRejectedError(self.name, f"submission answered without a run id: {data}")
        return str(data["run_id"])

    async def _not_found_aware(self, method: str, path: str, remote_id: str, what: str) -> Any:
        """sapporo answers 400 'Invalid run_id format' for ids it cannot parse: that is "not found" too."""
        try:
            return await self._json(method, path, what=what)
        except RemoteRejectedError as exc:
            if "run_id" in exc.detail or "run id" in exc.detail.lower():
                reason = exc.detail.split(" rejected: ", 1)[-1]
                raise RemoteNotFoundError(self.name, f"{what} not found: {reason}", status_code=404) from exc
            raise

    async def get_job(self, remote_id: str, *, previous: JobStatus | None = None) -> RemoteJob:
        body = await self._not_found_aware("GET", f"/runs/{_q(remote_id)}", remote_id, f"run {remote_id}")
        stderr_text = None
        _, url = log_text_or_url((body.get("run_log") or {}).get("stderr"), f"{self.config.url}/runs/{_q(remote_id)}")
        if url and str(body.get("state", "")).upper() in ("EXECUTOR_ERROR", "SYSTEM_ERROR"):
            stderr_text = await self._log_text(url)
        return parse_run(body, stderr_text=stderr_text)

    async def _log_text(self, url: str) -> str | None:
        try:
            with transport_errors(self.name, what="run log"):
                response = await self.client.get(url, headers=self._headers())
            return check_response(self.name, response, what="run log").text[-20000:]
        except ServiceError:
            return None

    async def list_jobs(self, *, wanted: set[str] | None = None) -> list[RemoteJob]:
        jobs, token = [], None
        while True:
            params = {"page_size": 100, **({"page_token": token} if token else {})}
            body = await self._json("GET", "/runs", params=params, what="run list")
            items, next_token = run_list(body)
            jobs.extend(parse_run(item) for item in items if item.get("run_id"))
            if not next_token or next_token == token:
                return jobs
            token = next_token

    async def cancel(self, remote_id: str) -> RemoteJob:
        await self._not_found_aware("POST", f"/runs/{_q(remote_id)}/cancel", remote_id, f"cancel of {remote_id}")
        return await self.get_job(remote_id)

    async def tasks(self, remote_id: str) -> list[dict[str, Any]]:
        """WES 1.1 task list where the server has it (sapporo answers 400: then an empty list)."""
        try:
            body = await self._json("GET", f"/runs/{_q(remote_id)}/tasks", what=f"tasks of {remote_id}")
        except (RemoteRejectedError, RemoteNotFoundError):
            return []
        return list(body.get("task_logs") or body.get("tasks") or [])

    async def download(self, remote: RemoteFile, dest: Path, *,
                       progress: ProgressCallback | None = None) -> DownloadedFile:
        return await stream_to_file(self.name, self.client, remote.url, safe_join(dest, remote.name),
                                    progress=progress, headers=self._headers())


def _q(remote_id: str) -> str:
    return quote(remote_id, safe="")

