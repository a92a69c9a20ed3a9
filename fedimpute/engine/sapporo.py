"""Running a sapporo WES server on 127.0.0.1 with cwltool or Toil called directly (no Docker).

sapporo's packaged ``run.sh`` wraps every engine in ``docker run``; machines here have
no Docker engine.  :func:`write_run_sh` derives our own ``run.sh`` from the installed
one at start-up, replacing only the launcher of the chosen runner (bodies in
:mod:`~fedimpute.engine.runners`: ``cwltool``, or ``toil-cwl-runner`` on a Toil batch system
such as Slurm), the output listing (our :mod:`~fedimpute.engine.list_outputs`, a second faster
than sapporo's CLI) and RO-Crate generation (skipped: it would also call Docker), so sapporo's
signal handling, and therefore cancel, stays intact.  Only the engine in use is advertised in
``service-info``, so the WES adapter picks it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fedimpute.engine.runners import CWLTOOL_BODY, toil_body, toil_cancel_body
from fedimpute.engine.toilenv import TOIL_VERSION, ensure_toil_venv
from fedimpute.engine.wesenv import ensure_wes_venv
from fedimpute.exceptions import FedImputeError

__all__ = ["BATCH_SYSTEMS", "RUNNERS", "SapporoServer", "ToilOptions", "free_port", "service_info",
           "wait_until_answers", "write_run_sh"]

URL_PREFIX = "/ga4gh/wes/v1"
RUNNERS = ("cwltool", "toil")
#: Toil's batch systems (its registry); others are refused at start, not in every run's log.
BATCH_SYSTEMS = ("single_machine", "slurm", "lsf", "grid_engine", "torque", "htcondor", "kubernetes", "mesos",
                 "aws_batch")


def service_info(runner: str = "cwltool") -> dict[str, Any]:
    """What ``service-info`` says: only the engine this server runs, so clients cannot ask for another."""
    version = TOIL_VERSION if runner == "toil" else "local"
    return {
        "workflow_type_versions": {"CWL": {"workflow_type_version": ["v1.0", "v1.1", "v1.2"]}},
        "supported_filesystem_protocols": ["file", "http", "https"],
        "workflow_engine_versions": {runner: {"workflow_engine_version": [version]}},
        "default_workflow_engine_parameters": {},
    }


def wait_until_answers(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float, *, what: str) -> None:
    """Poll ``url/service-info`` until it answers 200; a FedImputeError naming ``log`` when ``proc`` exits
    first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-1500:]
            raise FedImputeError(f"{what} exited at start-up (code {proc.returncode}):\n{tail}")
        try:
            if httpx.get(f"{url}/service-info", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise FedImputeError(f"{what} did not answer on {url} within {timeout:g} s; see {log}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _replace_function(text: str, name: str, body: str) -> str:
    start = text.index(f"function {name}() {{")
    end = text.index("\n}\n", start) + 3
    return text[:start] + f"function {name}() {{\n{body}\n}}\n" + text[end:]


@dataclass(frozen=True)
class ToilOptions:
    """How the ``toil`` runner runs: Toil's venv, batch system, core cap and job-store folder."""

    venv: Path
    batch_system: str = "single_machine"
    max_cores: int | None = None
    work_dir: Path | None = None


def write_run_sh(venv: Path, dest: Path, toil: ToilOptions | None = None) -> Path:
    """Write a Docker-free ``run.sh`` derived from the venv's sapporo package to ``dest``;
    with ``toil``, runs go to ``toil-cwl-runner`` (``run_toil`` and ``cancel`` replaced)."""
    probe = "import pathlib, sapporo; print(pathlib.Path(sapporo.__file__).parent / 'run.sh')"
    src = Path(subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                              check=True).stdout.strip())
    text = src.read_text()
    python = venv / "bin" / "python"
    text = _replace_function(text, "run_cwltool", CWLTOOL_BODY)
    if toil is not None:
        text = _replace_function(text, "run_toil", toil_body(venv=toil.venv, batch_system=toil.batch_system,
                                                             max_cores=toil.max_cores, work_dir=toil.work_dir,
                                                             python=python))
        text = _replace_function(text, "cancel", toil_cancel_body(toil.work_dir))
    text = _replace_function(text, "generate_ro_crate", "    :")
    lister = Path(__file__).with_name("list_outputs.py")
    text = _replace_function(text, "generate_outputs_list",
                             f'    "{python}" -I "{lister}" "${{run_dir}}" || {{ executor_error $?; }}')
    dest.write_text(text)
    dest.chmod(0o755)
    return dest


def _cli_value(venv: Path, *args: str) -> str:
    """sapporo-cli prints 'Label: value'; return the value."""
    out = subprocess.run([str(venv / "bin" / "sapporo-cli"), *args], capture_output=True, text=True, check=True)
    return out.stdout.strip().split(": ", 1)[-1]


@dataclass
class SapporoServer:
    """A sapporo process on 127.0.0.1; ``users`` (name -> password) switches bearer auth on.

    ``runner`` is ``cwltool`` (one process per run on this machine) or ``toil`` (``toil-cwl-runner``
    on ``batch_system``, e.g. ``slurm``; ``max_cores`` caps a run's cores; per-run job stores and
    work folders go under ``toil_work_dir``, which must be visible to every node, else in the run).
    """

    workdir: Path
    port: int = 0
    users: dict[str, str] = field(default_factory=dict)
    cancel_grace_seconds: int = 2
    runner: str = "cwltool"
    batch_system: str = "single_machine"
    max_cores: int | None = None
    toil_work_dir: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{URL_PREFIX}"

    @property
    def pid(self) -> int:
        """The server's pid (also its process group): what a later command needs to stop it."""
        if self.proc is None:
            raise FedImputeError("the WES server has no process yet; call SapporoServer.start() first")
        return self.proc.pid

    def run_dir(self, run_id: str) -> Path:
        """Where sapporo keeps a run (its ``stderr.log``, ``outputs/`` and, for Toil, ``toil-logs/``)."""
        return self.workdir / "runs" / run_id[:2] / run_id

    def _auth_config(self, venv: Path) -> Path:
        users = [{"username": u, "password_hash": _cli_value(venv, "hash-password", "--password", pw)}
                 for u, pw in self.users.items()]
        config = {"auth_enabled": True, "idp_provider": "sapporo",
                  "sapporo_auth_config": {"secret_key": _cli_value(venv, "generate-secret"),
                                          "expires_delta_hours": 24, "users": users},
                  "external_config": {"idp_url": "http://127.0.0.1:1/unused", "jwt_audience": "account",
                                      "client_mode": "public", "client_id": "unused", "client_secret": "unused"}}
        path = self.workdir / "auth_config.json"
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        return path

    def _toil_options(self) -> ToilOptions | None:
        """Checked before anything starts, so a wrong runner or core count is a clear error, not a failed run."""
        if self.runner not in RUNNERS:
            raise FedImputeError(f"unknown runner {self.runner!r}; choose one of {', '.join(RUNNERS)}")
        if self.max_cores is not None and self.max_cores < 1:
            raise FedImputeError(f"--max-cores must be a positive number of cores, not {self.max_cores}")
        if self.runner != "toil":
            return None
        if self.batch_system not in BATCH_SYSTEMS:
            raise FedImputeError(f"unknown Toil batch system {self.batch_system!r}; choose one of "
                                 f"{', '.join(BATCH_SYSTEMS)}")
        work_dir = self.toil_work_dir.expanduser().resolve() if self.toil_work_dir else None
        if work_dir:
            work_dir.mkdir(parents=True, exist_ok=True)
        return ToilOptions(ensure_toil_venv(), self.batch_system, self.max_cores, work_dir)

    def start(self, timeout: float = 30) -> SapporoServer:
        toil = self._toil_options()
        venv = ensure_wes_venv()
        (self.workdir / "runs").mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        (self.workdir / "service_info.json").write_text(json.dumps(service_info(self.runner)))
        run_sh = write_run_sh(venv, self.workdir / "run.sh", toil)
        cmd = [str(venv / "bin" / "sapporo"), "--host", "127.0.0.1", "--port", str(self.port),
               "--run-dir", str(self.workdir / "runs"), "--run-sh", str(run_sh),
               "--service-info", str(self.workdir / "service_info.json"), "--url-prefix", URL_PREFIX,
               "--cancel-grace-seconds", str(self.cancel_grace_seconds)]
        if self.users:
            cmd += ["--auth-config", str(self._auth_config(venv))]
        env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               "SAPPORO_CANCEL_GRACE_SECONDS": str(self.cancel_grace_seconds)}
        with (self.workdir / "sapporo.log").open("ab") as log:  # the server keeps its own copy of the fd
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self._wait_ready(self.proc, timeout)
        return self

    def _wait_ready(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        """Wait for ``service-info`` to answer; ``proc`` is the just-started server, to notice an early exit."""
        try:
            wait_until_answers(proc, self.url, self.workdir / "sapporo.log", timeout, what="the WES server")
        except FedImputeError:
            self.stop()
            raise

    def token(self, username: str) -> str:
        """A bearer token for ``username`` from sapporo's built-in identity provider."""
        response = httpx.post(f"{self.url}/token", data={"username": username, "password": self.users[username]})
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)

    def __enter__(self) -> SapporoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
