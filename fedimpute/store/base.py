"""The store's core: where the file is, migrations once per process, transactions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from fedimpute.paths import DB_FILENAME, home_dir
from fedimpute.store.connection import DEFAULT_LOCK_TIMEOUT, connect, in_transaction, make_private, transaction
from fedimpute.store.migrations import MIGRATIONS_DIR, apply_migrations

__all__ = ["StoreBase"]

_migrated: set[Path] = set()
_migrate_lock = threading.Lock()


class StoreBase:
    """Owns the path of ``FEDIMPUTE_HOME/fedimpute.duckdb``; never keeps a connection open."""

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        migrations_dir: Path = MIGRATIONS_DIR,
    ) -> None:
        self.home = home_dir(home)
        self.path = self.home / DB_FILENAME
        self.lock_timeout = lock_timeout
        self._migrations_dir = migrations_dir
        self._local = threading.local()  # a session belongs to the thread that opened it
        self.migrate()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.home)!r})"

    def migrate(self) -> list[int]:
        """Apply pending migrations (once per process and file); return versions applied."""
        key = self.path
        with _migrate_lock:
            if key in _migrated and self._migrations_dir == MIGRATIONS_DIR:
                return []
            applied = apply_migrations(self.path, self._migrations_dir)
            if self._migrations_dir == MIGRATIONS_DIR:
                _migrated.add(key)
            return applied

    @contextmanager
    def session(self) -> Iterator[None]:
        """Keep one connection open for a burst of operations (a monitor sweep applying hundreds of
        updates): opening the file costs far more than one small transaction.  Hold it briefly:
        while it is open, other processes wait for the file lock."""
        if self._session is not None:
            yield
            return
        with connect(self.path, lock_timeout=self.lock_timeout) as con:
            self._local.session = con
            try:
                yield
            finally:
                self._local.session = None

    @property
    def _session(self) -> duckdb.DuckDBPyConnection | None:
        return getattr(self._local, "session", None)

    @contextmanager
    def tx(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write transaction (commit on success, rollback on error), on a fresh connection
        or on the open session's."""
        if self._session is None:
            with transaction(self.path, lock_timeout=self.lock_timeout) as con:
                yield con
            return
        with in_transaction(self._session) as con:
            yield con
        make_private(self.path)  # the commit may have created the write-ahead log (mode 0600, not the umask's)

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for reads.  Read-write on purpose: DuckDB refuses a read-only open
        next to a read-write one in the same process, and the file lock is exclusive anyway."""
        if self._session is not None:
            yield self._session
            return
        with connect(self.path, lock_timeout=self.lock_timeout) as con:
            yield con
