"""Starting, stopping and describing the local engine: a sapporo WES server on a loopback port,
behind the gateway (tokens, partner scoping, TLS; :mod:`~fedimpute.engine.gateway`).

Both outlive the command that starts them (their own sessions); their pids, ports and URLs
are kept in ``FEDIMPUTE_HOME/engine/engine.json`` (0600), and the engine is registered as the
service ``local`` (protocol ``local``: the WES adapter with the shipped workflow and the local
panel registry), reached through the gateway's loopback listener with the home's own token.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from fedimpute.catalogue import make_service
from fedimpute.credentials import Credentials
from fedimpute.engine.node_submit import PARTNER_TAG
from fedimpute.engine.node_tokens import NodeTokens
from fedimpute.engine.options import EngineOptions
from fedimpute.engine.sapporo import URL_PREFIX, SapporoServer, free_port, wait_until_answers
from fedimpute.engine.toolcheck import check_tools
from fedimpute.engine.tools import missing_tools
from fedimpute.exceptions import ServiceNotFoundError, UsageError
from fedimpute.paths import home_dir, write_private
from fedimpute.processes import pid_alive
from fedimpute.store import Store

__all__ = ["engine_runs", "engine_start", "engine_status", "engine_stop"]

LOCAL = "local"


def _state_file(home: Path) -> Path:
    return home / "engine" / "engine.json"


def _running(state: dict[str, Any]) -> bool:
    if not state or not pid_alive(state["pid"]) or not pid_alive(state.get("gateway_pid", state["pid"])):
        return False
    try:
        return httpx.get(f"{state['url']}/service-info", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def engine_status(home: Path | None = None) -> dict[str, Any]:
    home = home_dir(home)
    path = _state_file(home)
    state = json.loads(path.read_text()) if path.is_file() else {}
    running = _running(state)
    from fedimpute.engine.panels import registry_panels

    def kept(key: str) -> Any:
        return state.get(key) if running else None

    return {"running": running, "pid": kept("pid"), "url": kept("url"), "public_url": kept("public_url"),
            "started_at": kept("started_at"), "runner": kept("runner"), "batch_system": kept("batch_system"),
            "workdir": str(home / "engine"), "panels": [p.panel_id for p in registry_panels(LOCAL, home)],
            "partners": [t["name"] for t in NodeTokens(home).list()],
            "missing_tools": missing_tools("bcftools", "tabix", "minimac4", "beagle", "eagle"),
            "tools": kept("tools")}


def engine_start(port: int | None = None, home: Path | None = None,
                 options: EngineOptions | None = None) -> dict[str, Any]:
    """Start the engine unless it runs; (re-)register the ``local`` service; return the status.

    The WES server listens on a free loopback port; the gateway (:mod:`~fedimpute.engine.gateway`)
    in front of it on ``options.address`` and ``port``."""
    home = home_dir(home)
    tokens = NodeTokens(home)
    options = (options or EngineOptions()).check(has_partners=tokens.has_partners())
    status = engine_status(home)
    if status["running"]:
        _refuse_other_options(home, port, options)
    else:
        engine_stop(home)  # whatever half of an earlier engine is left
        # Before anything is launched: the tools must be the programs and versions the workflow was
        # tested with (raises a clear ToolCheckError otherwise). Their versions are kept for provenance.
        tools = check_tools()
        state = _launch(home, port, options)
        state |= {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "tools": tools}
        write_private(_state_file(home), json.dumps(state))
        status = engine_status(home)
    credentials = Credentials(home, environment=False)
    tokens.owner_token(lambda: _shared(credentials), lambda token: credentials.set_token(LOCAL, token))
    store = Store(home)
    try:  # settings the user gave the service (chunking, limits) survive a restart; the engine's own are reset
        existing = store.get_service(LOCAL)
        kept = existing.settings if existing.protocol == "local" else {}
    except ServiceNotFoundError:
        kept = {}
    settings = {**kept, "workflow": "impute", "panels": "local", "poll_interval": "0.5"}
    service = make_service(LOCAL, "local", status["url"], description="fedimpute local imputation engine",
                           location="this machine", settings=[f"{k}={v}" for k, v in settings.items()])
    store.add_service(service, replace=True)
    return status


def _refuse_other_options(home: Path, port: int | None, options: EngineOptions) -> None:
    state = json.loads(_state_file(home).read_text())
    differ = [k for k, v in options.as_dict().items() if state.get(k) != v]
    if port and state.get("port") != port:
        differ.append("port")
    if differ:
        raise UsageError(f"the engine already runs with other {', '.join(differ)}; stop it with "
                         "`fedimpute engine stop`, then start it again")


def _shared(credentials: Credentials) -> str | None:
    token = credentials.token(LOCAL)
    return token.get_secret_value() if token is not None else None


def _launch(home: Path, port: int | None, options: EngineOptions) -> dict[str, Any]:
    """Start the WES server, then the gateway before it; the state ``engine.json`` keeps."""
    missing = [m for m in ("starlette", "uvicorn", "python_multipart") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"the engine's gateway needs {', '.join(missing)}: install fedimpute's engine extra "
                         "(`pip install 'fedimpute[engine]'`)")
    runner: dict[str, Any] = {} if options.runner == "cwltool" else {
        "runner": options.runner, "batch_system": options.batch_system, "max_cores": options.max_cores,
        "toil_work_dir": Path(options.work_dir) if options.work_dir else None}
    server = SapporoServer(home / "engine", port=0, cancel_grace_seconds=2, **runner).start(timeout=60)
    port = port or free_port()
    plain_loopback = options.loopback and not options.tls
    local_port = port if plain_loopback else free_port()
    cmd = [sys.executable, "-m", "fedimpute.engine.gateway_serve", "--home", str(home), "--upstream", server.url,
           "--engine", options.runner, "--host", options.address, "--port", str(port)]
    if not plain_loopback:
        cmd += ["--local-port", str(local_port)]
    if options.tls:
        cmd += ["--ssl-certfile", str(options.ssl_certfile), "--ssl-keyfile", str(options.ssl_keyfile)]
    tmp = home / "engine" / "tmp"
    tmp.mkdir(exist_ok=True, mode=0o700)
    with (home / "engine" / "gateway.log").open("ab") as log:
        gateway = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, "TMPDIR": str(tmp)})
    url = f"http://127.0.0.1:{local_port}{URL_PREFIX}"
    wait_until_answers(gateway, url, home / "engine" / "gateway.log", 30, what="the engine's gateway")
    scheme = "https" if options.tls else "http"
    public = None if plain_loopback else f"{scheme}://{options.address}:{port}{URL_PREFIX}"
    return {"pid": server.pid, "gateway_pid": gateway.pid, "port": port, "url": url, "public_url": public,
            "upstream": server.url, **options.as_dict()}


def engine_runs(home: Path | None = None) -> list[dict[str, Any]]:
    """Every run on the engine, the partners' too (the owner's view): ``[{run_id, state, partner,
    fedimpute_key, start_time, end_time}]``, newest first; ``partner`` is None for the home's own runs."""
    home = home_dir(home)
    status = engine_status(home)
    if not status["running"]:
        raise UsageError("the local engine is not running; start it with `fedimpute engine start`")
    token = Credentials(home, environment=False).token(LOCAL)
    headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
    runs: list[dict[str, Any]] = []
    page: str | None = None
    with httpx.Client(timeout=30, trust_env=False) as http:
        while True:
            params: dict[str, str | int] = {"page_size": 1000, **({"page_token": page} if page else {})}
            body = http.get(f"{status['url']}/runs", params=params, headers=headers).raise_for_status().json()
            for run in body.get("runs") or []:
                tags = run.get("tags") or {}
                runs.append({"run_id": run["run_id"], "state": run.get("state"), "partner": tags.get(PARTNER_TAG),
                             "fedimpute_key": tags.get("fedimpute_key"), "start_time": run.get("start_time"),
                             "end_time": run.get("end_time")})
            page = body.get("next_page_token")
            if not page:
                return runs


def _stop_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            if not pid_alive(pid):
                return
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def engine_stop(home: Path | None = None) -> dict[str, Any]:
    home = home_dir(home)
    path = _state_file(home)
    if path.is_file():
        state = json.loads(path.read_text())
        for key in ("gateway_pid", "pid"):
            if state.get(key):
                _stop_group(int(state[key]))
        path.unlink(missing_ok=True)
    return engine_status(home)
