"""A toy protocol, added the way a third-party package adds one: this module and one registry line
(``register("toy", "tests.toy_protocol:ToyService")``, or the entry point
``toy = tests.toy_protocol:ToyService`` in the ``fedimpute.services`` group).  Nothing else in
fedimpute knows it.

The module holds both sides: :func:`toy_app`, a small HTTP service (jobs that finish after a
given number of polls, one result file each, a bearer token recorded when sent), and
:class:`ToyService`, its adapter.  Only what every protocol must do is implemented, so the
capabilities it lacks (cancel, restart, list, token check, OAuth2 login) stay "not supported".
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from fedimpute.models import HealthRecord, HealthStatus, JobStatus, Population, ReferencePanel
from fedimpute.services.auth import BearerAuth
from fedimpute.services.base import ImputationService, ProgressCallback, RemoteFile, RemoteJob, SubmitOptions
from fedimpute.services.settings import ServiceSettings

__all__ = ["RESULT", "ToyService", "ToySettings", "ToyState", "toy_app"]

RESULT = b"toy imputation result\n"
STATES = {"waiting": JobStatus.QUEUED, "working": JobStatus.RUNNING, "done": JobStatus.COMPLETED}


class ToySettings(ServiceSettings):
    queue: str = Field(default="main", description="toy queue the jobs go to")
    steps: int = Field(default=2, ge=1, description="polls a toy job takes to finish")


class ToyService(ImputationService):
    protocol: ClassVar[str] = "toy"
    Settings: ClassVar[type[ServiceSettings]] = ToySettings
    default_poll: ClassVar[float] = 7.0
    settings: ToySettings

    def auth(self) -> httpx.Auth:
        return BearerAuth(self.token, origins=[self.config.url])

    async def health(self) -> HealthRecord:
        info = await self.request_json("GET", "/status", what="status")
        return HealthRecord(service=self.name, status=HealthStatus.UP, detail=f"toy, {info['jobs']} job(s)")

    async def discover_panels(self) -> list[ReferencePanel]:
        return [ReferencePanel(service=self.name, panel_id="toy-panel", name="Toy panel", build="hg38",
                               populations=[Population(id="all", label="all")])]

    async def submit(self, files: list[Path], options: SubmitOptions, *, job_name: str,
                     submission_key: str | None = None, progress: ProgressCallback | None = None) -> str:
        body = {"name": job_name, "key": submission_key, "panel": options.panel, "queue": self.settings.queue,
                "steps": self.settings.steps, "files": [f.name for f in files]}
        return str((await self.request_json("POST", "/jobs", json=body, what="submission"))["id"])

    async def get_job(self, remote_id: str, *, previous: JobStatus | None = None) -> RemoteJob:
        data = await self.request_json("GET", f"/jobs/{remote_id}", what=f"job {remote_id}")
        outputs = [RemoteFile(name="result.txt", url=f"{self.config.url}/files/{remote_id}/result.txt")]
        status = STATES[data["state"]]
        return RemoteJob(remote_id=remote_id, name=data["name"], submission_key=data["key"], status=status,
                         remote_state=data["state"], outputs=outputs if status is JobStatus.COMPLETED else [])


class ToyState:
    """What the toy service holds; tests read it to see what the adapter sent."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.tokens: list[str | None] = []
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        return f"toy-{next(self._ids)}"


def toy_app(state: ToyState) -> Starlette:
    """The toy service: ``GET /status``, ``POST /jobs``, ``GET /jobs/{id}`` (each read moves the job one
    step on), ``GET /files/{id}/result.txt``."""

    def seen(request: Request) -> None:
        with state.lock:
            state.tokens.append(request.headers.get("authorization"))

    async def status(request: Request) -> Response:
        seen(request)
        return JSONResponse({"jobs": len(state.jobs)})

    async def submit(request: Request) -> Response:
        seen(request)
        body = await request.json()
        with state.lock:
            job_id = state.new_id()
            state.jobs[job_id] = {**body, "polls": 0, "submitted": time.time()}
        return JSONResponse({"id": job_id})

    async def job(request: Request) -> Response:
        seen(request)
        with state.lock:
            job = state.jobs.get(request.path_params["id"])
            if job is None:
                return JSONResponse({"message": "no such toy job"}, status_code=404)
            job["polls"] += 1
            steps = job["steps"]
            job["state"] = "waiting" if job["polls"] < 2 else "working" if job["polls"] < 1 + steps else "done"
            return JSONResponse({"name": job["name"], "key": job["key"], "state": job["state"]})

    async def result(request: Request) -> Response:
        seen(request)
        job = state.jobs.get(request.path_params["id"])
        if job is None or job.get("state") != "done":
            return JSONResponse({"message": "not ready"}, status_code=404)
        return PlainTextResponse(RESULT.decode())

    return Starlette(routes=[Route("/status", status), Route("/jobs", submit, methods=["POST"]),
                             Route("/jobs/{id}", job), Route("/files/{id}/result.txt", result)])
