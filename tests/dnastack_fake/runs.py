"""One fake Workbench run: a wall-clock timeline and its ExtendedRun / list-item JSON.

Why a timeline instead of a worker: the state at any moment is computed from the submit
time, the step length and the cancel time, so the fake needs no background thread and
every read is consistent.  A run goes QUEUED -> INITIALIZING (one step each) -> RUNNING
(``running`` seconds) -> its outcome; a cancel inserts CANCELING (one step) -> CANCELED.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

QUEUED, INITIALIZING, RUNNING, COMPLETE = "QUEUED", "INITIALIZING", "RUNNING", "COMPLETE"
CANCELING, CANCELED = "CANCELING", "CANCELED"
TERMINAL = {COMPLETE, CANCELED, "COMPLETE_WITH_ERRORS", "EXECUTOR_ERROR", "SYSTEM_ERROR",
            "PREPROCESSING_ERROR", "NOT_PROCESSED", "PREEMPTED"}
FAILURE_TEXT = "Task impute.minimac4:NA:1 failed: the job exited with return code 1"
STDERR_TEXT = "loading reference panel\nchecking input VCF\nError: reference panel index is missing\n"


def iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if ts is not None else None


@dataclass
class FakeRun:
    run_id: str
    namespace: str
    engine_id: str
    workflow_url: str
    workflow_type_version: str
    params: dict[str, Any]
    tags: dict[str, str]
    submitted_by: str
    step: float
    running: float
    outcome: str = COMPLETE
    submitted: float = field(default_factory=time.time)
    cancel_at: float | None = None

    def phases(self) -> list[tuple[float, str]]:
        t, step = self.submitted, self.step
        natural = [(t, QUEUED), (t + step, INITIALIZING), (t + 2 * step, RUNNING),
                   (t + 2 * step + self.running, self.outcome)]
        if self.cancel_at is None:
            return natural
        before = [(ts, s) for ts, s in natural if ts <= self.cancel_at]
        return before + [(self.cancel_at, CANCELING), (self.cancel_at + step, CANCELED)]

    def seen(self, now: float) -> list[tuple[float, str]]:
        return [p for p in self.phases() if p[0] <= now]

    def state(self, now: float) -> str:
        return self.seen(now)[-1][1]

    def when(self, state: str, now: float) -> float | None:
        return next((ts for ts, s in self.seen(now) if s == state), None)


def _events(run: FakeRun, now: float) -> list[dict[str, Any]]:
    seen = run.seen(now)
    events = [_event(run, 0, seen[0][0], "RUN_SUBMITTED", submitted_by=run.submitted_by, state=QUEUED,
                     workflow_url=run.workflow_url, tags=run.tags)]
    for (_, old), (ts, new) in pairwise(seen):
        events.append(_event(run, len(events), ts, "STATE_TRANSITION", old_state=old, new_state=new))
        if new == INITIALIZING:
            events.append(_event(run, len(events), ts, "RUN_SUBMITTED_TO_ENGINE",
                                 external_id=f"ext-{run.run_id[:8]}"))
        if new in TERMINAL - {COMPLETE, CANCELED}:
            events.append(_event(run, len(events), ts, "ERROR_OCCURRED", errors=[FAILURE_TEXT]))
    return events


def _event(run: FakeRun, index: int, ts: float, kind: str, **metadata: Any) -> dict[str, Any]:
    return {"id": f"{run.run_id}-{index}", "event_type": kind, "created_at": iso(ts),
            "metadata": {"event_type": kind, "message": None, **metadata}}


def _outputs(run: FakeRun, base: str) -> dict[str, Any]:
    files = f"{base}/files/{run.run_id}"
    return {"impute.imputed_vcfs": [f"{files}/chr20.dose.vcf.gz"],
            "impute.qc_report": f"{files}/qc_report.txt",
            "impute.bucket_copy": f"gs://fake-workbench-bucket/{run.run_id}/chr20.dose.vcf.gz",
            "impute.sample_count": 25}


def _task_logs(run: FakeRun, now: float, wes: str) -> list[dict[str, Any]]:
    start = run.when(RUNNING, now)
    if start is None:
        return []
    state = run.state(now)
    end = run.seen(now)[-1][0] if state in TERMINAL else None
    failed = state in TERMINAL - {COMPLETE, CANCELED}
    logs = f"{wes}/runs/{run.run_id}/tasks/minimac4/logs"
    return [{"task_id": "minimac4", "name": "impute.minimac4", "pretty_name": "minimac4",
             "state": state if state != CANCELING else RUNNING, "start_time": iso(start),
             "end_time": iso(end),
             "exit_code": (1 if failed else 0) if end else None, "stdout": f"{logs}/stdout",
             "stderr": STDERR_TEXT if failed else f"{logs}/stderr", "cmd": ["minimac4"]}]


def run_json(run: FakeRun, base: str, now: float) -> dict[str, Any]:
    """The ExtendedRun of ``GET {ns}/ga4gh/wes/v1/runs/{id}``."""
    state = run.state(now)
    wes = f"{base}/ewes/{run.namespace}/ga4gh/wes/v1"
    failed = state in TERMINAL - {COMPLETE, CANCELED}
    end = run.seen(now)[-1][0] if state in TERMINAL else None
    return {
        "run_id": run.run_id, "external_id": f"ext-{run.run_id[:8]}" if run.when(INITIALIZING, now) else None,
        "engine_id": run.engine_id, "state": state,
        "request": {"workflow_url": run.workflow_url, "workflow_type": "WDL",
                    "workflow_type_version": run.workflow_type_version, "workflow_params": run.params,
                    "tags": run.tags, "submitted_by": run.submitted_by},
        "run_log": {"name": "impute", "start_time": iso(run.when(RUNNING, now)), "end_time": iso(end),
                    "stdout": f"{wes}/runs/{run.run_id}/logs/stdout",
                    "stderr": STDERR_TEXT if failed else f"{wes}/runs/{run.run_id}/logs/stderr",
                    "exit_code": (1 if failed else 0) if end else None},
        "errors": [FAILURE_TEXT] if failed else [],
        "task_logs": _task_logs(run, now, wes), "task_logs_url": f"{wes}/runs/{run.run_id}/tasks",
        "outputs": _outputs(run, base) if state == COMPLETE else {},
        "dependencies": [], "events": _events(run, now),
    }


def run_summary(run: FakeRun, now: float) -> dict[str, Any]:
    """A list item (ExtendedRunStatus) of ``GET {ns}/ga4gh/wes/v1/runs``."""
    state = run.state(now)
    workflow_id, _, version_id = run.workflow_url.partition("/")
    return {"run_id": run.run_id, "state": state, "start_time": iso(run.submitted),
            "end_time": iso(run.seen(now)[-1][0]) if state in TERMINAL else None,
            "submitted_by": run.submitted_by, "workflow_id": workflow_id, "workflow_version_id": version_id,
            "workflow_url": run.workflow_url, "workflow_type": "WDL",
            "workflow_type_version": run.workflow_type_version, "workflow_params": run.params,
            "tags": run.tags, "engine_id": run.engine_id}
