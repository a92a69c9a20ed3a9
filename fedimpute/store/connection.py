"""Short-lived DuckDB connections that wait politely for the cross-process lock.

DuckDB locks the whole file per process: while one process has it open, read-write
*or* read-only, every other process is refused.  So nothing in fedimpute keeps a
connection open: each operation opens, runs one transaction and closes, and a
refused open is retried with jittered back-off until ``lock_timeout`` runs out.

The file and its write-ahead log hold every job of every user, so they are kept 0600: DuckDB
creates them with the process's umask (and the log anew after each checkpoint), so their mode is
narrowed right after an open and after each commit (a stat, and a chmod only when needed).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from fedimpute.exceptions import StoreLockedError

__all__ = ["connect", "in_transaction", "is_lock_error", "make_private", "transaction"]

log = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT = 60.0


def is_lock_error(exc: BaseException) -> bool:
    """True for DuckDB's "Could not set lock on file" refusal (another process holds it)."""
    text = str(exc)
    return isinstance(exc, duckdb.Error) and ("Could not set lock" in text or "Conflicting lock" in text)


def make_private(path: Path) -> None:
    """Narrow the database file and its write-ahead log to 0600 where DuckDB made them wider."""
    for file in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(os.stat(file).st_mode)
            if mode & 0o077:
                os.chmod(file, mode & 0o600)


def _open(path: Path, read_only: bool, lock_timeout: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + lock_timeout
    delay = 0.005
    attempts = 0
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if not is_lock_error(exc):
                raise
            attempts += 1
            if time.monotonic() >= deadline:
                raise StoreLockedError(
                    f"the database {path} stayed locked by another process for {lock_timeout:.0f} s; "
                    "close notebooks or servers that keep it open (or stop the other fedimpute process) "
                    "and try again"
                ) from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.6, 0.25)
            if attempts % 50 == 0:
                log.debug("still waiting for the lock on %s (%d attempts)", path, attempts)


@contextmanager
def connect(
    path: Path, *, read_only: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open ``path`` (retrying on the lock), yield the connection, always close it."""
    con = _open(path, read_only, lock_timeout)
    if not read_only:
        make_private(path)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(
    path: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> Iterator[duckdb.DuckDBPyConnection]:
    """One read-write transaction: committed when the block ends, rolled back if it raises."""
    with connect(path, lock_timeout=lock_timeout) as con:
        with in_transaction(con):
            yield con
        make_private(path)  # the commit may have created the write-ahead log


@contextmanager
def in_transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A transaction on an open connection: committed when the block ends, rolled back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
