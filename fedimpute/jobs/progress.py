"""Where a job is inside its run, from what its service says, and nothing more.

A progress record names the current step, the units done of the total where the service counts
them (Cloudgene's steps and the "i/n" counts its running messages carry, a WES server's finished
tasks, the local engine's finished chunks of its planned ones), the queue position, and a fraction of the run, only
when it can be computed from those counts: a service that does not say how many steps or chunks
there are gets no fraction (unknown stays unknown, never estimated).

The fraction of a Cloudgene run counts its steps as equal parts and, inside the step that reports
"Imputation (i/n)", the chunks finished (``i - 1`` while chunk ``i`` runs) as equal parts of that
step.  It is progress through the pipeline's units, not through time: the ETA
(:mod:`fedimpute.jobs.eta`) says when.  The pipeline's steps are the ones the service lists (a
server that lists the steps still to come fixes the total), or imputationserver2's known sequence
while the listed steps follow it (four steps; three for a QC-only run).

:func:`record_progress` is called from the one write path for remote reports
(:mod:`fedimpute.jobs.state`): a report whose progress differs from the job's newest row adds a row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from fedimpute.models import JobStatus, MessageLevel, utcnow
from fedimpute.services.base import RemoteJob, RemoteStep
from fedimpute.store import Store
from fedimpute.store.progress import PROGRESS_FIELDS

__all__ = ["PIPELINES", "Progress", "chunk_count", "engine_progress", "progress_json", "progress_of",
           "progress_text", "record_progress", "steps_progress", "tasks_progress"]

#: imputationserver2's steps, in order (cloudgene-api reference: "steps appear in the order ...").
PIPELINES = {
    "imputation": ("Input Validation", "Quality Control", "Phasing and Imputation", "Summary"),
    "qc": ("Input Validation", "Quality Control", "Summary"),
}
QC_ONLY = ("qc_only", "qconly", "qc-only", "qc")
#: Steps of WES-style reports that hold log lines, not tasks.
LOG_STEPS = frozenset({"Workflow run", "Workbench events"})
#: Readable names of the local engine's workflow steps (fedimpute/engine/workflow/*.cwl).
ENGINE_STEPS = {"chromosome": "Quality Control", "prepare": "Quality Control", "chunk": "Phasing and Imputation",
                "ligate": "Ligating chunks", "summary": "Summary", "versions": "Summary"}
WES_KINDS = frozenset({"wes", "local", "dnastack"})

_COUNT = re.compile(r"\((\d+)\s*/\s*(\d+)\)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CWL_STEP = re.compile(r"\[step (\w+)\] start")
_CHUNK_DONE = re.compile(r"\[job chunk(?:_(\d+))?\] completed success")
#: The local engine's chunk plan, one line per chromosome (prepare-chromosome.sh writes it to stderr).
_PLAN = re.compile(r"fedimpute: (\S+): (\d+) chunks? to impute")
_TASK_DONE = re.compile(r"\bexit code 0\b|\bCOMPLETE\b")


@dataclass(frozen=True)
class Progress:
    """One job's progress; ``None`` fields are unknown."""

    status: str
    step: str | None = None
    step_index: int | None = None
    done: int | None = None
    total: int | None = None
    unit: str | None = None
    fraction: float | None = None
    queue_position: int | None = None

    def fields(self) -> dict[str, Any]:
        return asdict(self)

    def same_as(self, row: Mapping[str, Any] | None) -> bool:
        """Whether a stored row says the same (so no new row is needed)."""
        return row is not None and all(row.get(k) == getattr(self, k) for k in PROGRESS_FIELDS)


def progress_json(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The contract's ``progress`` object of a stored row: ``{step, done, total, fraction,
    queue_position}`` (plus ``unit``: what done and total count); None for a job without one."""
    if row is None:
        return None
    fraction = row.get("fraction")
    return {"step": row.get("step"), "done": row.get("done"), "total": row.get("total"),
            "fraction": None if fraction is None else round(float(fraction), 4),
            "queue_position": row.get("queue_position"), "unit": row.get("unit")}


def progress_text(progress: Mapping[str, Any] | None) -> str:
    """One line for people: ``"Phasing and Imputation: 1 of 4 chunks done (56%)"``; "" when unknown.

    >>> progress_text({"step": "queued", "queue_position": 3, "fraction": 0.0})
    'queued, 3 ahead in the queue (0%)'
    >>> progress_text({"step": "Phasing and Imputation", "done": 1, "total": 4, "unit": "chunks", "fraction": 0.5625})
    'Phasing and Imputation: 1 of 4 chunks done (56%)'
    """
    if not progress:
        return ""
    text = str(progress.get("step") or "")
    if progress.get("queue_position") is not None:
        text += f", {progress['queue_position']} ahead in the queue"
    done, total, unit = progress.get("done"), progress.get("total"), progress.get("unit")
    if done is not None and unit and progress.get("step") not in ("queued", "completed"):
        text += f": {done}{f' of {total}' if total is not None else ''} {unit} done"
    if progress.get("fraction") is not None:
        text += f" ({float(progress['fraction']):.0%})"
    return text


# -- reading what services say --------------------------------------------------------------------


def chunk_count(messages: Sequence[Any]) -> tuple[int, int] | None:
    """``(finished, of)`` from the newest running message saying "(i/n)": chunk ``i`` is under way,
    so ``i - 1`` are finished.  None when no running message counts."""
    for message in reversed(messages):
        if message.level is MessageLevel.RUNNING and (match := _COUNT.search(message.text)):
            at, of = int(match[1]), int(match[2])
            if 0 < at <= of:
                return at - 1, of
    return None


def _pipeline_total(steps: Sequence[RemoteStep], mode: str | None) -> int | None:
    """How many steps the run has: all of them when the service lists steps still to come (an empty step
    after a started one), else imputationserver2's sequence while the listed names follow it."""
    started = [i for i, s in enumerate(steps) if s.messages]
    if started and any(not s.messages for s in steps[started[0]:]):
        return len(steps)
    names = tuple(s.name for s in steps)
    pipeline = PIPELINES["qc" if (mode or "").lower() in QC_ONLY else "imputation"]
    return len(pipeline) if names == pipeline[:len(names)] else None


def steps_progress(status: JobStatus, steps: Sequence[RemoteStep], mode: str | None = None) -> Progress | None:
    """A running Cloudgene-style run: the newest step with messages is the current one; it is finished
    when none of its messages is still running.  None when no step has started yet."""
    started = [i for i, s in enumerate(steps) if s.messages]
    if not started:
        return None
    index = started[-1]
    current = steps[index]
    running = any(m.level is MessageLevel.RUNNING for m in current.messages)
    total = _pipeline_total(steps, mode)
    done_steps = index + (0 if running else 1)
    count = chunk_count(current.messages) if running else None
    within = count[0] / count[1] if count else 0.0
    fraction = None if total is None else min(1.0, (done_steps + within) / total)
    if count:
        return Progress(status.value, current.name, index, count[0], count[1], "chunks", fraction)
    return Progress(status.value, current.name, index, done_steps, total, "steps", fraction)


def tasks_progress(status: JobStatus, steps: Sequence[RemoteStep], files: int = 0) -> Progress | None:
    """A WES run that lists its tasks: tasks finished (exit code 0) so far; the total is not said
    (tasks appear as they start), so there is no fraction.  Else the local engine's chunks."""
    tasks = [s for s in steps if s.name not in LOG_STEPS and s.messages]
    if not tasks:
        return engine_progress(status, steps, files)
    done = sum(1 for t in tasks if any(_TASK_DONE.search(m.text) for m in t.messages))
    current = next((t for t in tasks if not any(_TASK_DONE.search(m.text) for m in t.messages)), tasks[-1])
    return Progress(status.value, current.name, tasks.index(current), done, None, "tasks", None)


def engine_progress(status: JobStatus, steps: Sequence[RemoteStep], files: int = 0) -> Progress | None:
    """The local engine (cwltool's log lines): the workflow step under way, and the chunk jobs seen
    finished (cwltool names them chunk, chunk_2, ... across the whole run; with ``--parallel`` they end
    in any order, and the log the service passes on is its tail, so this is a lower bound that
    :func:`_carry` never lets fall).  The total is known once every one of the ``files`` input files (one
    chromosome each) has its chunk plan line ("fedimpute: chr20: 4 chunks to impute"); then the fraction
    is the share of chunks finished."""
    lines = [_ANSI.sub("", m.text) for s in steps if s.name in LOG_STEPS for m in s.messages]
    step = next((m[1] for line in reversed(lines) if (m := _CWL_STEP.search(line))), None)
    chunks = {int(m[1] or 1) for line in lines if (m := _CHUNK_DONE.search(line))}
    plans = {m[1]: int(m[2]) for line in lines if (m := _PLAN.search(line))}
    if step is None and not chunks:
        return None
    total = sum(plans.values()) if files and len(plans) == files else None
    return _engine(status.value, ENGINE_STEPS.get(step or "", step), len(chunks), total)


def _engine(status: str, step: str | None, done: int, total: int | None) -> Progress:
    return Progress(status, step, None, done, total, "chunks", min(1.0, done / total) if total else None)


def progress_of(remote: RemoteJob, *, kind: str = "cloudgene", mode: str | None = None, files: int = 0) -> Progress:
    """What ``remote`` says of its progress (before :func:`_carry` fills in what it leaves out).
    ``kind`` is the service's protocol: WES-style services list tasks, the others steps; ``mode`` the
    job's mode option; ``files`` how many input files it has (the local engine's chromosomes)."""
    status = remote.status
    if status is JobStatus.QUEUED:
        return Progress(status.value, "queued", fraction=0.0, queue_position=remote.queue_position)
    if status is JobStatus.PENDING:
        return Progress(status.value, "pending")
    if status is JobStatus.COMPLETED:
        return Progress(status.value, "completed", fraction=1.0)
    if status is not JobStatus.RUNNING:
        return Progress(status.value)
    found = tasks_progress(status, remote.steps, files) if kind in WES_KINDS else \
        steps_progress(status, remote.steps, mode)
    return found or Progress(status.value, "running", queue_position=remote.queue_position)


def _carry(previous: Mapping[str, Any] | None, new: Progress) -> Progress:
    """Keep what a report leaves out: a running report without steps (a list entry) keeps the step it
    was at; the local engine's finished chunks never fall (its log is a tail); a completed run counts
    all its units done; a failed or cancelled one stays where it stopped."""
    if previous is None:
        return new
    kept: dict[str, Any] = {k: previous.get(k) for k in ("step", "step_index", "done", "total", "unit", "fraction")}
    if new.status == JobStatus.RUNNING.value and new.step == "running" and previous.get("status") == new.status:
        return replace(new, **kept)
    if _engine_row(new) and _engine_row(previous) and (previous.get("done") or 0) > (new.done or 0):
        return _engine(new.status, new.step, int(previous["done"]), new.total or previous.get("total"))
    if new.status == JobStatus.COMPLETED.value and kept["total"] is not None:
        return replace(new, done=kept["total"], total=kept["total"], unit=kept["unit"])
    if new.status in (JobStatus.FAILED.value, JobStatus.CANCELLED.value):
        return replace(new, **kept)
    return new


def _engine_row(progress: Progress | Mapping[str, Any]) -> bool:
    """A running local-engine record (chunks counted from the log, no step index)."""
    get = progress.get if isinstance(progress, Mapping) else lambda k: getattr(progress, k)
    return get("status") == JobStatus.RUNNING.value and get("unit") == "chunks" and get("step_index") is None


def _mode(row: Mapping[str, Any]) -> str | None:
    options = row.get("options")
    return str(options.get("mode")) if isinstance(options, Mapping) and options.get("mode") else None


def _kinds(store: Store, reports: Sequence[tuple[Mapping[str, Any], RemoteJob]]) -> dict[str, str]:
    """Service name -> protocol, read only when some report has steps to read."""
    if not any(remote.steps for _, remote in reports):
        return {}
    return {s.name: s.protocol for s in store.list_services()}


def record_progress(store: Store, reports: Sequence[tuple[Mapping[str, Any], RemoteJob]],
                    now: datetime | None = None) -> int:
    """Add a progress row for each report (``(job row or Job.model_dump(), report)``) whose progress
    differs from the job's newest row; returns how many rows were added."""
    if not reports:
        return 0
    previous = store.latest_progress([row["job_id"] for row, _ in reports])
    kinds = _kinds(store, reports)
    now = now or utcnow()
    rows = []
    for row, remote in reports:
        job_id = row["job_id"]
        found = progress_of(remote, kind=kinds.get(row.get("service", ""), ""), mode=_mode(row),
                            files=len(row.get("inputs") or ()))
        progress = _carry(previous.get(job_id), found)
        if not progress.same_as(previous.get(job_id)):
            rows.append({"job_id": job_id, "time": now, **progress.fields()})
    return store.add_progress(rows)
