"""Reading Workbench runs: an ExtendedRun (detail) or ExtendedRunStatus (list item) as a RemoteJob.

Workbench answers in WES's shapes with more in them, so the WES reader's pieces are reused
(:mod:`fedimpute.services.wes_parse`: the state table, times, the fedimpute tags) and only the
extensions are read here: its extra states, the ``events`` log, task logs with stderr tails,
``errors[]``, and outputs that are plain URL values anywhere in the ``outputs`` object.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from fedimpute.models import JobStatus, MessageLevel
from fedimpute.redaction import redact
from fedimpute.services import wes_parse
from fedimpute.services.base import RemoteFile, RemoteJob, RemoteMessage, RemoteStep
from fedimpute.services.wes_parse import parse_time, tag_fields

__all__ = ["STATES", "map_state", "output_files", "parse_run"]

#: Workbench run state -> JobStatus: WES's table and Workbench's own states.  Anything not listed is
#: treated as still running.
STATES: dict[str, JobStatus] = {
    **wes_parse.STATES,
    "PREPROCESSING": JobStatus.QUEUED,
    "COMPLETE_WITH_ERRORS": JobStatus.FAILED, "PREPROCESSING_ERROR": JobStatus.FAILED,
    "NOT_PROCESSED": JobStatus.FAILED,
}  # fmt: skip


def map_state(state: str | None) -> JobStatus:
    """Workbench state -> JobStatus; unknown (new, or ``UNKNOWN``) states are never terminal."""
    return wes_parse.map_state(state, STATES)


def parse_run(data: dict[str, Any]) -> RemoteJob:
    """An ExtendedRun (run detail) or an ExtendedRunStatus (list item) as a RemoteJob."""
    state = str(data.get("state") or "UNKNOWN").upper()
    status = map_state(state)
    run_log = _object(data.get("run_log"))
    events = [e for e in data.get("events") or [] if isinstance(e, dict)]
    files, elsewhere = output_files(_object(data.get("outputs")))
    steps = [s for s in (_events_step(events), *_task_steps(data.get("task_logs") or []),
                         _elsewhere_step(elsewhere)) if s is not None]
    submitted = next((e.get("created_at") for e in events if e.get("event_type") == "RUN_SUBMITTED"), None)
    name, key = tag_fields(data)
    return RemoteJob(
        remote_id=str(data["run_id"]), name=name, submission_key=key,
        status=status, remote_state=state, submitted_at=parse_time(submitted),
        started_at=parse_time(run_log.get("start_time") or data.get("start_time")),
        finished_at=parse_time(run_log.get("end_time") or data.get("end_time")),
        steps=steps, outputs=files,
        error=_error_text(state, data, events, run_log) if status is JobStatus.FAILED else None)


def _object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a field a server left out or garbled)."""
    return value if isinstance(value, dict) else {}


def output_files(outputs: dict[str, Any]) -> tuple[list[RemoteFile], list[tuple[str, str]]]:
    """http(s) links among the output values (nested lists and objects too) as RemoteFiles, and
    ``(output name, URL)`` for the other URLs (gs://, s3://, drs://...), which fedimpute cannot fetch."""
    files: list[RemoteFile] = []
    elsewhere: list[tuple[str, str]] = []
    names: set[str] = set()
    for key, url in _urls(outputs):
        if not url.lower().startswith(("http://", "https://")):
            elsewhere.append((key, url))
            continue
        name = _file_name(key, url, names)
        names.add(name)
        files.append(RemoteFile(name=name, url=url))
    return files, elsewhere


def _urls(value: Any, key: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(key, value)] if "://" in value else []
    if isinstance(value, dict):
        return [u for k, v in value.items() for u in _urls(v, f"{key}.{k}" if key else str(k))]
    if isinstance(value, list):
        return [u for item in value for u in _urls(item, key)]
    return []


def _file_name(key: str, url: str, taken: set[str]) -> str:
    """The URL's last path segment; clashing names go into a folder named after the output."""
    base = PurePosixPath(unquote(urlsplit(url).path)).name or key.rsplit(".", 1)[-1] or "output"
    name = base
    if name in taken:
        name = f"{key.rsplit('.', 1)[-1] or 'output'}/{base}"
    counter = 2
    while name in taken:
        name, counter = f"{key.rsplit('.', 1)[-1] or 'output'}-{counter}/{base}", counter + 1
    return name


def _events_step(events: list[dict[str, Any]]) -> RemoteStep | None:
    messages = [m for m in (_event_message(e) for e in events) if m is not None]
    return RemoteStep(name="Workbench events", messages=messages) if messages else None


def _event_message(event: dict[str, Any]) -> RemoteMessage | None:
    kind = str(event.get("event_type") or "")
    meta = _object(event.get("metadata"))
    note = str(meta.get("message") or "").strip()
    level = MessageLevel.INFO
    if kind == "STATE_TRANSITION":
        text = f"state {meta.get('old_state') or '?'} -> {meta.get('new_state') or '?'}"
        if map_state(meta.get("new_state")) is JobStatus.FAILED or meta.get("errors"):
            level = MessageLevel.ERROR
        text += "".join(f"; {e}" for e in meta.get("errors") or [])
    elif kind == "ERROR_OCCURRED":
        text = "error: " + ("; ".join(str(e) for e in meta.get("errors") or []) or note)
        level = MessageLevel.ERROR
    elif kind == "RUN_SUBMITTED":
        text = f"submitted by {meta['submitted_by']}" if meta.get("submitted_by") else "submitted"
    elif kind == "RUN_SUBMITTED_TO_ENGINE":
        text = f"sent to the engine as {meta.get('external_id') or '?'}"
    elif kind == "PREPROCESSING":
        text = f"preprocessing: {meta.get('outcome') or 'started'}"
        level = MessageLevel.ERROR if str(meta.get("outcome")).upper() == "FAILURE" else level
    else:
        text = kind.replace("_", " ").lower() or "event"
    if note and note not in text:
        text = f"{text} ({note})"
    return RemoteMessage(time=parse_time(event.get("created_at")), level=level, text=redact(text))


def _task_steps(task_logs: list[Any]) -> list[RemoteStep]:
    steps: list[RemoteStep] = []
    for task in task_logs:
        if not isinstance(task, dict):
            continue
        code = task.get("exit_code")
        text = f"{task.get('state') or 'state unknown'}" + (f"; exit code {code}" if code is not None else "")
        level = MessageLevel.ERROR if isinstance(code, int) and code != 0 else (
            MessageLevel.RUNNING if map_state(task.get("state")) is JobStatus.RUNNING else MessageLevel.INFO)
        messages = [RemoteMessage(time=parse_time(task.get("start_time")), level=level, text=text)]
        tail = _inline_tail(task.get("stderr")) if level is MessageLevel.ERROR else ""
        if tail:
            messages.append(RemoteMessage(level=MessageLevel.ERROR, text=redact(tail)))
        name = task.get("pretty_name") or task.get("name") or task.get("task_id") or f"task {len(steps) + 1}"
        steps.append(RemoteStep(name=str(name), messages=messages))
    return steps


def _elsewhere_step(elsewhere: list[tuple[str, str]]) -> RemoteStep | None:
    if not elsewhere:
        return None
    messages = [RemoteMessage(level=MessageLevel.WARNING, text=f"{key or 'output'}: {url} (in cloud storage; "
                              "copy it with the cloud's own tools, e.g. `gsutil cp` or `aws s3 cp`)")
                for key, url in elsewhere]
    return RemoteStep(name="outputs in cloud storage", messages=messages)


def _error_text(state: str, data: dict[str, Any], events: list[dict[str, Any]],
                run_log: dict[str, Any]) -> str:
    """The run's ``errors[]``, errors carried by events, and the tail of an inline stderr."""
    found: list[str] = []
    for error in data.get("errors") or []:
        found.append(str(error.get("msg") or error) if isinstance(error, dict) else str(error))
    for event in events:
        meta = _object(event.get("metadata"))
        found.extend(str(e) for e in meta.get("errors") or [])
    if tail := _inline_tail(run_log.get("stderr")):
        found.append(tail)
    unique = list(dict.fromkeys(f.strip() for f in found if f and f.strip()))
    return redact("\n".join(unique)) if unique else f"the run ended in state {state}"


def _inline_tail(stderr: Any, lines: int = 10) -> str:
    """The last lines of stderr when the service put the text inline (not a URL or path to fetch)."""
    if not isinstance(stderr, str) or not stderr.strip():
        return ""
    text = stderr.strip()
    one_word = "\n" not in text and " " not in text
    if one_word and (text.startswith(("/", "..", "http:", "https:")) or "://" in text):
        return ""
    return "\n".join(text.splitlines()[-lines:])[-2000:]
