"""Plain records shared by the simulator modules.

Why a separate module: the scheduler (state.py), the pipeline phases
(lifecycle.py), the result writer (results.py) and the JSON shapes
(responses.py) all touch the same job record; keeping the dataclasses here
avoids import cycles between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Job states (section 5 of the protocol reference).
DEAD, WAITING, RUNNING, EXPORTING, SUCCESS, FAILED, CANCELED = -1, 1, 2, 3, 4, 5, 6
RETIRED, SUCCESS_NOTIFIED, FAILED_NOTIFIED, DELETED = 7, 8, 9, 10
IN_ENGINE = (WAITING, RUNNING, EXPORTING)

# Message type codes (jobs/Message.java).
OK, ERROR, WARNING, RUNNING_MSG = 0, 1, 2, 3


def ms(seconds: float) -> int:
    """Epoch seconds -> epoch milliseconds, the unit of every time in the API."""
    return int(seconds * 1000)


def message(text: str, kind: int, at: float) -> dict:
    """A logMessage; `success` is always true in Cloudgene, whatever the type."""
    return {"success": True, "message": text, "type": kind, "time": ms(at)}


@dataclass
class User:
    username: str
    name: str
    mail: str | None


@dataclass
class Token:
    """A token record; `expires` is epoch seconds or None for a token that never expires."""

    username: str
    expires: float | None
    revoked: bool = False
    session: bool = False


@dataclass
class Step:
    id: int
    name: str
    messages: list[dict] = field(default_factory=list)


@dataclass
class OutputFile:
    """One downloadable file; `count` is the number of downloads left (-1 = unlimited)."""

    name: str
    path: Path
    hash: str
    count: int
    size: int


@dataclass
class InputFile:
    """An uploaded file part; `path` is None when uploads are discarded."""

    name: str
    path: Path | None
    size: int


@dataclass
class Job:
    id: str
    name: str
    application: str
    application_id: str
    username: str
    user_agent: str
    params: dict[str, str]
    inputs: list[InputFile]
    workspace: Path
    password: str
    password_generated: bool
    submitted_on: int
    panel: dict | None = None
    state: int = WAITING
    start_time: int = 0
    end_time: int = 0
    deleted_on: int = -1
    steps: list[Step] = field(default_factory=list)
    files: list[OutputFile] = field(default_factory=list)
    output_id: int = 0
    output_hash: str = ""
    next_phase: str | None = None
    due: float | None = None
    vcfs: list[Any] = field(default_factory=list)
    qc: Any = None
    chunks_imputed: int = 0  # chunks of the Phasing and Imputation step finished so far
