"""Process-wide pieces of a dashboard server: one Hub and one background monitor per home.

``panel serve`` runs the app script once per page load, so anything shared must live outside
it: :func:`get_runtime` keeps one :class:`Runtime` per FEDIMPUTE_HOME in ``pn.state.cache``,
and its monitor is started once.  The monitor is :class:`fedimpute.monitor.Monitor`: lease-guarded,
so one process polls a home even when several servers (or ``fedimpute jobs watch``) run; it also
downloads the results of jobs that completed, which is what the quality view reads.

The monitor runs on a thread of its own with its own event loop, never on the server's: its
store calls wait (and sleep) for the file lock while another process holds it, and its sweeps
take seconds of DuckDB work, either of which would freeze every browser session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

import panel as pn

from fedimpute.credentials import Credentials
from fedimpute.exceptions import FedImputeError
from fedimpute.hub import Hub
from fedimpute.monitor import Monitor, MonitorBusyError
from fedimpute.paths import home_dir
from fedimpute.store import Store
from fedimpute.ui.catalogue_cache import CatalogueCache
from fedimpute.ui.state.hub import SERVED_LOCK_TIMEOUT

__all__ = ["Runtime", "get_runtime"]

log = logging.getLogger(__name__)


class Runtime:
    """The Hub, the shared catalogue and the monitor of one home; sweeps never overlap."""

    def __init__(self, home: Path, *, monitor_period: float = 5.0, environment: bool = True) -> None:
        self.home = home
        # a lab server (environment=False) never lets a token from its own environment act for its users
        self.hub = Hub(Store(home), Credentials(home, environment=environment))
        self.catalogue = CatalogueCache(Store(home, lock_timeout=SERVED_LOCK_TIMEOUT))
        self.monitor_period = monitor_period
        self.sweeps = 0
        self.last_error = ""
        self._sweeping = False
        self._monitor = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake: Callable[[], object] | None = None  # ends the monitor's wait between sweeps
        self._start_lock = threading.Lock()

    @property
    def task_name(self) -> str:
        return f"fedimpute-monitor:{self.home}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start the monitor's thread (once per process); False when the period is 0."""
        if self.monitor_period <= 0:
            return False
        with self._start_lock:
            if not self.running:
                self._stopping = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._stopping,), name=self.task_name,
                                                daemon=True)
                self._thread.start()
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the monitor after its current sweep (waits up to ``timeout`` seconds for it)."""
        with self._start_lock:
            thread, self._thread = self._thread, None
            self._stopping.set()
            wake, self._wake = self._wake, None
        if wake is not None:
            with contextlib.suppress(RuntimeError):  # its loop has already ended
                wake()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self, stopping: threading.Event) -> None:
        self._monitor = None  # a Monitor of this thread's event loop
        asyncio.run(self._watch(stopping))

    async def _watch(self, stopping: threading.Event) -> None:
        """Sweep every ``monitor_period`` seconds until stopped (``stop`` wakes the wait between sweeps)."""
        woken = asyncio.Event()
        loop = asyncio.get_running_loop()
        with self._start_lock:
            if not stopping.is_set():
                self._wake = lambda: loop.call_soon_threadsafe(woken.set)
        while not stopping.is_set():
            await self.sweep()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), self.monitor_period)

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
        # MonitorBusyError: another process polls this home; its results reach us through the store
        with contextlib.suppress(MonitorBusyError):
            await self._monitor.sweep()


def get_runtime(home: str | Path | None = None, *, monitor_period: float = 5.0, start: bool = True,
                environment: bool = True) -> Runtime:
    """The Runtime of ``home`` in this process, created (and its monitor started) on first use;
    ``environment=False`` (a server with accounts) ignores ``FEDIMPUTE_TOKEN_*``."""
    path = home_dir(home)
    key = f"fedimpute.runtime:{path}"
    runtime = pn.state.cache.get(key)
    if runtime is None:
        runtime = pn.state.cache[key] = Runtime(path, monitor_period=monitor_period, environment=environment)
    if start:
        runtime.start()
    return runtime
