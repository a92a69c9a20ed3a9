"""The GA4GH WES 1.0/1.1 adapter (sapporo, Toil, wes-service, any compliant server).

Which workflow a WES service runs is service configuration (:class:`WesSettings`, the ``--set``
keys): ``workflow`` is ``impute`` (the CWL workflow shipped with fedimpute, attached to each run),
a path to a local workflow file (it and the files beside it are attached), or an http(s) URL the
server fetches itself; ``panels`` lists the panels (WES has no panel discovery).

Inputs are attached as ``inputs/<file name>``; the workflow receives ``vcfs`` (File[]),
``panel``, and ``build``/``population``/``phasing``/``r2_filter``/``mode`` when given,
plus the chosen panel's ``params``.  A ``tags`` entry carries fedimpute's job id.  Where the
panels come from is a hook (:meth:`WesService.panel_list`, :meth:`WesService.panel_params`): the
local engine reads its own registry instead (:mod:`fedimpute.services.local`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import Field

from fedimpute._multipart import MultipartBody
from fedimpute.exceptions import RemoteNotFoundError, RemoteRejectedError, ServiceError, UsageError
from fedimpute.models import HealthRecord, HealthStatus, JobStatus, Population, ReferencePanel
from fedimpute.services import base
from fedimpute.services.auth import BearerAuth
from fedimpute.services.settings import ServiceSettings
from fedimpute.services.tokens import jwt_expiry, jwt_user, token_check_failed
from fedimpute.services.wes_parse import log_text_or_url, parse_run, run_list

__all__ = ["WesService", "WesSettings", "panel_from_entry", "workflow_attachments"]

#: The ``panels`` value that names the local engine's panel registry (panels and files on this machine).
LOCAL_REGISTRY = "local"

_SKIP = {"__pycache__", ".git"}


class WesSettings(ServiceSettings):
    workflow: str | None = Field(default=None, description="'impute' (the workflow shipped with fedimpute, "
                                 "attached to each run), a workflow file, or a URL the server fetches")
    workflow_type: str = Field(default="CWL", description="workflow language, e.g. CWL or WDL")
    workflow_type_version: str = Field(default="v1.2", description="language version, e.g. v1.2")
    engine: str | None = Field(default=None, description="workflow engine name from the server's service-info, "
                               "e.g. cwltool (default: the first one it lists)")
    panels: str | None = Field(default=None, description="path of a JSON list of {panel_id, name, build, "
                               "populations, params}, or 'local' for this machine's engine panel registry")


def panel_from_entry(service: str, entry: dict[str, Any]) -> ReferencePanel:
    """One entry of a panels list as a ReferencePanel (populations as ids or ``{id, label}``)."""
    pops = [Population(id=p, label=p) if isinstance(p, str) else Population(**p)
            for p in entry.get("populations", [])]
    return ReferencePanel(service=service, panel_id=entry["panel_id"], name=entry.get("name", entry["panel_id"]),
                          build=entry.get("build"), populations=pops, samples=entry.get("samples"),
                          variants=entry.get("variants"))


def workflow_attachments(workflow: str) -> tuple[str, list[tuple[str, Path]]]:
    """``(workflow_url, [(attachment name, path)])`` for the ``workflow`` setting."""
    if workflow.startswith(("http://", "https://")):
        return workflow, []
    if workflow == "impute":
        from fedimpute.engine.workflow import workflow_path

        main = workflow_path()
    else:
        main = Path(workflow).expanduser()
    if not main.is_file():
        raise UsageError(f"the workflow file {main} does not exist; fix the service's `workflow` setting")
    root = main.parent
    files = [(p.relative_to(root).as_posix(), p) for p in sorted(root.rglob("*"))
             if p.is_file() and not (set(p.relative_to(root).parts) & _SKIP) and not p.name.startswith(".")]
    return main.relative_to(root).as_posix(), files


class WesService(base.ImputationService):
    """A GA4GH WES endpoint; ``config.url`` is the full base (with or without ``/ga4gh/wes/v1``)."""

    protocol: ClassVar[str] = "wes"
    Settings: ClassVar[type[ServiceSettings]] = WesSettings
    settings: WesSettings

    def auth(self) -> httpx.Auth:
        return BearerAuth(self.token, origins=[self.config.url])

    async def service_info(self) -> dict[str, Any]:
        info = await self.request_json("GET", "service-info", what="service-info")
        return info if isinstance(info, dict) else {}

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

    async def verify_token(self) -> base.TokenInfo:
        """One authenticated call, ``GET /runs?page_size=1``: WES has no token endpoint, and the run list
        is the cheapest request a server guards with the same bearer check as a submission.  A 401/403
        is a refusal; an unreachable server leaves the token unknown (see :mod:`~fedimpute.services.tokens`)."""
        if self.token is None:
            return base.TokenInfo(valid=False, message=f"no token; run `fedimpute login {self.name}`")
        try:
            await self.request("GET", "runs", params={"page_size": 1}, what="token check")
        except ServiceError as exc:
            return token_check_failed(exc)
        return base.TokenInfo(valid=True, user=jwt_user(self.token), expires_at=jwt_expiry(self.token))

    # -- panels: hooks, so the local engine can read its registry instead ------------------------

    def _panel_file(self) -> list[dict[str, Any]]:
        """The JSON list named by the ``panels`` setting (empty without it)."""
        if not self.settings.panels:
            return []
        path = Path(self.settings.panels).expanduser()
        try:
            return list(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"cannot read the panels file {path} of service {self.name} ({exc}); fix it or "
                             "re-add the service with --set panels=FILE") from exc

    def panel_list(self) -> list[ReferencePanel]:
        """The panels this service offers (WES itself cannot say: the ``panels`` setting does, as a
        JSON list, or ``local`` for this machine's engine registry)."""
        if self.settings.panels == LOCAL_REGISTRY:
            from fedimpute.engine.panels import registry_panels

            return registry_panels(self.name)
        return [panel_from_entry(self.name, entry) for entry in self._panel_file()]

    def panel_params(self, panel_id: str) -> dict[str, Any]:
        """Workflow inputs that come with ``panel_id``: its entry's ``params``, or the registered panel's
        files as absolute ``file://`` inputs (the engine runs on this machine)."""
        if self.settings.panels == LOCAL_REGISTRY:
            from fedimpute.engine.panels import panel_workflow_params

            return panel_workflow_params(panel_id)
        return next((dict(e.get("params") or {}) for e in self._panel_file() if e["panel_id"] == panel_id), {})

    async def discover_panels(self) -> list[ReferencePanel]:
        """The ``panels`` setting's list; without one, the panels a fedimpute engine node announces in
        its service-info (``fedimpute_panels``: the node fills in their files itself)."""
        if self.settings.panels is None:
            announced = (await self.service_info()).get("fedimpute_panels") or []
            return [panel_from_entry(self.name, entry) for entry in announced if isinstance(entry, dict)]
        return self.panel_list()

    # -- runs ------------------------------------------------------------------------------------

    async def _engine(self) -> str | None:
        if self.settings.engine:
            return self.settings.engine
        engines = list((await self.service_info()).get("workflow_engine_versions") or {})
        return engines[0] if engines else None

    def _params(self, files: list[Path], options: base.SubmitOptions) -> dict[str, Any]:
        ids = [p.panel_id for p in self.panel_list()]
        if ids and options.panel not in ids:
            raise UsageError(f"unknown panel {options.panel!r} for {self.name}; choose one of {', '.join(ids)}")
        params: dict[str, Any] = {"vcfs": [{"class": "File", "location": f"inputs/{f.name}"} for f in files],
                                  "panel": options.panel}
        for key in ("build", "population", "phasing", "r2_filter", "mode"):
            if getattr(options, key) is not None:
                params[key] = getattr(options, key)
        params.update(self.panel_params(options.panel))
        return params

    async def submit(self, files: list[Path], options: base.SubmitOptions, *, job_name: str,
                     submission_key: str | None = None,
                     progress: base.ProgressCallback | None = None) -> str:
        if not self.settings.workflow:
            raise UsageError(f"service {self.name} names no workflow; re-add it with --set workflow=impute "
                             "(or a workflow file or URL)")
        workflow_url, attachments = workflow_attachments(self.settings.workflow)
        tags = {"fedimpute_job": job_name, **({"fedimpute_key": submission_key} if submission_key else {})}
        body = MultipartBody()
        body.add_field("workflow_params", json.dumps(self._params(files, options)))
        body.add_field("workflow_type", self.settings.workflow_type)
        body.add_field("workflow_type_version", self.settings.workflow_type_version)
        if engine := await self._engine():
            body.add_field("workflow_engine", engine)
        body.add_field("tags", json.dumps(tags))
        body.add_field("workflow_url", workflow_url)
        for name, path in attachments:
            body.add_file("workflow_attachment", path, filename=name)
        for f in files:
            body.add_file("workflow_attachment", f, filename=f"inputs/{f.name}")
        data = await self.request_json("POST", "runs", what="submission", sending="upload",
                                       content=body.stream(progress), headers=body.headers())
        if not isinstance(data, dict) or not data.get("run_id"):
            raise RemoteRejectedError(self.name, f"submission answered without a run id: {data}")
        return str(data["run_id"])

    async def _run_request(self, method: str, path: str, what: str) -> Any:
        """A request about one run.  sapporo answers 400 'Invalid run_id format' for ids it cannot parse:
        that is "not found" too."""
        try:
            return await self.request_json(method, path, what=what)
        except RemoteRejectedError as exc:
            if "run_id" in exc.said or "run id" in exc.said.lower():
                raise RemoteNotFoundError(self.name, f"{what} not found: {exc.said}", status_code=404) from exc
            raise

    async def get_job(self, remote_id: str, *, previous: JobStatus | None = None) -> base.RemoteJob:
        body = await self._run_request("GET", f"runs/{_q(remote_id)}", f"run {remote_id}")
        stderr_text = None
        _, url = log_text_or_url((body.get("run_log") or {}).get("stderr"), f"{self.config.url}/runs/{_q(remote_id)}")
        if url and str(body.get("state", "")).upper() in ("EXECUTOR_ERROR", "SYSTEM_ERROR"):
            stderr_text = await self._log_text(url)
        return parse_run(body, stderr_text=stderr_text)

    async def _log_text(self, url: str) -> str | None:
        try:
            return (await self.request("GET", url, what="run log")).text[-20000:]
        except ServiceError:
            return None

    async def list_jobs(self, *, wanted: set[str] | None = None) -> list[base.RemoteJob]:
        jobs: list[base.RemoteJob] = []
        token = None
        while True:
            params = {"page_size": 100, **({"page_token": token} if token else {})}
            body = await self.request_json("GET", "runs", params=params, what="run list")
            items, next_token = run_list(body)
            jobs.extend(parse_run(item) for item in items if item.get("run_id"))
            if not next_token or next_token == token:
                return jobs
            token = next_token

    async def cancel(self, remote_id: str) -> base.RemoteJob:
        await self._run_request("POST", f"runs/{_q(remote_id)}/cancel", f"cancel of {remote_id}")
        return await self.get_job(remote_id)

    async def tasks(self, remote_id: str) -> list[dict[str, Any]]:
        """WES 1.1 task list where the server has it (sapporo answers 400: then an empty list)."""
        try:
            body = await self.request_json("GET", f"runs/{_q(remote_id)}/tasks", what=f"tasks of {remote_id}")
        except (RemoteRejectedError, RemoteNotFoundError):
            return []
        return list(body.get("task_logs") or body.get("tasks") or [])


def _q(remote_id: str) -> str:
    return quote(remote_id, safe="")
