"""Starting, stopping and describing the local engine (a sapporo WES server on 127.0.0.1).

The server outlives the command that starts it (its own session); its pid, port and URL
are kept in ``FEDIMPUTE_HOME/engine/engine.json``, and it is registered as the service
``local`` (protocol ``local``: the WES adapter with the shipped workflow and the local
panel registry).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx

from fedimpute.catalogue import make_service
from fedimpute.engine.sapporo import SapporoServer
from fedimpute.engine.toolcheck import check_tools
from fedimpute.engine.tools import missing_tools
from fedimpute.paths import home_dir
from fedimpute.store import Store

__all__ = ["engine_start", "engine_status", "engine_stop"]

LOCAL = "local"


def _state_file(home: Path) -> Path:
    return home / "engine" / "engine.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def engine_status(home: Path | None = None) -> dict[str, Any]:
    home = home_dir(home)
    path = _state_file(home)
    state = json.loads(path.read_text()) if path.is_file() else {}
    running = bool(state) and _alive(state["pid"])
    if running:
        try:
            running = httpx.get(f"{state['url']}/service-info", timeout=2).status_code == 200
        except httpx.TransportError:
            running = False
    from fedimpute.engine.panels import registry_panels

    return {"running": running, "pid": state.get("pid") if running else None,
            "url": state.get("url") if running else None, "started_at": state.get("started_at") if running else None,
            "workdir": str(home / "engine"), "panels": [p.panel_id for p in registry_panels(LOCAL, home)],
            "missing_tools": missing_tools("bcftools", "tabix", "minimac4", "beagle", "eagle"),
            "tools": state.get("tools") if running else None}


def engine_start(port: int | None = None, home: Path | None = None) -> dict[str, Any]:
    """Start the engine unless it runs; (re-)register the ``local`` service; return the status."""
    home = home_dir(home)
    status = engine_status(home)
    if not status["running"]:
        # Before anything is launched: the tools must be the programs and versions the workflow was
        # tested with (raises a clear ToolCheckError otherwise). Their versions are kept for provenance.
        tools = check_tools()
        server = SapporoServer(home / "engine", port=port or 0, cancel_grace_seconds=2).start(timeout=60)
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        _state_file(home).write_text(json.dumps({"pid": server.pid, "port": server.port, "url": server.url,
                                                 "started_at": started, "tools": tools}))
        status = engine_status(home)
    service = make_service(LOCAL, "local", status["url"], description="fedimpute local imputation engine",
                           location="this machine", settings=["workflow=impute", "panels=local",
                                                              "poll_interval=0.5"])
    Store(home).add_service(service, replace=True)
    return status


def engine_stop(home: Path | None = None) -> dict[str, Any]:
    home = home_dir(home)
    path = _state_file(home)
    if path.is_file():
        pid = json.loads(path.read_text())["pid"]
        try:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(100):
                if not _alive(pid):
                    break
                time.sleep(0.1)
            else:
                os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        path.unlink(missing_ok=True)
    return engine_status(home)
