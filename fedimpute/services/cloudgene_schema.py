"""Reading Cloudgene's JSON: the app schema (panels, populations, option values) and
job responses (states, steps, messages, output files).

Pure functions over parsed JSON, so they are tested without a server.  Facts from
the Cloudgene reference: panel keys are ``apps@<id>@<version>`` and the short id is
the text after the first ``@``; population lists are bound to a panel key; times are
epoch milliseconds where 0 or -1 mean "not set"; state codes map as in its section 5.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

from fedimpute.html_text import html_to_text
from fedimpute.models import JobStatus, MessageLevel, Population, ReferencePanel
from fedimpute.redaction import redact, register_secret
from fedimpute.services.base import RemoteFile, RemoteJob, RemoteMessage, RemoteStep

__all__ = ["AppSchema", "map_state", "parse_job", "short_panel_id"]

#: Cloudgene state code -> (name, status).  9 and 7 depend on what was seen before: see map_state.
STATES: dict[int, tuple[str, JobStatus]] = {
    -1: ("DEAD", JobStatus.FAILED),
    1: ("WAITING", JobStatus.QUEUED),
    2: ("RUNNING", JobStatus.RUNNING),
    3: ("EXPORTING", JobStatus.RUNNING),
    4: ("SUCCESS", JobStatus.COMPLETED),
    5: ("FAILED", JobStatus.FAILED),
    6: ("CANCELED", JobStatus.CANCELLED),
    7: ("RETIRED", JobStatus.FAILED),
    8: ("SUCCESS_AND_NOTIFICATION_SEND", JobStatus.COMPLETED),
    9: ("FAILED_AND_NOTIFICATION_SEND", JobStatus.FAILED),
    10: ("DELETED", JobStatus.CANCELLED),
}
_LEVELS = {0: MessageLevel.INFO, 1: MessageLevel.ERROR, 2: MessageLevel.WARNING, 3: MessageLevel.RUNNING}
_BUILD = re.compile(r"(hg19|hg38|GRCh37|GRCh38|b37|b38)", re.I)
_PASSWORD = re.compile(r"(following password:\s*)(?:<b>)?\s*([^<\s]+?)\s*(?:</b>)?(?=$|[\s<.,])", re.I)
PASSWORD_PLACEHOLDER = "[password stored by fedimpute]"
_KEY = re.compile(r"^(?:(?P<name>.*) \[)?(?P<key>fi-\d{8}-\d{6}-[0-9a-f]{6})\]?$")


def split_key(name: str | None) -> tuple[str | None, str | None]:
    """``"study1 [fi-...]"`` → ``("study1", "fi-...")``; a bare key is both name and key."""
    if not name:
        return name, None
    match = _KEY.match(name)
    if not match:
        return name, None
    return (match["name"] or match["key"]), match["key"]


def map_state(code: int, previous: JobStatus | None = None) -> JobStatus:
    """Cloudgene state code → JobStatus.

    9 (failed *or cancelled*, notified) stays ``cancelled`` when 6 was seen before;
    7 (retired) is ``completed`` when success was seen before, else ``failed``
    (``cancelled`` stays ``cancelled``).  Unknown codes are not terminal: ``running``.
    """
    if code == 9 and previous is JobStatus.CANCELLED:
        return JobStatus.CANCELLED
    if code == 7 and previous in (JobStatus.COMPLETED, JobStatus.CANCELLED):
        return previous
    return STATES.get(code, ("UNKNOWN", JobStatus.RUNNING))[1]


def short_panel_id(key: str) -> str:
    """``apps@hapmap-2@2.0.0`` → ``hapmap-2`` (also accepts ``hapmap-2@2.0.0`` and bare ids)."""
    parts = key.split("@")
    if parts[0] == "apps" and len(parts) >= 2:
        return parts[1]
    return parts[0]


def _build_of(name: str) -> str | None:
    match = _BUILD.search(name or "")
    if not match:
        return None
    return "hg38" if match[1].lower() in ("hg38", "grch38", "b38") else "hg19"


class AppSchema:
    """The parameters of one Cloudgene app (``GET /api/v2/server/apps/{app}``)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.id: str = data.get("id") or ""
        self.version: str = data.get("version") or ""
        self.params: dict[str, dict[str, Any]] = {p["id"]: p for p in data.get("params", []) if "id" in p}

    def values(self, param: str) -> list[str]:
        """The keys a list/checkbox parameter accepts (empty when the app lacks it)."""
        return [str(v.get("key")) for v in self.params.get(param, {}).get("values") or []]

    def has(self, param: str) -> bool:
        return param in self.params

    def panel_keys(self) -> list[str]:
        return self.values("refpanel")

    def populations(self, panel_key: str) -> list[Population]:
        for entry in self.params.get("population", {}).get("values") or []:
            if entry.get("key") == panel_key:
                return [Population(id=str(p["key"]), label=str(p.get("value") or p.get("label") or p["key"]))
                        for p in entry.get("values") or []]
        return []

    def terms(self) -> list[str]:
        """The texts of the app's ``terms_checkbox`` params, in the app's order: what its web form makes a
        user tick before submitting (never sent with a job).  Markup in a text becomes plain text."""
        return [html_to_text(str(p.get("description") or p["id"])) for p in self.params.values()
                if p.get("type") == "terms_checkbox"]

    def panels(self, service: str) -> list[ReferencePanel]:
        out = []
        for entry in self.params.get("refpanel", {}).get("values") or []:
            key = str(entry.get("key"))
            name = str(entry.get("value") or entry.get("label") or key)
            out.append(ReferencePanel(service=service, panel_id=short_panel_id(key), key=key, name=name,
                                      build=_build_of(name), populations=self.populations(key)))
        return out


def _ms(value: Any) -> datetime | None:
    if not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _clean_message(raw: str) -> tuple[str, str | None]:
    """Strip HTML and move a result password out of the text (it goes to the secret store)."""
    password = None
    if match := _PASSWORD.search(raw):
        password = match[2]
        register_secret(password)
        raw = raw[: match.start(2)] + PASSWORD_PLACEHOLDER + raw[match.end(2):]
    return redact(html_to_text(raw)), password


def _steps(data: dict[str, Any]) -> tuple[list[RemoteStep], str | None, list[str]]:
    steps: list[RemoteStep] = []
    password: str | None = None
    errors: list[str] = []
    for step in data.get("steps") or []:
        messages = []
        for msg in step.get("logMessages") or []:
            text, found = _clean_message(str(msg.get("message") or ""))
            password = found or password
            level = _LEVELS.get(msg.get("type"), MessageLevel.INFO)
            if level is MessageLevel.ERROR:
                errors.append(text)
            messages.append(RemoteMessage(time=_ms(msg.get("time")), level=level, text=text))
        steps.append(RemoteStep(name=str(step.get("name") or f"step {len(steps) + 1}"), messages=messages))
    return steps, password, errors


def _outputs(root: str, data: dict[str, Any]) -> list[RemoteFile]:
    files = []
    for param in data.get("outputParams") or []:
        for f in param.get("files") or []:
            name, file_hash = f.get("name"), f.get("hash")
            if not name or not file_hash:
                continue
            files.append(RemoteFile(name=name, url=f"{root}/share/results/{quote(file_hash)}/{quote(name, safe='/')}",
                                    size_hint=f.get("size"), downloads_left=f.get("count")))
    return files


def parse_job(root: str, data: dict[str, Any], previous: JobStatus | None = None) -> RemoteJob:
    """A Cloudgene JobResponse (or list item) as a RemoteJob."""
    code = int(data.get("state", 0))
    status = map_state(code, previous)
    steps, password, errors = _steps(data)
    position = data.get("positionInQueue")
    name, key = split_key(data.get("name"))
    return RemoteJob(
        remote_id=str(data["id"]), name=name, submission_key=key, status=status, remote_state=str(code),
        queue_position=position if isinstance(position, int) and position >= 0 and code == 1 else None,
        submitted_at=_ms(data.get("submittedOn")), started_at=_ms(data.get("startTime")),
        finished_at=_ms(data.get("endTime")), steps=steps, outputs=_outputs(root, data),
        results_expired=code == 7, restartable=code == -1,
        error=("\n".join(errors) or STATES.get(code, ("",))[0].lower()) if status is JobStatus.FAILED else None,
        password=SecretStr(password) if password else None,
    )
