"""The dashboard's read query: one page of jobs, straight from DuckDB.

A lab's store may hold tens of thousands of jobs, so the jobs table never loads them all:
filters, order, ``LIMIT`` and ``OFFSET`` run in SQL and only the visible page becomes a
DataFrame.  Every query takes a :class:`JobFilter` whose ``owner`` scopes it to one user
(``None`` only for admins): isolation is enforced here, not left to the widgets.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from fedimpute.store import Store

__all__ = ["ADMIN_COLUMNS", "JOB_COLUMNS", "ORDERS", "JobFilter", "SharedFirstPages", "first_pages", "jobs_page",
           "shared_first_pages", "store_version"]

#: Columns of the jobs table, in display order (times are UTC strings).
JOB_COLUMNS = ("job_id", "name", "status", "service", "panel", "queue_position", "created_at", "finished_at",
               "expires_at")
#: An admin's table also names each job's owner.  (Every column costs render time on each change;
#: the submission time and the rest are in the job's detail.)
ADMIN_COLUMNS = ("job_id", "name", "owner", *JOB_COLUMNS[2:])

#: Orders the table offers; SQL is ours, never built from user input.
ORDERS = {
    "newest first": "created_at DESC, job_id DESC",
    "oldest first": "created_at ASC, job_id ASC",
    "status": "status, created_at DESC, job_id DESC",
    "service": "service, created_at DESC, job_id DESC",
    "recently finished": "finished_at DESC NULLS LAST, job_id DESC",
}


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a query may see: ``owner`` None means every owner (admins only)."""

    owner: str | None
    status: str | None = None
    service: str | None = None
    search: str = ""

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition and its parameters (values are always bound, never interpolated)."""
        clauses, params = [], []
        for column in ("owner", "status", "service"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        term = self.search.strip().lower()
        if term:
            clauses.append("(contains(lower(job_id), ?) OR contains(lower(coalesce(name, '')), ?) "
                           "OR contains(lower(coalesce(remote_id, '')), ?))")
            params += [term, term, term]
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _cell(value: Any) -> str:
    """A table cell as text ('' for NULL; times to the second, UTC)."""
    if value is None:
        return ""
    return f"{value:%Y-%m-%d %H:%M:%S}" if isinstance(value, datetime) else str(value)


def store_version(store: Store) -> tuple:
    """A token that changes whenever the store file (or its WAL) is written; reading leaves it alone.

    A periodic refresh compares it first and skips the DuckDB open (tens of ms) when nothing changed.
    """
    token = []
    for path in (store.path, store.path.with_name(store.path.name + ".wal")):
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            token.append(None)
        else:
            token.append((stat.st_mtime_ns, stat.st_size))
    return tuple(token)


def _check_columns(columns: tuple[str, ...]) -> str:
    unknown = set(columns) - set(ADMIN_COLUMNS)
    if unknown:
        raise ValueError(f"unknown job column(s) {sorted(unknown)}")
    return ", ".join(columns)


def _frame(rows, columns: tuple[str, ...]) -> pd.DataFrame:
    """Text cells (formatted here: 20 rows cost nothing, while strftime in SQL slowed the query down),
    so two reads of unchanged rows compare equal."""
    return pd.DataFrame([[_cell(v) for v in row] for row in rows], columns=list(columns), dtype=object)


def jobs_page(store: Store, flt: JobFilter, *, page: int = 1, page_size: int = 20, order: str = "newest first",
              columns: tuple[str, ...] = JOB_COLUMNS) -> tuple[pd.DataFrame, int]:
    """Rows of page ``page`` (1-based) and the number of matching jobs, in one connection."""
    where, params = flt.where()
    offset = max(page - 1, 0) * page_size
    sql = (f"SELECT {_check_columns(columns)} FROM jobs{where} ORDER BY {ORDERS[order]} "
           f"LIMIT {int(page_size)} OFFSET {int(offset)}")
    with store.read() as con:
        total = con.execute(f"SELECT count(*) FROM jobs{where}", params).fetchone()[0]
        rows = con.execute(sql, params).fetchall()
    return _frame(rows, columns), int(total)


def first_pages(store: Store, flt: JobFilter, *, page_size: int = 20, order: str = "newest first",
                columns: tuple[str, ...] = JOB_COLUMNS) -> dict[str | None, tuple[pd.DataFrame, int]]:
    """Page 1 and the count of every status (``None``: all statuses) under ``flt`` (its status ignored).

    One scan: each status's first rows come from a window, and the first page of all statuses is
    among them (a row in the overall top ``page_size`` is in its own status's top ``page_size``).
    """
    with store.read() as con:
        return _first_pages_on(con, flt, page_size, order, columns)


def _first_pages_on(con: duckdb.DuckDBPyConnection, flt: JobFilter, page_size: int, order: str,
                    columns: tuple[str, ...]) -> dict[str | None, tuple[pd.DataFrame, int]]:
    where, params = replace(flt, status=None).where()
    sql = (f"SELECT {_check_columns(columns)}, count(*) OVER (PARTITION BY status), "
           f"row_number() OVER (ORDER BY {ORDERS[order]}) AS overall FROM jobs{where} "
           f"QUALIFY row_number() OVER (PARTITION BY status ORDER BY {ORDERS[order]}) <= {int(page_size)} "
           "ORDER BY overall")
    rows = con.execute(sql, params).fetchall()
    at = columns.index("status")
    counts = {row[at]: int(row[-2]) for row in rows}
    pages = {None: (_frame([r[:-2] for r in rows if r[-1] <= page_size], columns), sum(counts.values()))}
    for status, count in counts.items():
        pages[status] = (_frame([r[:-2] for r in rows if r[at] == status], columns), count)
    return pages


FirstPages = dict[str | None, tuple[pd.DataFrame, int]]
_SharedKey = tuple[JobFilter, int, str, tuple[str, ...]]


class SharedFirstPages:
    """:func:`first_pages` for every open page of a server, in one DuckDB open per store version.

    After each monitor sweep every open page re-reads its first page, and opening the file is most
    of a read's cost: twenty sessions, twenty opens.  Here the first page to ask at a new version
    reads, in one connection, every filter asked for within ``keep`` seconds (each session's own,
    owner included, so nobody gets another's rows); the other pages take theirs from memory.
    """

    def __init__(self, keep: float = 60.0) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._pages: dict[_SharedKey, FirstPages] = {}
        self._asked: dict[_SharedKey, float] = {}
        self.opens = 0  # DuckDB opens made (tests and benchmarks read it)

    def get(self, store: Store, version: tuple, flt: JobFilter, *, page_size: int = 20,
            order: str = "newest first", columns: tuple[str, ...] = JOB_COLUMNS) -> FirstPages:
        key = (replace(flt, status=None), page_size, order, columns)
        now = time.monotonic()
        with self._lock:  # pages asking meanwhile wait for this read, which holds theirs too
            self._asked[key] = now
            if version != self._version:
                self._version, self._pages = version, {}
            if key not in self._pages:
                self._asked = {k: t for k, t in self._asked.items() if now - t < self.keep}
                wanted = [k for k in self._asked if k not in self._pages]
                with store.read() as con:
                    self.opens += 1
                    for k in wanted:
                        self._pages[k] = _first_pages_on(con, *k)
            return self._pages[key]


_shared: dict[Path, SharedFirstPages] = {}
_shared_lock = threading.Lock()


def shared_first_pages(store: Store) -> SharedFirstPages:
    """The process's :class:`SharedFirstPages` of ``store``'s file."""
    with _shared_lock:
        return _shared.setdefault(store.path, SharedFirstPages())

