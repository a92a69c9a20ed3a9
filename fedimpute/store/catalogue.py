"""Store methods for the service catalogue, discovered panels and health checks."""

from __future__ import annotations

from datetime import datetime

import duckdb

from fedimpute.catalogue import with_protocol_defaults
from fedimpute.exceptions import DuplicateServiceError, ServiceNotFoundError
from fedimpute.models import (
    HealthHistory,
    HealthRecord,
    HealthStatus,
    Population,
    ReferencePanel,
    ServiceConfig,
    utcnow,
)
from fedimpute.store._rows import as_utc, dicts, to_db_time, to_json
from fedimpute.store.base import StoreBase

__all__ = ["CatalogueStore"]

_SERVICE_COLS = (
    "name, protocol, url, app, description, location, enabled, builtin, settings, min_samples, "
    "max_samples, max_upload_mb, max_concurrent_jobs, builds"
)


class CatalogueStore(StoreBase):
    def add_service(self, service: ServiceConfig, *, replace: bool = False) -> None:
        """Add ``service``; with ``replace`` an existing entry of that name is overwritten."""
        now = to_db_time(utcnow())
        with self.tx() as con:
            exists = con.execute("SELECT created_at FROM services WHERE name = ?", [service.name]).fetchone()
            if exists and not replace:
                raise DuplicateServiceError(
                    f"a service named {service.name!r} already exists; choose another name, "
                    f"or pass --replace to overwrite it"
                )
            created = exists[0] if exists else now
            con.execute("DELETE FROM services WHERE name = ?", [service.name])
            con.execute(
                f"INSERT INTO services ({_SERVICE_COLS}, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    service.name, service.protocol, service.url, service.app, service.description,
                    service.location, service.enabled, service.builtin, to_json(service.settings),
                    service.min_samples, service.max_samples, service.max_upload_mb,
                    service.max_concurrent_jobs, service.builds, created, now,
                ],
            )

    def remove_service(self, name: str) -> None:
        with self.tx() as con:
            if not con.execute("SELECT 1 FROM services WHERE name = ?", [name]).fetchone():
                raise ServiceNotFoundError(self._unknown_service(con, name))
            con.execute("DELETE FROM services WHERE name = ?", [name])
            con.execute("DELETE FROM panels WHERE service = ?", [name])

    def list_services(self) -> list[ServiceConfig]:
        with self.read() as con:
            rows = dicts(con.execute(f"SELECT {_SERVICE_COLS} FROM services ORDER BY builtin DESC, name"),
                         json_cols=("settings",))
        return [with_protocol_defaults(ServiceConfig(**row)) for row in rows]

    def get_service(self, name: str) -> ServiceConfig:
        with self.read() as con:
            rows = dicts(con.execute(f"SELECT {_SERVICE_COLS} FROM services WHERE name = ?", [name]),
                         json_cols=("settings",))
            if not rows:
                raise ServiceNotFoundError(self._unknown_service(con, name))
        return with_protocol_defaults(ServiceConfig(**rows[0]))

    @staticmethod
    def _unknown_service(con: duckdb.DuckDBPyConnection, name: str) -> str:
        names = [r[0] for r in con.execute("SELECT name FROM services ORDER BY name").fetchall()]
        known = ", ".join(names) if names else "none yet"
        return f"unknown service {name!r} (known: {known}); see `fedimpute services list`"

    # -- reference panels ----------------------------------------------------------------

    def replace_panels(self, service: str, panels: list[ReferencePanel]) -> None:
        """Cache the panels just discovered for ``service``, replacing the previous list."""
        now = to_db_time(utcnow())
        with self.tx() as con:
            con.execute("DELETE FROM panels WHERE service = ?", [service])
            for p in panels:
                con.execute(
                    "INSERT INTO panels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [service, p.panel_id, p.key, p.name, p.build,
                     to_json([pop.model_dump() for pop in p.populations]), p.samples, p.variants,
                     to_db_time(p.discovered_at) or now],
                )

    def list_panels(self, service: str | None = None) -> list[ReferencePanel]:
        sql = "SELECT * FROM panels" + (" WHERE service = ?" if service else "") + " ORDER BY service, panel_id"
        with self.read() as con:
            rows = dicts(con.execute(sql, [service] if service else []), json_cols=("populations",))
        for row in rows:
            row["populations"] = [Population(**p) for p in row["populations"]]
        return [ReferencePanel(**row) for row in rows]

    # -- health --------------------------------------------------------------------------

    def record_health(self, record: HealthRecord) -> None:
        with self.tx() as con:
            con.execute(
                "INSERT INTO health_checks (service, checked_at, status, detail, latency_ms) VALUES (?, ?, ?, ?, ?)",
                [record.service, to_db_time(record.checked_at), record.status.value, record.detail,
                 record.latency_ms],
            )

    def latest_health(self) -> dict[str, HealthRecord]:
        """The newest health record of every service that has one."""
        with self.read() as con:
            rows = dicts(con.execute(
                "SELECT service, status, checked_at, detail, latency_ms FROM health_checks "
                "QUALIFY row_number() OVER (PARTITION BY service ORDER BY checked_at DESC, check_id DESC) = 1"
            ))
        return {row["service"]: HealthRecord(**row) for row in rows}

    def health_of(self, service: str) -> HealthRecord:
        return self.latest_health().get(service) or HealthRecord(
            service=service, status=HealthStatus.UNKNOWN, checked_at=None, detail="never checked"
        )

    def health_history(self, service: str, since: datetime) -> HealthHistory:
        """The checks of ``service`` since ``since``, oldest first (any service name: a removed
        service's history stays readable)."""
        return self.health_histories(since, service=service).get(service) or HealthHistory(service=service,
                                                                                            since=since)

    def health_histories(self, since: datetime, *, service: str | None = None) -> dict[str, HealthHistory]:
        """Every service's checks since ``since`` in one read (the Services page's uptime strips)."""
        sql = ("SELECT service, status, checked_at, detail, latency_ms FROM health_checks WHERE checked_at >= ?"
               + (" AND service = ?" if service else "") + " ORDER BY service, checked_at, check_id")
        with self.read() as con:
            rows = dicts(con.execute(sql, [to_db_time(since), *([service] if service else [])]))
        out: dict[str, HealthHistory] = {}
        for row in rows:
            out.setdefault(row["service"], HealthHistory(service=row["service"], since=since)).checks.append(
                HealthRecord(**row))
        return out

    def services_due_for_health(self, checked_before: datetime) -> tuple[list[ServiceConfig], datetime | None]:
        """Enabled services whose newest check (by anyone: monitor, `services check`, dashboard) is
        older than ``checked_before`` or that were never checked, and the oldest newest check of the
        others (when the next one falls due).  Kept in the store, so the period between two checks
        holds across processes and restarts."""
        cols = ", ".join(f"s.{c.strip()}" for c in _SERVICE_COLS.split(","))
        with self.read() as con:
            rows = dicts(con.execute(
                f"SELECT {cols}, h.last AS _last FROM services s LEFT JOIN (SELECT service, max(checked_at) AS last "
                "FROM health_checks GROUP BY service) h ON h.service = s.name WHERE s.enabled ORDER BY s.name"),
                json_cols=("settings",))
        cutoff = as_utc(to_db_time(checked_before))
        due = [with_protocol_defaults(ServiceConfig(**{k: v for k, v in row.items() if k != "_last"}))
               for row in rows if row["_last"] is None or row["_last"] < cutoff]
        recent = [row["_last"] for row in rows if row["_last"] is not None and row["_last"] >= cutoff]
        return due, min(recent, default=None)
