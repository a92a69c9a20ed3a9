"""HTTP routes of the simulated Cloudgene 3 API (section 3 of the reference).

Why handlers stay thin: all rules live in CloudgeneSim so tests can drive the
same logic without HTTP; here we only map requests to calls and errors to
the two error body styles (Cloudgene envelope vs. framework body).
"""

from __future__ import annotations

import mimetypes
import shutil

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import responses
from .errors import ApiError, FrameworkError
from .faults import FaultMiddleware
from .state import CloudgeneSim
from .uploads import body_chunks, drain, read_form

SUBMITTED = "Your job was successfully added to the job queue."


def create_app(sim: CloudgeneSim) -> Starlette:
    """The ASGI app; fault injection and request logging wrap it as the outermost layer."""
    h = _Handlers(sim)
    routes = [
        Route("/api/v2/jobs/submit/{app_id:str}", h.submit, methods=["POST"]),
        Route("/api/v2/jobs", h.list_jobs, methods=["GET"]),
        Route("/api/v2/jobs/{job_id:str}", h.job, methods=["GET", "DELETE"]),
        Route("/api/v2/jobs/{job_id:str}/status", h.job, methods=["GET"]),
        Route("/api/v2/jobs/{job_id:str}/cancel", h.cancel, methods=["GET"]),
        Route("/api/v2/jobs/{job_id:str}/restart", h.restart, methods=["GET"]),
        Route("/api/v2/server", h.server, methods=["GET"]),
        Route("/api/v2/server/apps/{app_id:str}", h.app_schema, methods=["GET"]),
        Route("/api/v2/server/counters", h.counters, methods=["GET"]),
        Route("/api/v2/tokens/verify", h.verify, methods=["POST"]),
        Route("/share/results/{file_hash:str}/{name:path}", h.download, methods=["GET"]),
        Route("/downloads/{job_id:str}/{file_hash:str}/{name:path}", h.download, methods=["GET"]),
    ]
    handlers = {ApiError: _api_error, FrameworkError: _framework_error, HTTPException: h.http_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.add_middleware(FaultMiddleware, sim=sim)
    return app


def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"message": exc.message, "success": False}, status_code=exc.status)


def _framework_error(request: Request, exc: FrameworkError) -> JSONResponse:
    return JSONResponse(exc.body(request.url.path), status_code=exc.status)


class _Handlers:
    def __init__(self, sim: CloudgeneSim):
        self.sim = sim

    def user(self, request: Request):
        return self.sim.authenticate(request.headers.get("x-auth-token"))

    def optional_user(self, request: Request):
        """Anonymous routes: a bad or missing token just means 'not logged in'."""
        try:
            return self.user(request)
        except FrameworkError:
            return None

    def job_body(self, job) -> dict:
        with self.sim.lock:  # a consistent snapshot while tests advance jobs from another thread
            return responses.job_json(job, self.sim.position(job))

    async def submit(self, request: Request) -> Response:
        app_id = request.path_params["app_id"]
        try:
            user = self.user(request)
            self.sim.check_submit(user, app_id)
        except (ApiError, FrameworkError):
            await drain(body_chunks(request))
            raise
        upload_dir = self.sim.new_upload_dir()
        try:
            form = await read_form(request, upload_dir, self.sim.count_upload)
            job_id = self.sim.submit(
                user, app_id, form.fields, form.files, upload_dir, request.headers.get("user-agent", "")
            )
        except BaseException as exc:
            if upload_dir is not None:
                shutil.rmtree(upload_dir, ignore_errors=True)
            if isinstance(exc, ClientDisconnect):  # upload aborted: there is nobody to answer
                return Response(status_code=400)
            raise
        return JSONResponse({"success": True, "message": SUBMITTED, "id": job_id})

    async def list_jobs(self, request: Request) -> JSONResponse:
        user = self.user(request)
        raw = request.query_params.get("page")
        try:
            page = int(raw) if raw is not None else None
        except ValueError:
            raise ApiError(400, f"Failed to convert argument [page] for value [{raw}]") from None
        with self.sim.lock:
            items = [
                responses.job_json(j, self.sim.position(j), live=False) for j in self.sim.list_jobs(user)
            ]
        return JSONResponse(responses.page_json(items, page))

    async def job(self, request: Request) -> JSONResponse:
        user = self.user(request)
        job_id = request.path_params["job_id"]
        if request.method == "DELETE":
            if not self.sim.is_session(request.headers.get("x-auth-token")):
                raise FrameworkError(403)
            return JSONResponse(self.job_body(self.sim.delete(user, job_id)))
        return JSONResponse(self.job_body(self.sim.job_for(user, job_id)))

    async def cancel(self, request: Request) -> JSONResponse:
        job = self.sim.cancel(self.user(request), request.path_params["job_id"])
        return JSONResponse(self.job_body(job))

    async def restart(self, request: Request) -> JSONResponse:
        self.sim.restart(self.user(request), request.path_params["job_id"])
        return JSONResponse({"success": True, "message": SUBMITTED, "type": 0, "time": 0})

    async def server(self, request: Request) -> JSONResponse:
        return JSONResponse(responses.server_json(self.sim, self.optional_user(request)))

    async def app_schema(self, request: Request) -> JSONResponse:
        app_id, user = request.path_params["app_id"], self.optional_user(request)
        if user is not None:
            self.sim.require_service()
        if self.sim.find_panel(app_id) is not None and user is not None:
            raise ApiError(404, f"Application {app_id} is a data package.")
        if user is None or not self.sim.app_matches(app_id):
            raise ApiError(
                404, f"Application {app_id} not found or the request requires user authentication."
            )
        return JSONResponse(responses.app_json(self.sim))

    async def counters(self, request: Request) -> JSONResponse:
        return JSONResponse(self.sim.counters())

    async def verify(self, request: Request) -> JSONResponse:
        form = await request.form()
        token = form.get("token")
        return JSONResponse(self.sim.verify(token if isinstance(token, str) else None))

    async def download(self, request: Request) -> StreamingResponse:
        name = request.path_params["name"]
        record = self.sim.open_download(request.path_params["file_hash"], name)
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        headers = {
            "Content-Length": str(record.size),
            "Content-Disposition": f'attachment; filename="{name.rsplit("/", 1)[-1]}"',
        }
        return StreamingResponse(_read_chunks(record.path), media_type=media, headers=headers)

    async def http_error(self, request: Request, exc: HTTPException) -> JSONResponse:
        """Unknown routes: 401 under /api/ without a valid token (reject-not-found), else 404/405."""
        status = exc.status_code
        if status == 404 and request.url.path.startswith("/api/") and self.optional_user(request) is None:
            status = 401
        return _framework_error(request, FrameworkError(status))


def _read_chunks(path, size: int = 1 << 16):
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk
