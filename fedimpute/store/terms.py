"""Store methods for the services' terms: which version of a service's terms each user accepted."""

from __future__ import annotations

from datetime import datetime

from fedimpute.models import utcnow
from fedimpute.store._rows import dicts, to_db_time
from fedimpute.store.base import StoreBase

__all__ = ["TermsStore"]


class TermsStore(StoreBase):
    def accept_terms(self, user: str, service: str, terms_sha256: str, *, at: datetime | None = None) -> None:
        """Record that ``user`` accepted the terms of ``service`` whose texts hash to ``terms_sha256``
        (see :func:`fedimpute.services.base.terms_digest`); accepting the same version again keeps the
        first time."""
        with self.tx() as con:
            con.execute('INSERT INTO terms_acceptance ("user", service, terms_sha256, accepted_at) '
                        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [user, service, terms_sha256, to_db_time(at or utcnow())])

    def accepted_terms(self, user: str, service: str | None = None) -> dict[tuple[str, str], datetime]:
        """``(service, terms_sha256) -> accepted_at`` of every version ``user`` accepted (of ``service``)."""
        sql = ('SELECT service, terms_sha256, accepted_at FROM terms_acceptance WHERE "user" = ?'
               + (" AND service = ?" if service else "") + " ORDER BY accepted_at")
        with self.read() as con:
            rows = dicts(con.execute(sql, [user, *([service] if service else [])]))
        return {(r["service"], r["terms_sha256"]): r["accepted_at"] for r in rows}
