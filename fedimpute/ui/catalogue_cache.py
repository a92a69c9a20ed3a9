"""The catalogue (services, their latest health, cached panels), read once for many sessions.

Every page load needs it, and each store read costs a DuckDB open (30–80 ms here); the
catalogue describes services, not users, so one copy per process serves every session for a
few seconds.  Reads after a health check or a panel discovery bypass the copy (``fresh``).
Served pages read it from worker threads: one read at a time, the others then take its copy.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from fedimpute.models import utcnow
from fedimpute.store import Store
from fedimpute.ui.uptime import UPTIME_DAYS

__all__ = ["CatalogueCache"]


class CatalogueCache:
    """``read()`` gives ``{services, health, panels, history}``, at most ``max_age`` seconds old;
    ``history`` maps a service to its health checks of the last week, oldest first (uptime strips)."""

    def __init__(self, store: Store, *, max_age: float = 5.0) -> None:
        self.store, self.max_age = store, max_age
        self._value: dict[str, Any] | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def read(self, *, fresh: bool = False) -> dict[str, Any]:
        asked = time.monotonic()
        with self._lock:
            if (fresh and self._read_at < asked) or self._value is None or asked - self._read_at > self.max_age:
                started = time.monotonic()  # a read begun after a "fresh" ask has what was written before it
                self._value = self._read()
                self._read_at = started
            return self._value

    def _read(self) -> dict[str, Any]:
        since = utcnow() - timedelta(days=UPTIME_DAYS)
        with self.store.session():  # four reads, one DuckDB open
            return {"services": self.store.list_services(), "health": self.store.latest_health(),
                    "panels": self.store.list_panels(),
                    "history": {name: h.checks for name, h in self.store.health_histories(since).items()}}
