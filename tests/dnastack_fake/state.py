"""FakeWorkbench: the in-memory state of the fake Workbench, shared by the HTTP thread and the test.

Why the knobs are plain attributes: a test sets ``registry_path``, ``step_seconds``,
``running_seconds``, ``fail_state``, ``page_style`` or ``slow_down_polls`` before (or while)
the server runs, and reads ``requests``, ``token_requests`` and ``runs`` afterwards.  One
re-entrant lock guards everything because two threads share this object.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .runs import CANCELING, COMPLETE, TERMINAL, FakeRun

__all__ = ["ApiError", "DeviceCode", "FakeWorkbench", "OAuthError", "make_token"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
PUBLIC_CLIENT = "fedimpute-cli"


class ApiError(Exception):
    """A Workbench error: answered as ``{timestamp, msg, error_code, trace_id}``."""

    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.msg = status, msg


class OAuthError(Exception):
    """An OAuth2 error: answered as ``{error, error_description}`` (RFC 6749 section 5.2)."""

    def __init__(self, error: str, description: str = "", status: int = 400) -> None:
        super().__init__(error)
        self.error, self.description, self.status = error, description, status


def make_token(sub: str, *, lifetime: float = 3600) -> str:
    """A JWT-shaped (unsigned) access token with ``sub`` and ``exp``, as Workbench hands out."""
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    claims = {"sub": sub, "exp": int(time.time() + lifetime), "jti": secrets.token_hex(6)}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.fake-signature"


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    resource: str
    expires_at: float
    approved_for: str | None = None
    denied: bool = False


@dataclass
class FakeWorkbench:
    registry_path: str = "/api/service-registry/services"
    step_seconds: float = 0.1
    running_seconds: float | None = None   # time spent RUNNING (default: one step)
    fail_state: str | None = None          # every new run ends in this state instead of COMPLETE
    page_style: str = "relative"           # next page as: relative | absolute | root | token
    device_interval: int = 1
    device_expires_in: int = 600
    slow_down_polls: int = 0               # answer slow_down to this many device-code polls
    tokens: dict[str, str] = field(default_factory=dict)             # access token -> user email
    users: dict[str, dict[str, Any]] = field(default_factory=dict)   # email -> profile
    clients: dict[str, tuple[str, str]] = field(default_factory=dict)  # client id -> (secret, user email)
    engines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)    # namespace -> engines
    workflows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # namespace -> workflows
    runs: dict[str, FakeRun] = field(default_factory=dict)
    devices: list[DeviceCode] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, query)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    device_requests: list[dict[str, str]] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- set-up --------------------------------------------------------------------------------

    def add_user(self, email: str, namespace: str, *, token: str | None = None, name: str = "") -> str:
        """A user whose default namespace is ``namespace`` (with one default engine); returns a token."""
        with self.lock:
            self.users[email] = {"email": email, "full_name": name or email.split("@")[0],
                                 "default_namespace": namespace, "namespaces": [namespace]}
            self.engines.setdefault(namespace, [
                {"id": "gcp-batch", "name": "GCP Batch", "provider": "GCP", "region": "us-central1",
                 "default": False, "state": "HEALTHY"},
                {"id": "cromwell-local", "name": "Cromwell (local)", "provider": "LOCAL", "region": None,
                 "default": True, "state": "HEALTHY"}])
            self.workflows.setdefault(namespace, [])
            token = token or make_token(email)
            self.tokens[token] = email
            return token

    def add_workflow(self, namespace: str, name: str, versions: list[str], *,
                     with_latest: bool = True) -> dict[str, Any]:
        """A registered workflow; ``with_latest=False`` leaves ``latestVersion`` out of listings."""
        with self.lock:
            wid = uuid.uuid4().hex[:12]
            entries = [{"workflowId": wid, "id": f"v{i + 1}-{uuid.uuid4().hex[:6]}", "versionName": v,
                        "workflowName": name, "createdAt": f"2024-01-{i + 1:02d}T00:00:00Z",
                        "descriptorType": "WDL", "deleted": False} for i, v in enumerate(versions)]
            workflow = {"internalId": wid, "source": "PRIVATE", "name": name, "description": "",
                        "latestVersion": entries[-1]["id"] if with_latest else None, "versions": entries,
                        "deleted": False, "labels": []}
            self.workflows.setdefault(namespace, []).append(workflow)
            return workflow

    def add_client(self, client_id: str, secret: str, user: str) -> None:
        with self.lock:
            self.clients[client_id] = (secret, user)

    # -- auth ----------------------------------------------------------------------------------

    def user_for(self, authorization: str | None) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        with self.lock:
            email = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            if email is None:
                raise ApiError(401, "Full authentication is required to access this resource")
            return self.users[email]

    def check_namespace(self, user: dict[str, Any], namespace: str) -> None:
        with self.lock:
            if namespace not in self.engines:
                raise ApiError(404, f"Namespace {namespace} not found")
            if namespace not in user["namespaces"]:
                raise ApiError(403, f"Access to namespace {namespace} is denied")

    def issue(self, email: str) -> dict[str, Any]:
        token = make_token(email)
        with self.lock:
            self.tokens[token] = email
        return {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": "openid"}

    def client_credentials(self, form: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            known = self.clients.get(form.get("client_id", ""))
        if known is None or known[0] != form.get("client_secret"):
            raise OAuthError("invalid_client", "Bad client credentials", status=401)
        if not form.get("resource"):
            raise OAuthError("invalid_request", "resource is required")
        return self.issue(known[1])

    def start_device(self, query: dict[str, str], base: str) -> dict[str, Any]:
        if query.get("client_id") != PUBLIC_CLIENT:
            raise OAuthError("invalid_client", "Unknown client", status=401)
        code = DeviceCode(secrets.token_urlsafe(16), secrets.token_hex(3).upper(), query["client_id"],
                          query.get("resource", ""), time.time() + self.device_expires_in)
        with self.lock:
            self.devices.append(code)
            self.device_requests.append(dict(query))
        uri = f"{base}/device"
        return {"device_code": code.device_code, "user_code": code.user_code, "verification_uri": uri,
                "verification_uri_complete": f"{uri}?user_code={code.user_code}",
                "interval": self.device_interval, "expires_in": self.device_expires_in}

    def poll_device(self, form: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            code = next((d for d in self.devices if d.device_code == form.get("device_code")), None)
            if code is None or code.client_id != form.get("client_id"):
                raise OAuthError("invalid_grant", "Unknown device code")
            if time.time() > code.expires_at:
                raise OAuthError("expired_token", "The device code has expired")
            if code.denied:
                raise OAuthError("access_denied", "The user denied the request")
            if self.slow_down_polls > 0:
                self.slow_down_polls -= 1
                raise OAuthError("slow_down", "Polling too fast")
            if code.approved_for is None:
                raise OAuthError("authorization_pending", "The user has not approved yet")
            self.devices.remove(code)
            return self.issue(code.approved_for)

    def approve_device(self, email: str, user_code: str | None = None) -> None:
        """What the user does in the browser: approve the (latest) pending code as ``email``."""
        with self.lock:
            code = next(d for d in reversed(self.devices) if user_code in (None, d.user_code))
            code.approved_for = email

    def deny_device(self) -> None:
        with self.lock:
            self.devices[-1].denied = True

    def expire_devices(self) -> None:
        with self.lock:
            for code in self.devices:
                code.expires_at = 0

    # -- runs ----------------------------------------------------------------------------------

    def submit(self, user: dict[str, Any], namespace: str, body: Any) -> list[dict[str, Any]]:
        """``POST /batch``: validate the BatchRunRequest, create one run per run request."""
        requests = body.get("run_requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise ApiError(400, "The batch request needs at least one run request")
        if body.get("workflow_type") != "WDL":
            raise ApiError(400, f"Unsupported workflow_type {body.get('workflow_type')!r}; "
                           "only WDL is supported")
        with self.lock:
            self.batches.append(body)
            if not any(e["id"] == body.get("engine_id") for e in self.engines[namespace]):
                raise ApiError(400, f"Engine {body.get('engine_id')} not found")
            if not self._workflow_exists(namespace, str(body.get("workflow_url"))):
                raise ApiError(400, f"Workflow {body.get('workflow_url')} not found")
            return [self._new_run(user, namespace, body, req) for req in body["run_requests"]]

    def _workflow_exists(self, namespace: str, url: str) -> bool:
        wid, _, vid = url.partition("/")
        return any(w["internalId"] == wid and any(v["id"] == vid for v in w["versions"])
                   for w in self.workflows.get(namespace, []))

    def _new_run(self, user: dict[str, Any], namespace: str, body: dict[str, Any],
                 request: dict[str, Any]) -> dict[str, Any]:
        params = {**(body.get("default_workflow_params") or {}), **(request.get("workflow_params") or {})}
        sleep = params.get("impute.sleep")
        running = float(sleep) if isinstance(sleep, int | float) and sleep > 0 else (
            self.running_seconds if self.running_seconds is not None else self.step_seconds)
        run = FakeRun(run_id=str(uuid.uuid4()), namespace=namespace, engine_id=body["engine_id"],
                      workflow_url=body["workflow_url"],
                      workflow_type_version=str(body.get("workflow_type_version") or ""),
                      params=params, tags={**(body.get("default_tags") or {}), **(request.get("tags") or {})},
                      submitted_by=user["email"], step=self.step_seconds, running=running,
                      outcome=str(params.get("impute.fail") or self.fail_state or COMPLETE))
        self.runs[run.run_id] = run
        return {"run_id": run.run_id, "state": "QUEUED"}

    def run(self, namespace: str, run_id: str) -> FakeRun:
        with self.lock:
            run = self.runs.get(run_id)
        if run is None or run.namespace != namespace:
            raise ApiError(404, f"Run {run_id} not found")
        return run

    def cancel(self, namespace: str, run_id: str) -> dict[str, Any]:
        with self.lock:
            run, now = self.run(namespace, run_id), time.time()
            state = run.state(now)
            if state in TERMINAL:
                raise ApiError(400, f"Run {run_id} is already {state} and cannot be canceled")
            if state != CANCELING:
                run.cancel_at = now
            return {"run_id": run_id, "state": CANCELING}

    def list_runs(self, namespace: str) -> list[FakeRun]:
        with self.lock:
            return sorted((r for r in self.runs.values() if r.namespace == namespace),
                          key=lambda r: r.submitted, reverse=True)
