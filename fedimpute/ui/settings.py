"""Dashboard settings, from arguments or the environment (``panel serve`` passes no arguments).

================================ ====================================================== =========
variable                         meaning                                                default
================================ ====================================================== =========
``FEDIMPUTE_ADMINS``             users who see every user's jobs and the Admin page     none
``FEDIMPUTE_MONITOR_PERIOD``     seconds between background sweeps; 0 turns it off      5
``FEDIMPUTE_REFRESH_MS``         how often a page re-reads the store (ms); 0: never     2000
``FEDIMPUTE_SESSION_IDLE_HOURS`` a sign-in ends after this long without a request      12
``FEDIMPUTE_SIGNIN_WINDOW``      seconds over which failed sign-ins are counted         900
================================ ====================================================== =========
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["DashboardSettings"]


@dataclass(frozen=True)
class DashboardSettings:
    admins: frozenset[str] = field(default_factory=frozenset)
    monitor_period: float = 5.0
    refresh_ms: int = 2000
    session_idle_hours: float = 12.0
    sign_in_window: float = 900.0

    @classmethod
    def from_env(cls) -> DashboardSettings:
        admins = frozenset(a.strip() for a in os.environ.get("FEDIMPUTE_ADMINS", "").split(",") if a.strip())
        return cls(admins=admins, monitor_period=float(os.environ.get("FEDIMPUTE_MONITOR_PERIOD", "5") or 0),
                   refresh_ms=int(os.environ.get("FEDIMPUTE_REFRESH_MS", "2000") or 0),
                   session_idle_hours=float(os.environ.get("FEDIMPUTE_SESSION_IDLE_HOURS", "12") or 12),
                   sign_in_window=float(os.environ.get("FEDIMPUTE_SIGNIN_WINDOW", "900") or 900))

    def to_env(self) -> dict[str, str]:
        """The same settings as environment variables (for a ``panel serve`` subprocess)."""
        return {"FEDIMPUTE_ADMINS": ",".join(sorted(self.admins)),
                "FEDIMPUTE_MONITOR_PERIOD": f"{self.monitor_period:g}", "FEDIMPUTE_REFRESH_MS": str(self.refresh_ms)}
