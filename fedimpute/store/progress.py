"""Store methods for job progress (:mod:`fedimpute.jobs.progress`) and the history ETAs rest on.

Progress rows are only ever added: a job's newest row is where it is now, and its rows in order are
the phases it went through (queued, each step) and how its queue position moved.  The rules that
decide what a row says live in :mod:`fedimpute.jobs.progress`; this module reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb

from fedimpute.store._rows import bulk_table, dicts, to_db_time
from fedimpute.store.base import StoreBase

__all__ = ["PROGRESS_FIELDS", "ProgressStore"]

#: What a progress row says (besides job_id and time); a row is written when one of them changes.
PROGRESS_FIELDS = ("status", "step", "step_index", "done", "total", "unit", "fraction", "queue_position")
_COLUMNS = {"job_id": "VARCHAR", "time": "TIMESTAMP", "status": "VARCHAR", "step": "VARCHAR",
            "step_index": "INTEGER", "done": "INTEGER", "total": "INTEGER", "unit": "VARCHAR",
            "fraction": "DOUBLE", "queue_position": "INTEGER"}
#: Up to this many ids are bound as parameters; more go through a temporary table (one JSON read).
_BOUND_IDS = 200

#: Finished runs (completed jobs) with what ETAs compare on.  Queue and run times as the statistics
#: compute them: from the job events, else the services' own times.
_HISTORY = """
WITH ev AS (
    SELECT job_id,
           min(time) FILTER (WHERE status = 'queued') AS queued_at,
           min(time) FILTER (WHERE status = 'running') AS running_at,
           min(time) FILTER (WHERE status = 'completed') AS ended_at
    FROM job_events GROUP BY job_id),
inp AS (
    SELECT job_id, max(samples) AS samples, sum(variants) AS variants,
           count(*) FILTER (WHERE samples IS NULL OR variants IS NULL) AS unknown
    FROM job_inputs GROUP BY job_id)
SELECT j.job_id, j.service, j.panel, j.build, json_extract_string(j.options, '$.phasing') AS phasing,
       coalesce(j.finished_at, ev.ended_at) AS finished_at,
       epoch(coalesce(ev.running_at, j.started_at) - coalesce(ev.queued_at, j.submitted_at)) AS queue_seconds,
       epoch(coalesce(ev.ended_at, j.finished_at) - coalesce(ev.running_at, j.started_at)) AS run_seconds,
       CASE WHEN inp.unknown = 0 THEN inp.samples END AS samples,
       CASE WHEN inp.unknown = 0 THEN inp.variants END AS variants
FROM jobs j LEFT JOIN ev USING (job_id) LEFT JOIN inp USING (job_id)
WHERE j.status = 'completed' AND j.service <> '*' {where}
ORDER BY finished_at
"""


class ProgressStore(StoreBase):
    @contextmanager
    def _job_ids(self, con: duckdb.DuckDBPyConnection, job_ids: Sequence[str]) -> Iterator[tuple[str, list[Any]]]:
        """``(condition on job_id, parameters)`` for ``job_ids``: bound when few, a temp table when many."""
        ids = list(dict.fromkeys(job_ids))
        if len(ids) <= _BOUND_IDS:
            yield f"job_id IN ({', '.join(['?'] * len(ids)) or 'NULL'})", ids
            return
        bulk_table(con, "progress_ids", [{"job_id": i} for i in ids], {"job_id": "VARCHAR"}, self.home)
        try:
            yield "job_id IN (SELECT job_id FROM progress_ids)", []
        finally:
            con.execute("DROP TABLE IF EXISTS progress_ids")

    def latest_progress(self, job_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The newest progress row of each of ``job_ids`` that has one."""
        if not job_ids:
            return {}
        with self.read() as con, self._job_ids(con, job_ids) as (where, params):
            rows = dicts(con.execute(f"SELECT * EXCLUDE (progress_id) FROM job_progress WHERE {where} "
                                     "QUALIFY row_number() OVER (PARTITION BY job_id ORDER BY progress_id DESC) = 1",
                                     params))
        return {r["job_id"]: r for r in rows}

    def progress_history(self, job_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Every progress row of ``job_ids``, oldest first (the phases of the board's Gantt plot)."""
        if not job_ids:
            return {}
        with self.read() as con, self._job_ids(con, job_ids) as (where, params):
            rows = dicts(con.execute(f"SELECT * EXCLUDE (progress_id) FROM job_progress WHERE {where} "
                                     "ORDER BY job_id, progress_id", params))
        out: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            out.setdefault(row["job_id"], []).append(row)
        return out

    def add_progress(self, rows: list[dict[str, Any]]) -> int:
        """Append progress rows (``job_id``, ``time`` and :data:`PROGRESS_FIELDS`); returns how many.
        Many rows (a monitor sweep over a long queue) go in through one JSON read, not thousands of binds."""
        if not rows:
            return 0
        data = [{**{c: r.get(c) for c in _COLUMNS}, "time": to_db_time(r["time"])} for r in rows]
        cols = ", ".join(_COLUMNS)
        with self.tx() as con:
            if len(data) <= _BOUND_IDS:
                con.executemany(f"INSERT INTO job_progress ({cols}) VALUES ({', '.join(['?'] * len(_COLUMNS))})",
                                [list(d.values()) for d in data])
            else:
                bulk_table(con, "progress_rows", data, _COLUMNS, self.home)
                con.execute(f"INSERT INTO job_progress ({cols}) SELECT {cols} FROM progress_rows")
                con.execute("DROP TABLE progress_rows")
        return len(data)

    def finished_runs(self, services: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Completed jobs (of ``services``, default all) with service, panel, build, phasing, finish time,
        queue and run seconds (None when unknown) and the input's samples and variants (as
        :meth:`input_sizes` counts them), oldest first: what :mod:`fedimpute.jobs.eta` learns from."""
        where, params = "", []
        if services is not None:
            names = list(dict.fromkeys(services))
            where = f"AND j.service IN ({', '.join(['?'] * len(names)) or 'NULL'})"
            params = names
        with self.read() as con:
            return dicts(con.execute(_HISTORY.format(where=where), params))

    def input_sizes(self, job_ids: Sequence[str]) -> dict[str, tuple[int | None, int | None]]:
        """``job_id -> (samples, variants)`` of its input: the files are one cohort split by chromosome, so
        samples is the largest file's and variants the sum (None where any file's count is unknown)."""
        if not job_ids:
            return {}
        with self.read() as con, self._job_ids(con, job_ids) as (where, params):
            rows = con.execute(
                f"SELECT job_id, CASE WHEN count(*) = count(samples) THEN max(samples) END, "
                f"CASE WHEN count(*) = count(variants) THEN sum(variants) END FROM job_inputs WHERE {where} "
                "GROUP BY job_id", params).fetchall()
        return {r[0]: (None if r[1] is None else int(r[1]), None if r[2] is None else int(r[2])) for r in rows}

    def status_times(self, job_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``job_id -> {status: first time the job had it}`` from the job events (when a job was first
        seen queued and running: where its queue wait and run time start)."""
        if not job_ids:
            return {}
        with self.read() as con, self._job_ids(con, job_ids) as (where, params):
            rows = dicts(con.execute(f"SELECT job_id, status, min(time) AS time FROM job_events WHERE {where} "
                                     "GROUP BY job_id, status", params))
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            out.setdefault(row["job_id"], {})[row["status"]] = row["time"]
        return out
