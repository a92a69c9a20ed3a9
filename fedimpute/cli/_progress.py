"""Rich progress bars on stderr for uploads and downloads (hidden when stderr is not a terminal
unless forced, so ``--json`` output and logs stay clean)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from fedimpute.cli._common import err

if TYPE_CHECKING:
    from fedimpute.models import Job

__all__ = ["status_reporter", "transfer_progress"]


@contextmanager
def transfer_progress() -> Iterator[Callable[[str, int, int], None]]:
    """Yield ``update(label, done, total)``; one bar per label."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        TimeRemainingColumn(), console=err, transient=False)
    tasks: dict[str, TaskID] = {}

    def update(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = progress.add_task(label, total=total or None)
        progress.update(tasks[label], completed=done, total=total or None)

    with progress:
        yield update


def status_reporter() -> Callable[[Job], None]:
    """Print a job's status line when it changes."""
    last: dict[str, str] = {}

    def report(job: Job) -> None:
        line = f"{job.job_id}: {job.status.value} (remote state {job.remote_state})"
        if job.queue_position is not None:
            line += f", queue position {job.queue_position}"
        if last.get(job.job_id) != line:
            err.print(line, markup=False)
            last[job.job_id] = line

    return report
