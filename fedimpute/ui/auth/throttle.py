"""Throttling failed sign-ins, per user name and per address.

Five failures are free (typos); after that each further attempt must wait twice as long as the
previous one (1 s, 2 s, 4 s ...), and 20 failures within the window (15 minutes) refuse every
attempt until the oldest of them leaves the window.  A refused attempt is answered 429 without
checking the password, so a guesser learns nothing from it; a success clears the name and the
address.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["Throttle"]

MAX_KEYS = 10_000  # user names and addresses remembered before old ones are pruned


class Throttle:
    def __init__(self, *, free: int = 5, limit: int = 20, window: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.limit, self.window, self.clock = free, limit, window, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def _wait(self, key: tuple[str, str], now: float) -> float:
        times = self._recent(key, now)
        if len(times) >= self.limit:
            return times[len(times) - self.limit] + self.window - now
        if len(times) >= self.free:
            delay = min(2.0 ** (len(times) - self.free), self.window)
            return max(0.0, times[-1] + delay - now)
        return 0.0

    def retry_after(self, user: str, address: str) -> float:
        """Seconds before ``user`` may try again from ``address`` (0: now)."""
        now = self.clock()
        with self._lock:
            return max(self._wait(("user", user), now), self._wait(("address", address), now))

    def failed(self, user: str, address: str) -> int:
        """Record a failure; the number of the user's failures within the window."""
        now = self.clock()
        with self._lock:
            if len(self._failures) > MAX_KEYS:  # many names or addresses: forget those out of the window
                self._failures = {k: t for k in list(self._failures) if (t := self._recent(k, now))}
            for key in (("user", user), ("address", address)):
                self._failures[key] = self._recent(key, now)
                self._failures[key].append(now)
            return len(self._failures[("user", user)])

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            self._failures.pop(("user", user), None)
            self._failures.pop(("address", address), None)

    def failures(self, user: str) -> int:
        """Failed sign-ins of ``user`` within the window (the admin page shows it)."""
        with self._lock:
            return len(self._recent(("user", user), self.clock()))
