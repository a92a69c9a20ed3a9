"""The uptime strip of a service: its recorded health checks cut into equal time slots.

A status page shows a service's recent past at a glance: one small cell per slot, coloured by
what the checks in it found.  Pure functions over :class:`~fedimpute.models.HealthRecord`, so
the strip is tested without a browser; the Services page only draws the cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fedimpute.models import HealthRecord, HealthStatus

__all__ = ["UPTIME_DAYS", "Slot", "uptime_strip"]

#: The period the Services page shows (and the catalogue reads): one week.
UPTIME_DAYS = 7
#: Slots per strip: four per day over a week (six hours each).
SLOTS = 28


@dataclass(frozen=True)
class Slot:
    """One cell of the strip: ``up`` of ``checks`` checks (``unknown`` ones left out) found it up."""

    start: datetime
    end: datetime
    up: int = 0
    checks: int = 0
    down: int = 0

    @property
    def status(self) -> str:
        """``none`` (no check), ``up``, ``down``, ``maintenance`` or ``partial`` (some up, some not)."""
        if not self.checks:
            return "none"
        if self.up == self.checks:
            return "up"
        if self.up:
            return "partial"
        return "down" if self.down else "maintenance"

    @property
    def title(self) -> str:
        """The cell's tooltip text."""
        span = f"{self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M} UTC"
        return f"{span}: no check" if not self.checks else f"{span}: {self.up} of {self.checks} check(s) up"


def uptime_strip(checks: Sequence[HealthRecord], now: datetime, *, days: int = UPTIME_DAYS,
                 slots: int = SLOTS) -> list[Slot]:
    """``slots`` equal slots covering the ``days`` before ``now``, oldest first; checks outside are ignored."""
    width = timedelta(days=days) / slots
    start = now - timedelta(days=days)
    counts = [[0, 0, 0] for _ in range(slots)]  # up, known checks, down
    for check in checks:
        if check.checked_at is None or check.status is HealthStatus.UNKNOWN or not start <= check.checked_at <= now:
            continue
        index = min(int((check.checked_at - start) / width), slots - 1)
        counts[index][0] += check.status is HealthStatus.UP
        counts[index][1] += 1
        counts[index][2] += check.status is HealthStatus.DOWN
    return [Slot(start=start + i * width, end=start + (i + 1) * width, up=up, checks=n, down=down)
            for i, (up, n, down) in enumerate(counts)]
