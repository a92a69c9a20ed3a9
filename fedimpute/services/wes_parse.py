"""Reading GA4GH WES 1.0/1.1 answers, tolerating the known server differences.

Facts from the WES reference: list responses use ``runs`` (spec, sapporo) or
``workflows`` (wes-service, Toil); ``outputs`` is an object (spec, CWL style) or
sapporo's list of ``{file_name, file_url}``; ``run_log.stdout``/``stderr`` are inline
text, absolute URLs or URLs relative to the run; end times may lack the ``Z``; states
outside the spec are never terminal.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from fedimpute.html_text import html_to_text
from fedimpute.models import JobStatus, MessageLevel
from fedimpute.redaction import redact
from fedimpute.services.base import RemoteFile, RemoteJob, RemoteMessage, RemoteStep

__all__ = ["JOB_TAG", "KEY_TAG", "STATES", "map_state", "parse_outputs", "parse_run", "parse_time", "run_list",
           "tag_fields"]

#: Run tags fedimpute sends with every run: the job's name and fedimpute's job id (the submission key).
JOB_TAG, KEY_TAG = "fedimpute_job", "fedimpute_key"

STATES: dict[str, JobStatus] = {
    "QUEUED": JobStatus.QUEUED,
    "INITIALIZING": JobStatus.QUEUED,
    "RUNNING": JobStatus.RUNNING,
    "PAUSED": JobStatus.RUNNING,
    "CANCELING": JobStatus.RUNNING,
    "COMPLETE": JobStatus.COMPLETED,
    "EXECUTOR_ERROR": JobStatus.FAILED,
    "SYSTEM_ERROR": JobStatus.FAILED,
    "PREEMPTED": JobStatus.FAILED,
    "CANCELED": JobStatus.CANCELLED,
    "DELETED": JobStatus.CANCELLED,  # sapporo extension, after DELETE /runs/{id}
}
_PROGRESS = re.compile(r"^(INFO|WARNING|ERROR)\b.*\[(job|step|workflow) ", re.I)
#: Lines kept from the whole log, not only its tail: what progress is counted from (every finished job,
#: the local engine's chunk plans), so that a long run's count does not shrink to what its tail shows.
_COUNTED = re.compile(r"^fedimpute: |^INFO\b.*\[job [^]]+\] completed success")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # cwltool colours its log levels
MAX_LOG_MESSAGES = 40
MAX_COUNTED_MESSAGES = 2000


def map_state(state: str | None, table: dict[str, JobStatus] = STATES) -> JobStatus:
    """WES state → JobStatus (``table``: a dialect's own, e.g. Workbench's); anything unknown (UNKNOWN,
    DELETING, vendor states) is still running."""
    return table.get(str(state or "").upper(), JobStatus.RUNNING)


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def tag_fields(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(job name, submission key)`` from the run's fedimpute tags (in its request, or beside it)."""
    request = body.get("request")
    tags = (request.get("tags") if isinstance(request, dict) else None) or body.get("tags")
    if not isinstance(tags, dict):
        return None, None
    name, key = (str(tags[k]) if tags.get(k) else None for k in (JOB_TAG, KEY_TAG))
    return name, key


def run_list(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """Items and next page token of a ListRuns answer (``runs`` or ``workflows``; ``""``/null = end)."""
    items = body.get("runs")
    if items is None:
        items = body.get("workflows") or []
    token = body.get("next_page_token")
    return list(items), (token or None)


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://")) or (text.startswith("../") and "\n" not in text)


def log_text_or_url(value: Any, run_url: str) -> tuple[str | None, str | None]:
    """``(inline text, url to fetch)`` for a run_log stdout/stderr field."""
    if not isinstance(value, str) or not value.strip():
        return None, None
    if _is_url(value.strip()):
        return None, urljoin(run_url, value.strip())
    return value, None


def _log_messages(text: str | None, failed: bool) -> list[RemoteMessage]:
    if not text:
        return []
    lines = [_ANSI.sub("", ln).rstrip() for ln in text.splitlines() if ln.strip()]
    if failed:  # a failure: its last words
        chosen = lines[-MAX_LOG_MESSAGES:]
    else:
        counted = [i for i, ln in enumerate(lines) if _COUNTED.match(ln)][-MAX_COUNTED_MESSAGES:]
        recent = [i for i, ln in enumerate(lines) if _PROGRESS.match(ln)][-MAX_LOG_MESSAGES:]
        chosen = [lines[i] for i in sorted({*counted, *recent})]
    out = []
    for ln in chosen:
        level = MessageLevel.ERROR if ln.startswith("ERROR") or (failed and ln is chosen[-1]) else (
            MessageLevel.WARNING if ln.startswith("WARNING") else MessageLevel.INFO)
        out.append(RemoteMessage(level=level, text=redact(html_to_text(ln))))
    return out


def parse_outputs(outputs: Any) -> tuple[list[RemoteFile], list[str]]:
    """Downloadable files, and notes about outputs that are not reachable over HTTP."""
    files: list[RemoteFile] = []
    notes: list[str] = []
    if isinstance(outputs, list):  # sapporo: [{file_name, file_url}]
        for item in outputs:
            if isinstance(item, dict) and item.get("file_name") and item.get("file_url"):
                files.append(RemoteFile(name=item["file_name"], url=item["file_url"]))
        return files, notes
    if isinstance(outputs, dict):  # spec / CWL output object
        for key, value in outputs.items():
            _collect(key, value, files, notes)
    return files, notes


def _collect(key: str, value: Any, files: list[RemoteFile], notes: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect(key, item, files, notes)
    elif isinstance(value, dict) and value.get("class") in ("File", "Directory"):
        location = str(value.get("location") or value.get("path") or "")
        name = value.get("basename") or location.rstrip("/").rsplit("/", 1)[-1] or key
        if location.startswith(("http://", "https://")) and value.get("class") == "File":
            files.append(RemoteFile(name=name, url=location, size_hint=str(value.get("size") or "") or None))
        else:
            notes.append(f"output {key} ({name}) is at {location or 'an unknown place'}, not downloadable over HTTP")
        for item in value.get("listing") or []:
            _collect(key, item, files, notes)
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        files.append(RemoteFile(name=value.rstrip("/").rsplit("/", 1)[-1] or key, url=value))


def parse_run(body: dict[str, Any], *, stderr_text: str | None = None) -> RemoteJob:
    """A RunLog (or RunStatus) as a RemoteJob; ``stderr_text`` is the fetched log when it was a URL."""
    state = str(body.get("state") or "UNKNOWN")
    status = map_state(state)
    log = body.get("run_log") or {}
    inline_err, _ = log_text_or_url(log.get("stderr"), "")
    failed = status is JobStatus.FAILED
    messages = _log_messages(stderr_text or inline_err, failed)
    files, notes = parse_outputs(body.get("outputs"))
    messages += [RemoteMessage(level=MessageLevel.WARNING, text=n) for n in notes] if status.is_terminal else []
    steps = [RemoteStep(name="Workflow run", messages=messages)] if messages else []
    for task in body.get("task_logs") or []:
        if isinstance(task, dict) and task.get("name"):
            code = task.get("exit_code")
            steps.append(RemoteStep(name=str(task["name"]), messages=[RemoteMessage(
                time=parse_time(task.get("end_time")),
                level=MessageLevel.ERROR if code not in (None, 0) else MessageLevel.INFO,
                text=f"exit code {code}" if code is not None else "started")]))
    error = None
    if failed:
        tail = [m.text for m in messages if m.level is MessageLevel.ERROR] or [m.text for m in messages[-3:]]
        exit_code = log.get("exit_code")
        error = f"{state}" + (f" (exit code {exit_code})" if exit_code is not None else "") + \
            (f": {tail[-1]}" if tail else "")
    name, key = tag_fields(body)
    return RemoteJob(
        remote_id=str(body.get("run_id")), name=name, submission_key=key, status=status, remote_state=state,
        started_at=parse_time(log.get("start_time") or body.get("start_time")),
        finished_at=parse_time(log.get("end_time") or body.get("end_time")) if status.is_terminal else None,
        steps=steps, outputs=files if status is JobStatus.COMPLETED else [], error=error,
    )
