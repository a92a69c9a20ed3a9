"""HTTP routes of the fake Workbench.

URL layout (``base`` is the server root): the service registry at ``base +
FakeWorkbench.registry_path`` (the other two documented registry paths answer 404), ewes at
``base/ewes/``, the workflow service at ``base/workflow/``, the user service at
``base/user/``, OAuth2 at ``base/oauth/token`` and ``base/oauth/device/code``, and run outputs
at ``base/files/{run_id}/{name}``.  Everything but the registry and the OAuth endpoints needs
``Authorization: Bearer``.  Handlers stay thin: the rules live in FakeWorkbench.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .runs import COMPLETE, run_json, run_summary
from .state import DEVICE_GRANT, ApiError, FakeWorkbench, OAuthError

REGISTRY_PATHS = ("/services", "/service-registry/services", "/api/service-registry/services")
WES = "/ewes/{ns}/ga4gh/wes/v1"


def create_app(fake: FakeWorkbench) -> Starlette:
    h = _Handlers(fake)
    routes = [
        *[Route(p, h.registry, methods=["GET"]) for p in REGISTRY_PATHS],
        Route("/oauth/token", h.token, methods=["POST"]),
        Route("/oauth/device/code", h.device, methods=["POST"]),
        Route("/user/users/me", h.me, methods=["GET"]),
        Route("/user/namespaces", h.namespaces, methods=["GET"]),
        Route("/workflow/{ns}/workflows", h.workflows, methods=["GET"]),
        Route("/workflow/{ns}/workflows/{wid}", h.workflow, methods=["GET"]),
        Route("/workflow/{ns}/workflows/{wid}/versions", h.versions, methods=["GET"]),
        Route("/ewes/{ns}/engines", h.engines, methods=["GET"]),
        Route(f"{WES}/service-info", h.service_info, methods=["GET"]),
        Route(f"{WES}/batch", h.batch, methods=["POST"]),
        Route(f"{WES}/runs", h.list_runs, methods=["GET"]),
        Route(WES + "/runs/{run_id}", h.run, methods=["GET"]),
        Route(WES + "/runs/{run_id}/status", h.status, methods=["GET"]),
        Route(WES + "/runs/{run_id}/cancel", h.cancel, methods=["POST"]),
        Route("/files/{run_id}/{name:path}", h.file, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={ApiError: _api_error, OAuthError: _oauth_error})
    return _RequestLog(app, fake)


class _RequestLog:
    """Outermost ASGI layer: records (method, path, query) of every HTTP request."""

    def __init__(self, app, fake: FakeWorkbench) -> None:
        self.app, self.fake = app, fake

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            with self.fake.lock:
                self.fake.requests.append((scope["method"], scope["path"], scope["query_string"].decode()))
        await self.app(scope, receive, send)


def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "msg": exc.msg,
                         "error_code": exc.status, "trace_id": secrets.token_hex(8)}, status_code=exc.status)


def _oauth_error(request: Request, exc: OAuthError) -> JSONResponse:
    return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _service(base: str, sid: str, name: str, path: str, artifact: str, group: str = "com.dnastack.workbench",
             version: str = "1.0.0") -> dict[str, Any]:
    url = f"{base}/{path}/"
    return {"id": sid, "name": name, "url": url, "version": "1.0.0",
            "type": {"group": group, "artifact": artifact, "version": version},
            "organization": {"name": "Fake DNAstack", "url": "https://example.org"},
            "authentication": [{"client_id": "fedimpute-cli", "token_endpoint": f"{base}/oauth/token",
                                "device_code_endpoint": f"{base}/oauth/device/code", "resource_url": url,
                                "scope": "openid offline_access", "grant_type": DEVICE_GRANT}]}


class _Handlers:
    def __init__(self, fake: FakeWorkbench) -> None:
        self.fake = fake

    def user(self, request: Request, namespace: str | None = None) -> dict[str, Any]:
        user = self.fake.user_for(request.headers.get("authorization"))
        if namespace is not None:
            self.fake.check_namespace(user, namespace)
        return user

    async def registry(self, request: Request) -> Response:
        if request.url.path != self.fake.registry_path:
            return JSONResponse({"msg": "Not Found", "error_code": 404}, status_code=404)
        base = _base(request)
        return JSONResponse([
            _service(base, "data-connect", "Data Connect", "data-connect", "data-connect", "org.ga4gh"),
            _service(base, "ewes-service", "Workbench ewes", "ewes", "ewes-service"),
            _service(base, "workflow-service", "Workbench workflows", "workflow", "workflow-service"),
            _service(base, "workbench-user-service", "Workbench users", "user", "workbench-user-service"),
        ])

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        with self.fake.lock:
            self.fake.token_requests.append(form)
        if form.get("grant_type") == "client_credentials":
            return JSONResponse(self.fake.client_credentials(form))
        if form.get("grant_type") == DEVICE_GRANT:
            return JSONResponse(self.fake.poll_device(form))
        raise OAuthError("unsupported_grant_type", f"grant_type {form.get('grant_type')!r} is not supported")

    async def device(self, request: Request) -> Response:
        return JSONResponse(self.fake.start_device(dict(request.query_params), _base(request)))

    async def me(self, request: Request) -> Response:
        user = self.user(request)
        return JSONResponse({k: user[k] for k in ("email", "full_name", "default_namespace")})

    async def namespaces(self, request: Request) -> Response:
        user = self.user(request)
        return JSONResponse({"namespaces": [{"id": ns, "name": ns} for ns in user["namespaces"]]})

    async def workflows(self, request: Request) -> Response:
        ns = request.path_params["ns"]
        self.user(request, ns)
        search = request.query_params.get("search", "").casefold()
        with self.fake.lock:
            found = [w for w in self.fake.workflows[ns] if search in w["name"].casefold()]
            listed = [{k: v for k, v in w.items() if k != "versions"} for w in found]
            return JSONResponse({"workflows": listed,
                                 "pagination": {"next_page_url": None, "total_elements": len(found)}})

    def _workflow(self, request: Request) -> dict[str, Any]:
        ns, wid = request.path_params["ns"], request.path_params["wid"]
        self.user(request, ns)
        with self.fake.lock:
            for workflow in self.fake.workflows[ns]:
                if workflow["internalId"] == wid:
                    return workflow
        raise ApiError(404, f"Workflow {wid} not found")

    async def workflow(self, request: Request) -> Response:
        return JSONResponse(self._workflow(request))

    async def versions(self, request: Request) -> Response:
        return JSONResponse({"versions": self._workflow(request)["versions"], "pagination": {}})

    async def engines(self, request: Request) -> Response:
        ns = request.path_params["ns"]
        self.user(request, ns)
        with self.fake.lock:
            return JSONResponse({"engines": self.fake.engines[ns], "pagination": {}})

    async def service_info(self, request: Request) -> Response:
        self.user(request, request.path_params["ns"])
        return JSONResponse({"id": "ewes-service", "name": "Workbench ewes (fake)", "version": "1.0.0",
                             "type": {"group": "org.ga4gh", "artifact": "wes", "version": "1.0.0"},
                             "workflow_type_versions": {"WDL": {"workflow_type_version": ["1.0", "draft-2"]}},
                             "supported_wes_versions": ["1.0.0"],
                             "supported_filesystem_protocols": ["gs", "http"]})

    async def batch(self, request: Request) -> Response:
        ns = request.path_params["ns"]
        user = self.user(request, ns)
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "The request body is not valid JSON") from None
        return JSONResponse({"runs": self.fake.submit(user, ns, body)})

    async def list_runs(self, request: Request) -> Response:
        ns = request.path_params["ns"]
        self.user(request, ns)
        size = max(1, min(int(request.query_params.get("page_size") or 20), 100))
        offset = int(request.query_params.get("page_token") or 0)
        runs, now = self.fake.list_runs(ns), time.time()
        body: dict[str, Any] = {"runs": [run_summary(r, now) for r in runs[offset:offset + size]],
                                "pagination": {"next_page_url": None, "total_elements": len(runs)}}
        if offset + size < len(runs):
            self._next_page(body, request, ns, size, offset + size)
        return JSONResponse(body)

    def _next_page(self, body: dict[str, Any], request: Request, ns: str, size: int, offset: int) -> None:
        query = f"page_size={size}&page_token={offset}"
        style = self.fake.page_style
        if style == "token":
            body["next_page_token"] = str(offset)
            return
        path = f"/ewes/{ns}/ga4gh/wes/v1/runs?{query}"
        body["pagination"]["next_page_url"] = {"relative": f"runs?{query}", "root": path,
                                               "absolute": f"{_base(request)}{path}"}[style]

    async def run(self, request: Request) -> Response:
        ns = request.path_params["ns"]
        self.user(request, ns)
        run = self.fake.run(ns, request.path_params["run_id"])
        return JSONResponse(run_json(run, _base(request), time.time()))

    async def status(self, request: Request) -> Response:
        ns = request.path_params["ns"]
        self.user(request, ns)
        run = self.fake.run(ns, request.path_params["run_id"])
        return JSONResponse({"run_id": run.run_id, "state": run.state(time.time())})

    async def cancel(self, request: Request) -> Response:
        ns = request.path_params["ns"]
        self.user(request, ns)
        return JSONResponse(self.fake.cancel(ns, request.path_params["run_id"]))

    async def file(self, request: Request) -> Response:
        user = self.user(request)
        with self.fake.lock:
            run = self.fake.runs.get(request.path_params["run_id"])
        if run is None or run.state(time.time()) != COMPLETE or run.namespace not in user["namespaces"]:
            raise ApiError(404, "File not found")
        name = request.path_params["name"]
        content = f"fake output {name} of run {run.run_id}\n".encode() * 64
        return Response(content, media_type="application/octet-stream")
