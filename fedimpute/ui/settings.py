"""Dashboard settings, from arguments or the environment (``panel serve`` passes no arguments).

==================================== ================================================== ==========
variable                             meaning                                            default
==================================== ================================================== ==========
``FEDIMPUTE_ADMINS``                 users who see every user's jobs and the Admin page none
``FEDIMPUTE_MONITOR_PERIOD``         seconds between background sweeps; 0 turns it off  5
``FEDIMPUTE_REFRESH_MS``             how often a page re-reads the store (ms); 0: never 2000
``FEDIMPUTE_SESSION_IDLE_HOURS``     a sign-in ends after this long without a request   12
``FEDIMPUTE_SIGNIN_WINDOW``          seconds over which failed sign-ins are counted     900
``FEDIMPUTE_DATA_ROOT``              folder of per-user data folders (``DIR/<user>``)   none
``FEDIMPUTE_MAX_UPLOAD_MB``          largest browser upload, one file (MiB)             4096
``FEDIMPUTE_MAX_SUBMISSION_FILES``   uploads in one submission                          50
``FEDIMPUTE_MAX_SUBMISSION_MB``      uploaded bytes in one submission (MiB)             40960
``FEDIMPUTE_MAX_USER_UPLOAD_FILES``  uploads one user keeps staged at once              100
``FEDIMPUTE_MAX_USER_UPLOAD_MB``     uploaded bytes one user keeps staged at once (MiB) 81920
==================================== ================================================== ==========

The upload limits are checked by the server before each chunk is written (the browser is not
trusted with them); ``fedimpute serve --data-root DIR`` sets ``FEDIMPUTE_DATA_ROOT``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from fedimpute.exceptions import UsageError

__all__ = ["MIB", "DashboardSettings", "UploadLimits"]

MIB = 1 << 20


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a whole number; set it to a number like {default}") from None
    if value <= 0:
        raise UsageError(f"{name}={raw} must be positive; unset it for the default ({default})")
    return value


@dataclass(frozen=True)
class UploadLimits:
    """What browser uploads may take on the server's disk: per file, per submission, per user."""

    file_bytes: int = 4096 * MIB
    submission_files: int = 50
    submission_bytes: int = 40960 * MIB
    user_files: int = 100
    user_bytes: int = 81920 * MIB

    @classmethod
    def from_env(cls) -> UploadLimits:
        d = cls()
        return cls(file_bytes=_env_int("FEDIMPUTE_MAX_UPLOAD_MB", d.file_bytes // MIB) * MIB,
                   submission_files=_env_int("FEDIMPUTE_MAX_SUBMISSION_FILES", d.submission_files),
                   submission_bytes=_env_int("FEDIMPUTE_MAX_SUBMISSION_MB", d.submission_bytes // MIB) * MIB,
                   user_files=_env_int("FEDIMPUTE_MAX_USER_UPLOAD_FILES", d.user_files),
                   user_bytes=_env_int("FEDIMPUTE_MAX_USER_UPLOAD_MB", d.user_bytes // MIB) * MIB)


def data_root_from_env() -> Path | None:
    raw = os.environ.get("FEDIMPUTE_DATA_ROOT", "").strip()
    return Path(raw) if raw else None


@dataclass(frozen=True)
class DashboardSettings:
    admins: frozenset[str] = field(default_factory=frozenset)
    monitor_period: float = 5.0
    refresh_ms: int = 2000
    session_idle_hours: float = 12.0
    sign_in_window: float = 900.0
    uploads: UploadLimits = field(default_factory=UploadLimits)
    data_root: Path | None = None

    @classmethod
    def from_env(cls) -> DashboardSettings:
        admins = frozenset(a.strip() for a in os.environ.get("FEDIMPUTE_ADMINS", "").split(",") if a.strip())
        return cls(admins=admins, monitor_period=float(os.environ.get("FEDIMPUTE_MONITOR_PERIOD", "5") or 0),
                   refresh_ms=int(os.environ.get("FEDIMPUTE_REFRESH_MS", "2000") or 0),
                   session_idle_hours=float(os.environ.get("FEDIMPUTE_SESSION_IDLE_HOURS", "12") or 12),
                   sign_in_window=float(os.environ.get("FEDIMPUTE_SIGNIN_WINDOW", "900") or 900),
                   uploads=UploadLimits.from_env(), data_root=data_root_from_env())

    def to_env(self) -> dict[str, str]:
        """The same settings as environment variables (for a ``panel serve`` subprocess)."""
        env = {"FEDIMPUTE_ADMINS": ",".join(sorted(self.admins)),
               "FEDIMPUTE_MONITOR_PERIOD": f"{self.monitor_period:g}", "FEDIMPUTE_REFRESH_MS": str(self.refresh_ms)}
        if self.data_root is not None:
            env["FEDIMPUTE_DATA_ROOT"] = str(self.data_root)
        return env
