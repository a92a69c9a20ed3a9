"""Conversions between DuckDB rows and domain models (UTC handling, JSON columns)."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

__all__ = ["as_utc", "bulk_table", "count", "dicts", "to_db_time", "to_json"]


def to_db_time(value: datetime | None) -> datetime | None:
    """Aware datetime → naive UTC for a TIMESTAMP column (naive input is taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def as_utc(value: datetime | None) -> datetime | None:
    """Naive UTC from a TIMESTAMP column → aware UTC datetime."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def count(cursor: duckdb.DuckDBPyConnection) -> int:
    """The number a counting statement answers (``SELECT count(*)``, or the row count of an INSERT)."""
    row = cursor.fetchone()
    if row is None:  # such statements always answer one row
        raise duckdb.InternalException("a counting statement returned no row")
    return int(row[0])


def dicts(cursor: duckdb.DuckDBPyConnection, *, json_cols: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Fetch all rows of the last query as dicts; parse JSON columns and tag timestamps UTC."""
    names = [d[0] for d in cursor.description]
    out = []
    for row in cursor.fetchall():
        item = dict(zip(names, row, strict=True))
        for key, value in item.items():
            if isinstance(value, datetime):
                item[key] = as_utc(value)
            elif key in json_cols and isinstance(value, str):
                item[key] = json.loads(value)
        out.append(item)
    return out


def bulk_table(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]], columns: dict[str, str],
               folder: Path) -> None:
    """Create temp table ``name`` from ``rows`` in one read: DuckDB loads a JSON file of thousands of
    rows in milliseconds, where thousands of bound parameters or executemany take seconds."""
    payload = [{c: (v.isoformat() if isinstance(v := r.get(c), datetime) else v) for c in columns} for r in rows]
    fd, tmp = tempfile.mkstemp(suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(payload))
        spec = ", ".join(f"'{c}': '{t}'" for c, t in columns.items())
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM "
                    f"read_json('{tmp}', format = 'array', columns = {{{spec}}})")
    finally:
        os.unlink(tmp)
