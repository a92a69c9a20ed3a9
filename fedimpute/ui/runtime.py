"""Process-wide pieces of a dashboard server: one Hub and one background monitor per home.

``panel serve`` runs the app script once per page load, so anything shared must live outside
it: :func:`get_runtime` keeps one :class:`Runtime` per FEDIMPUTE_HOME in ``pn.state.cache``,
and its monitor is scheduled once with ``pn.state.schedule_task`` (idempotent by name).
The monitor is :class:`fedimpute.monitor.Monitor`: lease-guarded, so one process polls a home
even when several servers (or ``fedimpute jobs watch``) run; it also downloads the results of
jobs that completed, which is what the quality view reads.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import panel as pn

from fedimpute.exceptions import FedImputeError
from fedimpute.hub import Hub
from fedimpute.monitor import Monitor, MonitorBusyError
from fedimpute.paths import home_dir
from fedimpute.store import Store
from fedimpute.ui.catalogue_cache import CatalogueCache

__all__ = ["Runtime", "auth_enabled", "get_runtime", "require_sign_in"]

log = logging.getLogger(__name__)
_AUTH_KEY = "fedimpute.auth_required"


def require_sign_in() -> None:
    """Mark this server process as one where every page needs a signed-in user."""
    pn.state.cache[_AUTH_KEY] = True


def auth_enabled() -> bool:
    """Whether pages need a signed-in user (``--basic-auth``/OAuth, or :func:`require_sign_in`)."""
    return bool(pn.config.basic_auth or pn.config.oauth_provider or pn.state.cache.get(_AUTH_KEY))


class Runtime:
    """The Hub, the shared catalogue and the monitor of one home; sweeps never overlap."""

    def __init__(self, home: Path, *, monitor_period: float = 5.0) -> None:
        self.home = home
        self.hub = Hub(Store(home))
        self.catalogue = CatalogueCache(Store(home, lock_timeout=10.0))
        self.monitor_period = monitor_period
        self.sweeps = 0
        self.last_error = ""
        self._sweeping = False
        self._started = False
        self._monitor = None

    @property
    def task_name(self) -> str:
        return f"fedimpute-monitor:{self.home}"

    def start(self) -> bool:
        """Schedule the periodic sweep (once per process); False when the period is 0."""
        if self.monitor_period <= 0:
            return False
        if not self._started:
            pn.state.schedule_task(self.task_name, self.sweep, period=timedelta(seconds=self.monitor_period))
            self._started = True
        return True

    def stop(self) -> None:
        if self._started:
            pn.state.cancel_task(self.task_name)
            self._started = False

    async def sweep(self) -> None:
        """One pass over the active jobs; skipped while the previous one still runs."""
        if self._sweeping:
            return
        self._sweeping = True
        try:
            await self._sweep()
            self.last_error = ""
        except FedImputeError as exc:
            self.last_error = str(exc)
            log.info("monitor sweep: %s", exc)
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("monitor sweep failed")
        finally:
            self.sweeps += 1
            self._sweeping = False

    async def _sweep(self) -> None:
        if self._monitor is None:
            self._monitor = Monitor(self.hub, auto_download=True)
        try:
            await self._monitor.sweep()
        except MonitorBusyError:
            pass  # another process polls this home; its results reach us through the store


def get_runtime(home: str | Path | None = None, *, monitor_period: float = 5.0, start: bool = True) -> Runtime:
    """The Runtime of ``home`` in this process, created (and its monitor started) on first use."""
    path = home_dir(home)
    key = f"fedimpute.runtime:{path}"
    runtime = pn.state.cache.get(key)
    if runtime is None:
        runtime = pn.state.cache[key] = Runtime(path, monitor_period=monitor_period)
    if start:
        runtime.start()
    return runtime
