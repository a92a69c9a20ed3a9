"""Numbered, checksummed SQL migrations, applied at start-up in one transaction.

Files are named ``NNNN_description.sql`` and never edited once released: a schema
change is a new file.  Each applied file is recorded with the SHA-256 of its text;
if the text of an applied migration changes, or the database records a version
this code does not ship, start-up stops with an error instead of guessing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fedimpute.exceptions import MigrationChecksumError, MigrationError, MigrationSequenceError
from fedimpute.store.connection import transaction

__all__ = ["MIGRATIONS_DIR", "Migration", "apply_migrations", "load_migrations"]

MIGRATIONS_DIR = Path(__file__).with_name("sql")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       VARCHAR NOT NULL,
    checksum   VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.replace("\r\n", "\n").encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read ``directory``'s migration files in version order; refuse gaps and stray names."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name!r} is not named NNNN_description.sql; rename it")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migrations must be numbered 0001, 0002, ... without gaps; found {migration.version:04d} "
                f"where {expected:04d} was expected in {directory}"
            )
    return found


def _check_applied(applied: dict[int, tuple[str, str]], migrations: list[Migration]) -> None:
    shipped = {m.version: m for m in migrations}
    for version, (name, checksum) in sorted(applied.items()):
        migration = shipped.get(version)
        if migration is None:
            raise MigrationSequenceError(
                f"the database has migration {version:04d}_{name} which this fedimpute does not ship; "
                "upgrade fedimpute, or point FEDIMPUTE_HOME at a database made by this version"
            )
        if migration.checksum != checksum:
            raise MigrationChecksumError(
                f"migration {version:04d}_{migration.name} was edited after it was applied "
                f"(recorded checksum {checksum[:12]}…, file now {migration.checksum[:12]}…); "
                "restore the original file and put the change in a new numbered migration"
            )


def apply_migrations(db_path: Path, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Bring ``db_path`` up to date; return the versions applied now (empty when current)."""
    migrations = load_migrations(directory)
    with transaction(db_path) as con:
        con.execute(_BOOKKEEPING)
        rows = con.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
        applied = {version: (name, checksum) for version, name, checksum in rows}
        _check_applied(applied, migrations)
        pending = [m for m in migrations if m.version not in applied]
        for migration in pending:
            _run(con, migration)
    return [m.version for m in pending]


def _run(con: duckdb.DuckDBPyConnection, migration: Migration) -> None:
    try:
        con.execute(migration.sql)
    except duckdb.Error as exc:
        raise MigrationError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
    con.execute(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
        [migration.version, migration.name, migration.checksum],
    )
