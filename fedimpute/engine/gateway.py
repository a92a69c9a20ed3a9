"""The engine's front door: bearer tokens, partner scoping and TLS before the WES server.

sapporo listens on 127.0.0.1 only; this gateway is what the home and the partners talk to
(``fedimpute engine start --address HOST --ssl-certfile F --ssl-keyfile F``).  While no partner
token exists it passes every request through (a loopback engine, as before); once one exists,
every route but ``service-info`` needs ``Authorization: Bearer <token>`` (401 otherwise):

- the home's own token (:mod:`~fedimpute.engine.node_tokens`) passes any request through;
- a partner's token allows only the WES routes a client needs, for the partner's own runs:
  other runs answer the same 404 as a missing one; ``GET /runs`` lists only its runs;
  ``POST /runs`` is rebuilt by :mod:`~fedimpute.engine.node_submit` (the node's own workflow
  and panel files; the partner's name as a tag).

``service-info`` adds ``fedimpute_panels`` (the registry's panels), so a partner that adds the
node as an ordinary WES service discovers them.  URLs the WES server writes with its own
loopback address (output file links) are rewritten to the address the client used.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedimpute.engine.node_submit import PARTNER_TAG, NodeRequestError, partner_run_body, upload_name
from fedimpute.engine.node_tokens import Identity, NodeTokens

__all__ = ["Gateway", "make_app"]

PREFIX = "/ga4gh/wes/v1"
#: Routes (below PREFIX) a partner may use, by method; ``{run}`` is checked to be the partner's.
_PARTNER_ROUTES = [
    ("GET", re.compile(r"^/runs$")), ("POST", re.compile(r"^/runs$")),
    ("GET", re.compile(r"^/runs/(?P<run>[^/]+)(/status|/tasks(/[^/]+)?|/outputs(/.+)?)?$")),
    ("POST", re.compile(r"^/runs/(?P<run>[^/]+)/cancel$")),
]
_HOP = {"host", "authorization", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-authorization", "content-length", "cookie"}
_PASS_BACK = ("content-type", "content-length", "content-range", "accept-ranges", "content-disposition",
              "last-modified", "etag")


class _TooLarge(Exception):
    pass


@dataclass
class Gateway:
    """Settings and state of one gateway process."""

    upstream: str  # the WES server's base URL, ending in PREFIX
    home: Path
    engine: str | None = None
    max_upload: int = 50 * 1024**3
    exposed: bool = False  # listening beyond loopback: a token is needed even when no partner has one
    tokens: NodeTokens = field(init=False)
    _cache: tuple[float, dict[str, str], bool] = (-1.0, {}, False)

    def __post_init__(self) -> None:
        self.tokens = NodeTokens(self.home)
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(60, read=None), trust_env=False)

    # -- who is asking ---------------------------------------------------------------------------

    def _snapshot(self) -> tuple[dict[str, str], bool]:
        mtime = self.tokens.mtime()
        if mtime != self._cache[0]:  # tokens added or revoked: read the file again
            hashes, partners = self.tokens.snapshot()
            self._cache = (mtime, hashes, partners)
        return self._cache[1], self._cache[2]

    def identify(self, request: Request) -> Identity | None | bool:
        """The caller's identity; True when no token is needed (no partner token, and listening on loopback
        only); None when refused."""
        from fedimpute.engine.node_tokens import token_hash

        hashes, partners = self._snapshot()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            name = hashes.get(token_hash(token.strip()))
            if name:
                return Identity(name)
            return None
        return True if not partners and not self.exposed else None

    # -- talking to the WES server ---------------------------------------------------------------

    def _rewrite(self, data: bytes, request: Request, partner: bool) -> bytes:
        """The WES server's loopback URLs as the address the client used; for a partner, the node's
        folders (its panels', its runs') as ``<node>``: where the node keeps things is not theirs to see."""
        public = f"{str(request.base_url).rstrip('/')}{PREFIX}"
        data = data.replace(self.upstream.encode(), public.encode())
        if partner:
            data = data.replace(str(self.home.resolve()).encode(), b"<node>")
        return data

    async def forward(self, request: Request, path: str, *, content: Any = None,
                      headers: dict[str, str] | None = None, params: list[tuple[str, str]] | None = None,
                      partner: bool = False) -> Response:
        query = httpx.QueryParams(tuple(request.query_params.multi_items() if params is None else params))
        send_headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        if headers is not None:
            send_headers = {**{k: v for k, v in send_headers.items() if k.lower() != "content-type"}, **headers}
        upstream = self.client.build_request(
            request.method, f"{self.upstream}{path}", headers=send_headers,
            params=query,
            content=content if content is not None else (request.stream() if request.method == "POST" else None))
        response = await self.client.send(upstream, stream=True)
        back = {k: v for k, v in response.headers.items() if k.lower() in _PASS_BACK}
        if response.headers.get("content-type", "").startswith("application/json"):
            body = self._rewrite(await response.aread(), request, partner)
            await response.aclose()
            back.pop("content-length", None)
            return Response(body, status_code=response.status_code, headers=back)

        async def stream() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()

        return StreamingResponse(stream(), status_code=response.status_code, headers=back)

    async def owns(self, partner: str, run_id: str) -> bool:
        response = await self.client.get(f"{self.upstream}/runs", params=[
            ("run_ids", run_id), ("tags", f"{PARTNER_TAG}:{partner}"), ("page_size", "1"), ("latest", "false")])
        return response.status_code == 200 and bool(response.json().get("runs"))


def _refused() -> Response:
    return JSONResponse({"msg": "a valid bearer token is required: ask the node's owner for one "
                                "(`fedimpute engine tokens add NAME`)", "status_code": 401}, status_code=401,
                        headers={"WWW-Authenticate": 'Bearer realm="fedimpute engine"'})


def _not_found() -> Response:
    return JSONResponse({"msg": "not found", "status_code": 404}, status_code=404)


async def _service_info(gw: Gateway, request: Request) -> Response:
    from fedimpute.engine.panels import registry_panels

    response = await gw.client.get(f"{gw.upstream}/service-info")
    info = response.json() if response.status_code == 200 else {}
    panels = registry_panels("node", gw.home)
    info["fedimpute_panels"] = [p.model_dump(mode="json", exclude={"service"}) for p in panels]
    info["fedimpute_auth"] = "bearer" if gw._snapshot()[1] or gw.exposed else "none"
    return JSONResponse(info, status_code=response.status_code)


async def _partner_submit(gw: Gateway, request: Request, partner: str) -> Response:
    from fedimpute.engine.panels import panel_workflow_params, registry_panels
    from fedimpute.services.wes import workflow_attachments

    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > gw.max_upload:
        return JSONResponse({"msg": f"upload larger than this node accepts ({gw.max_upload} bytes)"}, status_code=413)
    try:
        async with request.form(max_files=64, max_fields=16) as form:
            fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
            uploads: dict[str, BinaryIO] = {}
            for key, value in form.multi_items():
                if isinstance(value, UploadFile) and key == "workflow_attachment" and \
                        (name := upload_name(value.filename)) is not None:
                    uploads[name] = value.file
            panels = {p.panel_id: panel_workflow_params(p.panel_id, gw.home)
                      for p in registry_panels("node", gw.home)}
            body = partner_run_body(fields, uploads, partner=partner, panels=panels,
                                    workflow=workflow_attachments("impute"), engine=gw.engine)
            return await gw.forward(request, "/runs", content=body.stream(), headers=body.headers(), partner=True)
    except NodeRequestError as exc:
        return JSONResponse({"msg": str(exc), "status_code": 400}, status_code=400)


async def _partner_list(gw: Gateway, request: Request, partner: str) -> Response:
    params = [(k, v) for k, v in request.query_params.multi_items() if k in ("page_size", "page_token", "state")]
    return await gw.forward(request, "/runs", params=[*params, ("tags", f"{PARTNER_TAG}:{partner}")], partner=True)


async def _route(gw: Gateway, request: Request) -> Response:
    path = "/" + request.path_params.get("path", "")
    if request.method == "GET" and path == "/service-info":
        return await _service_info(gw, request)
    who = gw.identify(request)
    if who is None:
        return _refused()
    if who is True or (isinstance(who, Identity) and who.is_owner):
        return await gw.forward(request, path)
    assert isinstance(who, Identity)
    for method, pattern in _PARTNER_ROUTES:
        match = pattern.match(path)
        if match and method == request.method:
            break
    else:
        return _not_found()
    run = match.groupdict().get("run")
    if run is None:
        return await (_partner_list if method == "GET" else _partner_submit)(gw, request, who.name)
    if not await gw.owns(who.name, run):
        return _not_found()
    return await gw.forward(request, path, partner=True)


class _BodyLimit:
    """Stop reading a request body past ``limit`` bytes, with or without a Content-Length."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        await self.app(scope, limited if scope["type"] == "http" else receive, send)


def make_app(gw: Gateway) -> ASGIApp:
    async def endpoint(request: Request) -> Response:
        try:
            return await _route(gw, request)
        except _TooLarge:
            return JSONResponse({"msg": f"upload larger than this node accepts ({gw.max_upload} bytes)",
                                 "status_code": 413}, status_code=413)
        except httpx.TransportError as exc:
            return JSONResponse({"msg": f"the engine's WES server is not answering ({type(exc).__name__}); "
                                        "restart it with `fedimpute engine start`"}, status_code=502)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await gw.client.aclose()

    methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
    app = Starlette(routes=[Route(PREFIX + "/{path:path}", endpoint, methods=methods)], lifespan=lifespan)
    return _BodyLimit(app, gw.max_upload)
