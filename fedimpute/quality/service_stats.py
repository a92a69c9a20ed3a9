"""How the services treated our jobs: status counts, queue time and run time, from the store.

Queue and run times come from the job event log (every status change is an event), not from
the services' own clocks: queue time runs from the first ``queued`` event to the first
``running`` one, run time from there to the terminal event.  A job polled too rarely to be
seen running has no split, only its turnaround (submitted to finished).  One query, so a
store with thousands of jobs is read in one short connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fedimpute.quality.sources import numpy_columns
from fedimpute.store import Store

__all__ = ["job_statistics"]

_SQL = """
WITH ev AS (
    SELECT job_id,
           min(time) FILTER (WHERE status = 'queued') AS queued_at,
           min(time) FILTER (WHERE status = 'running') AS running_at,
           min(time) FILTER (WHERE status IN ('completed', 'failed', 'cancelled')) AS ended_at
    FROM job_events GROUP BY job_id)
SELECT j.job_id, coalesce(j.name, '') AS name, j.service, j.status, j.owner, j.created_at, j.submitted_at,
       j.finished_at,
       epoch(coalesce(ev.running_at, j.started_at) - coalesce(ev.queued_at, j.submitted_at)) AS queue_seconds,
       epoch(coalesce(ev.ended_at, j.finished_at) - coalesce(ev.running_at, j.started_at)) AS run_seconds,
       epoch(coalesce(ev.ended_at, j.finished_at) - coalesce(j.submitted_at, ev.queued_at))
           AS turnaround_seconds
FROM jobs j LEFT JOIN ev USING (job_id) {where}
ORDER BY j.created_at, j.job_id
"""


def job_statistics(store: Store, job_ids: Sequence[str] | None = None) -> dict[str, np.ndarray[Any, Any]]:
    """Columns ``job_id, name, service, status, owner, created_at, submitted_at, finished_at,
    queue_seconds, run_seconds, turnaround_seconds`` (times UTC; seconds NaN when unknown)."""
    where, params = "", []
    if job_ids is not None:
        where = f"WHERE j.job_id IN ({', '.join(['?'] * len(job_ids))})" if job_ids else "WHERE FALSE"
        params = list(job_ids)
    with store.read() as con:
        data = numpy_columns(con.execute(_SQL.format(where=where), params))
    return {key: _unmasked(column) for key, column in data.items()}


def _unmasked(column: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """NULLs as NaN / NaT / None in a plain array (DuckDB returns masked arrays for nullable columns)."""
    if not np.ma.isMaskedArray(column):
        return column
    kind = column.dtype.kind
    if kind in "iuf":
        return np.ma.filled(column.astype(float), np.nan)
    if kind == "M":
        return np.ma.filled(column, np.datetime64("NaT"))
    return np.ma.filled(column.astype(object), None)
