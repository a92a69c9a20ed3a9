"""CloudgeneSim: the in-memory state of a simulated Cloudgene 3 server.

Why lazy scheduling: every public method first calls _tick(), which applies
all lifecycle transitions whose time has come, in time order, so the server
needs no background thread and stays deterministic; advance() forces the next
transition for tests that must not depend on wall-clock time. One re-entrant
lock guards everything because the HTTP server and the test share this object
from different threads.
"""

from __future__ import annotations

import hashlib
import html
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from . import lifecycle
from .errors import ApiError, FrameworkError
from .model import (
    CANCELED,
    DEAD,
    DELETED,
    EXPORTING,
    FAILED,
    FAILED_NOTIFIED,
    IN_ENGINE,
    RETIRED,
    RUNNING,
    SUCCESS,
    SUCCESS_NOTIFIED,
    WAITING,
    InputFile,
    Job,
    OutputFile,
    Token,
    User,
    ms,
)

DEFAULT_PANELS = [
    {"id": "hapmap-2", "version": "2.0.0", "name": "HapMap 2 (GRCh37/hg19)",
     "populations": [("eur", "EUR"), ("afr", "AFR"), ("off", "Off")]},
    {"id": "1000g-phase-3-v5", "version": "2.0.0", "name": "1000 Genomes Phase 3 (Version 5)",
     "populations": [("afr", "AFR"), ("amr", "AMR"), ("eas", "EAS"), ("eur", "EUR"), ("sas", "SAS"),
                     ("off", "Off")]},
]  # fmt: skip
INPUT_IDS = {"refpanel", "files", "population", "build", "r2Filter", "phasing", "mode", "aesEncryption",
             "meta", "password", "check1", "check2"}  # fmt: skip
CHECKBOXES = {"aesEncryption", "meta", "check1", "check2"}
DEFAULTS = {"refpanel": "", "population": "", "build": "hg19", "r2Filter": "0", "phasing": "eagle",
            "mode": "imputation", "aesEncryption": "false", "meta": "false", "check1": "false",
            "check2": "false"}  # fmt: skip
DAY = 86400.0


class CloudgeneSim:
    """Server state shared by the HTTP app and the test.

    Options: app id/version; reference `panels` ({id, version, name, populations, build?});
    `max_running_per_user` (submit 400 above it); `engine_slots` (jobs running at once, the rest
    wait in state 1); `step_seconds` per lifecycle phase; `min_samples`/`max_samples`;
    `max_downloads` per file; `md5_sidecars`; `workdir` for workspaces; `keep_uploads` (False:
    count upload bytes only and run on a synthetic chromosome 20 of `synthetic_chunks` chunks).
    Observable: `jobs`, `download_gets`, `upload_bytes`, `requests`, `token_requests` (which token sent
    each request: requests_by_token()); controls: `maintenance`,
    `faults`, kill(), retire(), advance(), run_to_end(), add_user(), expire/revoke_token().
    """

    def __init__(
        self,
        *,
        app_id: str = "imputationserver2",
        app_version: str = "2.0.12",
        panels: list[dict] | None = None,
        max_running_per_user: int = 2,
        engine_slots: int = 1,
        step_seconds: float = 0.15,
        min_samples: int = 20,
        max_samples: int = 50000,
        max_downloads: int = 10,
        md5_sidecars: bool = False,
        workdir: Path | None = None,
        keep_uploads: bool = True,
        server_name: str = "Michigan Imputation Server (simulated)",
        synthetic_chunks: int = 1,
    ):
        self.app_id, self.app_version, self.app_name = app_id, app_version, "Genotype Imputation"
        self.panels = [dict(p) for p in (panels if panels is not None else DEFAULT_PANELS)]
        self.max_running_per_user, self.engine_slots = max_running_per_user, engine_slots
        self.step_seconds, self.min_samples, self.max_samples = step_seconds, min_samples, max_samples
        self.max_downloads, self.md5_sidecars, self.keep_uploads = max_downloads, md5_sidecars, keep_uploads
        self.workdir = (
            Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="cloudgene-sim-"))
        )
        self.server_name = server_name
        self.synthetic_chunks = synthetic_chunks  # 20 Mb chunks of the stand-in upload (keep_uploads False)
        self.contact_name, self.contact_mail = "the Imputation Server team", "imputation@example.org"
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.jobs: dict[str, Job] = {}
        self.quota_refusals = 0  # submits refused with "Only N jobs per user ..."
        self.peak_in_engine: Counter = Counter()  # most jobs per user in the engine at once
        self.maintenance = False
        self.download_gets: Counter = Counter()
        self.upload_bytes = 0
        self.requests: list[tuple[str, str]] = []
        self.agents: list[tuple[float, str, str]] = []  # (time, User-Agent, path) of every request
        self.token_requests: list[tuple[str, str, str | None]] = []  # (method, path, X-Auth-Token or None)
        self.faults: list = []
        self.totals: Counter = Counter()
        self._queue: list[str] = []
        self._downloads: dict[str, tuple[str, OutputFile]] = {}
        self._serial = 100
        self._last_id_ms = 0

    # ----------------------------------------------------------------- users and tokens
    def add_user(
        self,
        username: str,
        token: str,
        *,
        name: str | None = None,
        mail: str | None = None,
        expires_in_days: float | None = 30,
    ) -> None:
        """Create (or update) a user with an API token; the user's older API token then gets 403."""
        with self.lock:
            self.users[username] = User(username, name or username, mail)
            for record in self.tokens.values():
                if record.username == username and not record.session:
                    record.revoked = True
            never = expires_in_days is None or expires_in_days < 0
            self.tokens[token] = Token(username, None if never else time.time() + expires_in_days * DAY)

    def add_session_token(self, username: str, token: str) -> None:
        """A 24 h web-session token: the only kind allowed to DELETE a job."""
        with self.lock:
            self.tokens[token] = Token(username, time.time() + DAY, session=True)

    def expire_token(self, token: str) -> None:
        with self.lock:
            self.tokens[token].expires = time.time() - 1

    def revoke_token(self, token: str) -> None:
        with self.lock:
            self.tokens[token].revoked = True

    def authenticate(self, token: str | None) -> User:
        """The X-Auth-Token check: 401 unknown or expired, 403 revoked or superseded."""
        with self.lock:
            record = self.tokens.get(token or "")
            if record is None or (record.expires is not None and record.expires < time.time()):
                raise FrameworkError(401)
            if record.revoked:
                raise FrameworkError(403)
            return self.users[record.username]

    def is_session(self, token: str | None) -> bool:
        with self.lock:
            record = self.tokens.get(token or "")
            return bool(record and record.session)

    def verify(self, token: str | None) -> dict:
        """POST /api/v2/tokens/verify: always a 200 body; the '%s' is never formatted (sic)."""
        with self.lock:
            try:
                user = self.authenticate(token)
            except FrameworkError:
                return {
                    "valid": False,
                    "message": "Invalid API Token.",
                    "username": None,
                    "name": None,
                    "mail": None,
                    "expire": iso(time.time()),
                }
            expires = self.tokens[token].expires
            return {
                "valid": True,
                "message": "API Token was created by %s and is valid.",
                "username": user.username,
                "name": user.name,
                "mail": user.mail,
                "expire": iso(expires) if expires is not None else None,
            }

    # ----------------------------------------------------------------- apps and panels
    def require_service(self) -> None:
        if self.maintenance:
            raise ApiError(503, "This functionality is currently under maintenance.")

    def app_matches(self, app_id: str) -> bool:
        return app_id in (self.app_id, f"{self.app_id}@{self.app_version}")

    def find_panel(self, value: str) -> dict | None:
        """refpanel resolution: optional 'apps@' prefix, then '<id>@<version>' or a bare id (newest)."""
        ref = value[5:] if value.startswith("apps@") else value
        panel_id, _, version = ref.partition("@")
        found = [p for p in self.panels if p["id"] == panel_id and version in ("", p["version"])]
        return max(
            found, key=lambda p: [int(x) if x.isdigit() else 0 for x in p["version"].split(".")], default=None
        )

    def check_submit(self, user: User, app_id: str) -> None:
        """Everything that fails a submit before the form is read."""
        with self.lock:
            self.require_service()
            if not self.app_matches(app_id):
                if self.find_panel(app_id) is not None:
                    raise ApiError(404, f"Application '{app_id}' has no workflow section.")
                raise ApiError(404, f"Application '{app_id}' not found.")
            self._tick()
            active = sum(
                1 for j in self.jobs.values() if j.username == user.username and j.state in IN_ENGINE
            )
            if active >= self.max_running_per_user:
                self.quota_refusals += 1
                raise ApiError(
                    400, f"Only {self.max_running_per_user} jobs per user can be executed simultaneously."
                )

    # ----------------------------------------------------------------- submit
    def new_upload_dir(self) -> Path | None:
        if not self.keep_uploads:
            return None
        path = self.workdir / "uploads" / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    def count_upload(self, nbytes: int) -> None:
        with self.lock:
            self.upload_bytes += nbytes

    def submit(
        self,
        user: User,
        app_id: str,
        fields: list[tuple[str, str]],
        files: list[tuple[str, InputFile]],
        upload_dir: Path | None,
        user_agent: str,
    ) -> str:
        """Create a job from parsed form parts; unknown parameter names -> 400 (section 3.1)."""
        params, job_name, password = dict(DEFAULTS), "", None
        for raw_name, value in fields:
            name = _strip_input(raw_name)
            if name == "job-name":
                job_name = value
            elif name.endswith("-pattern"):
                continue
            elif name not in INPUT_IDS:
                raise ApiError(400, f"Parameter '{name}' not found.")
            elif name == "password":
                password = value or None
            elif name != "files":
                params[name] = "true" if name in CHECKBOXES else value
        inputs = []
        for raw_name, upload in files:
            name = _strip_input(raw_name)
            if name not in INPUT_IDS and name != "job-name" and not name.endswith("-pattern"):
                raise ApiError(400, f"Parameter '{name}' not found.")
            if name == "files":
                inputs = [f for f in inputs if f.name != upload.name] + [upload]
        with self.lock:
            return self._create_job(user, app_id, params, job_name, password, inputs, upload_dir, user_agent)

    def _create_job(self, user, app_id, params, job_name, password, inputs, upload_dir, user_agent) -> str:
        now = time.time()
        job_id = self._new_id(now)
        workspace = self.workdir / job_id
        (workspace / "input").mkdir(parents=True)
        if upload_dir is not None:
            upload_dir.rename(workspace / "input" / "files")
            inputs = [InputFile(f.name, workspace / "input" / "files" / f.path.name, f.size) for f in inputs]
        job = Job(
            id=job_id,
            name=html.escape(job_name) or job_id,
            application=f"{self.app_name} {self.app_version}",
            application_id=app_id,
            username=user.username,
            user_agent=user_agent,
            params=params,
            inputs=inputs,
            workspace=workspace,
            password=password or _password(),
            password_generated=password is None,
            submitted_on=ms(now),
            panel=self.find_panel(params["refpanel"]),
        )
        job.output_id, job.output_hash = self.new_serial(), secrets.token_hex(5)
        self.jobs[job_id] = job
        in_engine = sum(1 for j in self.jobs.values() if j.username == user.username and
                        (j.state in IN_ENGINE or j is job))
        self.peak_in_engine[user.username] = max(self.peak_in_engine[user.username], in_engine)
        if job.panel is None:  # "Application X is not installed or wrong permissions." (job log only)
            job.state, job.start_time, job.end_time = FAILED, ms(now), ms(now)
        else:
            self._queue.append(job_id)
            self._fill_slots(now)
        return job_id

    def _new_id(self, now: float) -> str:
        """job-yyyyMMdd-HHmmss-SSS, bumping the milliseconds to keep ids unique."""
        stamp = max(ms(now), self._last_id_ms + 1)
        self._last_id_ms = stamp
        return time.strftime("job-%Y%m%d-%H%M%S", time.localtime(stamp // 1000)) + f"-{stamp % 1000:03d}"

    def new_serial(self) -> int:
        with self.lock:
            self._serial += 1
            return self._serial

    # ----------------------------------------------------------------- job access
    def job_for(self, user: User, job_id: str) -> Job:
        """Own job lookup: 404 unknown or deleted, 403 someone else's."""
        with self.lock:
            self.require_service()
            self._tick()
            job = self.jobs.get(job_id)
            if job is None or job.state == DELETED:
                raise ApiError(404, f"Job {job_id} not found.")
            if job.username != user.username:
                raise ApiError(403, "Access denied.")
            return job

    def list_jobs(self, user: User) -> list[Job]:
        with self.lock:
            self.require_service()
            self._tick()
            mine = [j for j in self.jobs.values() if j.username == user.username and j.state != DELETED]
            return sorted(mine, key=lambda j: j.id, reverse=True)

    def position(self, job: Job) -> int:
        """0-based count of waiting jobs ahead; running jobs show 0; -1 outside the queue."""
        with self.lock:
            if job.state == WAITING and job.id in self._queue:
                return self._queue.index(job.id)
            return 0 if job.state in (RUNNING, EXPORTING) else -1

    def cancel(self, user: User, job_id: str) -> Job:
        with self.lock:
            job = self.job_for(user, job_id)
            if job.state in IN_ENGINE:
                self._leave_engine(job)
                lifecycle.cancel(self, job, time.time())
                self._fill_slots(time.time())
            return job

    def restart(self, user: User, job_id: str) -> None:
        with self.lock:
            job = self.job_for(user, job_id)
            if job.state != DEAD:
                raise ApiError(400, f"Job {job_id} is not pending.")
            job.state, job.steps, job.start_time, job.end_time = WAITING, [], 0, 0
            self._queue.append(job.id)
            self._fill_slots(time.time())

    def delete(self, user: User, job_id: str) -> Job:
        with self.lock:
            job = self.job_for(user, job_id)
            self._leave_engine(job)
            job.state = DELETED
            for f in job.files:
                self._downloads.pop(f.hash, None)
            shutil.rmtree(job.workspace, ignore_errors=True)
            self._fill_slots(time.time())
            return job

    # ----------------------------------------------------------------- downloads and counters
    def register_download(self, job: Job, name: str, path: Path) -> OutputFile:
        size = path.stat().st_size
        digest = hashlib.sha256(f"{name}{size}{secrets.token_hex(16)}".encode()).hexdigest()
        record = OutputFile(name, path, digest, self.max_downloads, size)
        self._downloads[digest] = (job.id, record)
        return record

    def open_download(self, file_hash: str, name: str) -> OutputFile:
        """Every call is one GET that reached the handler: it is counted and spends one download."""
        with self.lock:
            self.download_gets[name] += 1
            entry = self._downloads.get(file_hash)
            if entry is None or entry[1].name != name:
                raise ApiError(404, "download not found.")
            record = entry[1]
            if record.count == 0:
                raise ApiError(400, "number of max downloads exceeded.")
            if not record.path.is_file():
                raise ApiError(404, "File not found in workspace.")
            if record.count > 0:
                record.count -= 1
            return record

    def count_success(self, job: Job) -> None:
        samples = len(job.vcfs[0].samples) if job.vcfs else 0
        self.totals.update(
            {
                "runs": 1,
                "samples": samples,
                "chromosomes": len(job.vcfs),
                "genotypes": samples * sum(v.n_sites for v in job.vcfs),
            }
        )

    def counters(self) -> dict:
        with self.lock:
            self._tick()
            waiting = sum(1 for j in self.jobs.values() if j.state in IN_ENGINE)
            complete = {key: self.totals[key] for key in ("runs", "samples", "chromosomes", "genotypes")}
            return {"complete": complete, "queue": {"size": waiting}, "users": len(self.users)}

    # ----------------------------------------------------------------- test controls
    def kill(self, job_id: str) -> None:
        """Simulate a server restart interrupting the job: state -1 (DEAD), restartable."""
        with self.lock:
            self._tick()
            job = self.jobs[job_id]
            self._leave_engine(job)
            job.state = DEAD
            self._fill_slots(time.time())

    def retire(self, job_id: str, *, notify_only: bool = False) -> int:
        """4 -> 8 (5/6 -> 9) with deletedOn set, then -> 7 with files deleted (unless notify_only)."""
        with self.lock:
            self._tick()
            job = self.jobs[job_id]
            if job.state in (SUCCESS, FAILED, CANCELED):
                job.state = SUCCESS_NOTIFIED if job.state == SUCCESS else FAILED_NOTIFIED
                job.deleted_on = ms(time.time() + 3 * DAY)
            if not notify_only and job.state in (SUCCESS_NOTIFIED, FAILED_NOTIFIED):
                job.state = RETIRED
                shutil.rmtree(job.workspace / "output", ignore_errors=True)
            return job.state

    def advance(self, job_id: str | None = None) -> int | None:
        """Force the next lifecycle transition now: of job_id if it is running, otherwise of the
        running job that is due first (which frees a slot for waiting jobs). Returns the state of
        job_id (or of the advanced job)."""
        with self.lock:
            now = time.time()
            self._tick(now)
            job = self.jobs.get(job_id) if job_id else None
            target = job if job is not None and job.due is not None else self._earliest_due()
            if target is not None:
                self._run_phase(target, now)
            shown = job or target
            return shown.state if shown is not None else None

    def run_to_end(self, job_id: str | None = None, max_steps: int = 1000) -> int | None:
        """Advance until job_id (or every job) has left the engine; returns the final state."""
        for _ in range(max_steps):
            with self.lock:
                jobs = [self.jobs[job_id]] if job_id else list(self.jobs.values())
                if not any(j.state in IN_ENGINE for j in jobs):
                    return self.jobs[job_id].state if job_id else None
                self.advance(job_id)
        raise RuntimeError("job did not finish")

    def log_agent(self, agent: str, path: str) -> None:
        with self.lock:
            self.agents.append((time.time(), agent, path))

    def log_token(self, method: str, path: str, token: str | None) -> None:
        with self.lock:
            self.token_requests.append((method, path, token))

    def requests_by_token(self, fragment: str = "") -> dict[str | None, list[tuple[str, str]]]:
        """token -> the (method, path) of each request it sent whose path holds ``fragment`` (None: no token)."""
        with self.lock:
            found: dict[str | None, list[tuple[str, str]]] = {}
            for method, path, token in self.token_requests:
                if fragment in path:
                    found.setdefault(token, []).append((method, path))
            return found

    def take_fault(self, method: str, path: str):
        """Log the request and pop one use of the first matching fault spec, if any."""
        with self.lock:
            self.requests.append((method, path))
            for fault in self.faults:
                if fault.times != 0 and fault.matches(method, path):
                    fault.times -= 1 if fault.times > 0 else 0
                    return fault
            return None

    # ----------------------------------------------------------------- scheduler internals
    def _earliest_due(self) -> Job | None:
        running = [j for j in self.jobs.values() if j.due is not None]
        return min(running, key=lambda j: j.due, default=None)

    def _tick(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        while (job := self._earliest_due()) is not None and job.due <= now:
            self._run_phase(job, job.due)

    def _run_phase(self, job: Job, at: float) -> None:
        lifecycle.run_phase(self, job, at)
        if job.state not in IN_ENGINE:
            self._fill_slots(at)

    def _fill_slots(self, at: float) -> None:
        while (
            self._queue
            and sum(1 for j in self.jobs.values() if j.state in (RUNNING, EXPORTING)) < self.engine_slots
        ):
            lifecycle.start(self, self.jobs[self._queue.pop(0)], at)

    def _leave_engine(self, job: Job) -> None:
        if job.id in self._queue:
            self._queue.remove(job.id)
        job.next_phase = job.due = None


def _strip_input(name: str) -> str:
    return name[len("input-") :] if name.startswith("input-") else name


def _password() -> str:
    return "".join(
        secrets.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(16)
    )


def iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}Z"
