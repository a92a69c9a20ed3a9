"""HubState: what one dashboard session knows about the hub, and who is looking.

It holds the domain models (services, health records, panels) as they come from the store
and the :class:`~fedimpute.hub.Hub`; views only render it and forward intent.  It is also
the one place that decides which jobs a session may see (``job_filter``) and act on
(``may_act_on``): the signed-in user's own jobs, or every job for an admin's eyes only.

In a served page (``offload``) the state never touches DuckDB on the page's event loop, which
every session of the server shares: store reads run in worker threads (:meth:`HubState.in_thread`)
and Hub requests on their own event loop in a worker thread (:meth:`HubState.run_hub`), because a
store held by another process makes a read wait for the lock.  While it is held, ``store_busy``
says so and the periodic refresh tries again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import param

from fedimpute.exceptions import FedImputeError, StoreError, StoreLockedError
from fedimpute.hub import Hub
from fedimpute.job_views import visible_job
from fedimpute.models import HealthRecord, HealthStatus, Job, ReferencePanel, ServiceConfig, uptime_of, utcnow
from fedimpute.store import Store
from fedimpute.ui.catalogue_cache import CatalogueCache
from fedimpute.ui.queries import JobFilter
from fedimpute.ui.uptime import Slot
from fedimpute.ui.uptime import uptime_strip as slots_of

__all__ = ["BUSY_NOTICE", "HubState", "with_default"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds a notebook's read waits for the store's lock before it reports "busy".
READ_LOCK_TIMEOUT = 10.0
#: Seconds a served page's read (in a worker thread) waits: long enough to outlast another process's
#: short transaction without a flash of "busy", short enough to say so promptly while it keeps the file.
SERVED_LOCK_TIMEOUT = 1.0
BUSY_NOTICE = "store busy (another fedimpute process holds the database), retrying"
CHECK_TIMEOUT = 20.0


class HubState(param.Parameterized):
    """The session's state; build it with :meth:`from_home` (notebooks) or let ``create_app`` do it."""

    hub = param.ClassSelector(class_=Hub, constant=True, doc="Submits, refreshes and cancels jobs.")
    store = param.ClassSelector(class_=Store, constant=True, doc="Reads for the views (short lock wait).")
    catalogue = param.ClassSelector(class_=CatalogueCache, constant=True, doc="Services, health, panels.")
    user = param.String(default="", constant=True, doc="The signed-in user: owner of jobs submitted here.")
    admin = param.Boolean(default=False, constant=True, doc="Sees every user's jobs (acts on own only).")
    services = param.List(default=[], item_type=ServiceConfig, doc="The service catalogue.")
    health = param.Dict(default={}, doc="Service name -> latest HealthRecord.")
    history = param.Dict(default={}, doc="Service name -> its HealthRecords of the last week, oldest first.")
    tokens = param.Dict(default={}, doc="Service name -> token status text (never the token).")
    panels = param.List(default=[], item_type=ReferencePanel, doc="Panels discovered so far (cached).")
    selected_job_id = param.String(default=None, allow_None=True, doc="The job the detail view shows.")
    message = param.String(default="", doc="The last notice for the user (plain text).")
    busy = param.Boolean(default=False, doc="A service request is under way.")
    offload = param.Boolean(default=False, constant=True, doc="A served page: store reads and Hub requests "
                            "run in worker threads, never on the page's event loop.")
    store_busy = param.String(default="", doc="Said while another process holds the store (reads retry).")

    #: No catalogue read has got through yet (or the last one found the store busy): refresh it again.
    catalogue_stale = True

    @classmethod
    def from_home(cls, home: str | Path | None = None, *, user: str | None = None, admin: bool = False,
                  hub: Hub | None = None, catalogue: CatalogueCache | None = None,
                  offload: bool = False) -> HubState:
        """State for ``home`` (default ``FEDIMPUTE_HOME``) as seen by ``user`` (default: the CLI's owner).

        ``hub`` and ``catalogue`` are shared by the sessions of a server (see ``fedimpute.ui.runtime``).
        With ``offload`` (served pages) nothing is read here: ``refresh_catalogue_async`` reads later,
        off the event loop, and reads wait only briefly for the lock.
        """
        from fedimpute.owners import default_owner

        hub = hub or Hub(Store(home))
        store = Store(hub.store.home, lock_timeout=SERVED_LOCK_TIMEOUT if offload else READ_LOCK_TIMEOUT)
        state = cls(hub=hub, store=store, user=user or default_owner(), admin=admin,
                    catalogue=catalogue or CatalogueCache(store), offload=offload)
        if not offload:
            state.refresh_catalogue()
        return state

    # -- off the event loop ------------------------------------------------------------------

    def bind_session(self, check: Callable[[], bool]) -> None:
        """Tie this state to a sign-in: ``check()`` (is the session still alive?) is asked before every
        read and action, so a removed user's open page does nothing more at its next click."""
        self._session_check = check

    def end_session(self) -> None:
        self._session_check = lambda: False

    def _require_session(self) -> None:
        check = getattr(self, "_session_check", None)
        if check is not None and not check():
            self._session_check = lambda: False
            raise PermissionError("your session has ended: sign in again")

    async def in_thread(self, read: Callable[..., T], *args: Any) -> T:
        """``read(*args)`` (store work) in a worker thread, so the event loop never waits for DuckDB or
        its lock.  A store held by another process sets ``store_busy`` (and the error propagates: the
        caller keeps what it showed and retries); a read that gets through clears it."""
        self._require_session()
        return await self.settle(asyncio.to_thread(read, *args))

    @staticmethod
    def prefetch(read: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Start ``read(*args)`` in a worker thread now (a served session being built) and await it
        later with :meth:`settle`, once the page can show the result.  Touches no parameter."""
        future = asyncio.ensure_future(asyncio.to_thread(read, *args))
        future.add_done_callback(lambda f: f.cancelled() or f.exception())  # a page closed before it asked
        return future

    async def settle(self, reading: Awaitable[T]) -> T:
        """Await a store read running in a worker thread, keeping ``store_busy`` up to date."""
        try:
            result = await reading
        except StoreLockedError:
            self.store_busy = BUSY_NOTICE
            raise
        if self.store_busy:
            self.store_busy = ""
        return result

    async def run_hub(self, work: Callable[[], Awaitable[T]]) -> T:
        """Await ``work()``, a Hub coroutine.  Served pages run it on an event loop of its own in a thread
        of its own: the Hub's store calls wait up to a minute for the file lock, which on the page's loop
        would freeze every session of the server, and a download may take minutes, which in the shared
        worker threads would hold up the sessions' reads."""
        self._require_session()
        if not self.offload:
            return await work()
        outcome: concurrent.futures.Future[T] = concurrent.futures.Future()

        async def main() -> T:
            return await work()

        def run() -> None:
            if outcome.set_running_or_notify_cancel():
                try:
                    outcome.set_result(asyncio.run(main()))
                except BaseException as exc:  # handed to the awaiting page, which reports it
                    outcome.set_exception(exc)

        threading.Thread(target=run, name="fedimpute-hub-request", daemon=True).start()
        return await asyncio.wrap_future(outcome)

    def soon(self, work: Callable[[], Awaitable[object]]) -> None:
        """Start ``work()`` on the running event loop without waiting for it (a watcher cannot await).
        Panel's executor runs it in the session's document context and reports its errors."""
        param.parameterized.async_executor(work)

    # -- who may see what --------------------------------------------------------------------

    def job_filter(self, **criteria) -> JobFilter:
        """A filter scoped to this user's jobs (all jobs for an admin)."""
        return JobFilter(owner=None if self.admin else self.user, **criteria)

    def may_see(self, job: Job) -> bool:
        return self.admin or job.owner == self.user

    def may_act_on(self, job: Job) -> bool:
        """Cancel, download: only the owner (admins see other users' jobs, they do not act on them)."""
        return job.owner == self.user

    def get_job(self, job_id: str) -> Job:
        """The job, if this user may see it; another user's job reads exactly as a job that does not exist."""
        return visible_job(self.store, job_id, user=self.user, admin=self.admin)

    # -- the catalogue -----------------------------------------------------------------------

    def refresh_catalogue(self, *, fresh: bool = False) -> None:
        """Services, their latest health, token status and cached panels (``fresh``: from the store now)."""
        self._show_catalogue(self._read_catalogue(fresh))
        self.catalogue_stale = False

    async def refresh_catalogue_async(self, *, fresh: bool = False,
                                      prefetched: asyncio.Future | None = None) -> bool:
        """:meth:`refresh_catalogue` read in a worker thread (or the read ``prefetched`` started);
        False (the catalogue kept as shown, and ``catalogue_stale`` set for the next refresh) when the
        store could not be read."""
        try:
            data = await self.settle(prefetched or asyncio.to_thread(self._read_catalogue, fresh))
        except StoreError as exc:
            log.info("catalogue refresh skipped: %s", exc)
            self.catalogue_stale = True
            return False
        self.catalogue_stale = False
        self._show_catalogue(data)
        return True

    def _read_catalogue(self, fresh: bool = False) -> dict[str, Any]:
        """The catalogue and each service's token status (keyring lookups: also kept off the loop)."""
        data = self.catalogue.read(fresh=fresh)
        return {**data, "tokens": {s.name: self._token_status(s) for s in data["services"]}}

    def _show_catalogue(self, data: dict[str, Any]) -> None:
        changes = {k: v for k, v in data.items() if v != getattr(self, k)}
        if changes:
            self.param.update(**changes)

    def _token_status(self, service: ServiceConfig) -> str:
        from fedimpute.services import adapter_class

        try:
            needs = adapter_class(service.protocol).needs_token
        except FedImputeError:
            needs = False
        origin = self.hub.credentials.token_owner(service.name, self.user or None)  # this user's, else the lab's
        if origin is not None:
            return {"own": "stored", "shared": "the lab's shared token"}.get(origin, "from the environment")
        return (f"missing: set it in Settings or run `fedimpute login {service.name} --user {self.user}`"
                if needs else "not needed")

    def health_of(self, name: str) -> HealthRecord:
        return self.health.get(name) or HealthRecord(service=name, status=HealthStatus.UNKNOWN, checked_at=None,
                                                     detail="never checked")

    def uptime(self, name: str) -> float | None:
        """The share of last week's checks that found ``name`` up (None: never checked)."""
        return uptime_of(self.history.get(name, []))

    def uptime_strip(self, name: str, now: datetime | None = None) -> list[Slot]:
        """Last week's checks of ``name`` in equal slots, oldest first (the Services page's strip)."""
        return slots_of(self.history.get(name, []), now or utcnow())

    async def check_services(self, names: list[str] | None = None) -> None:
        """Check health and token of ``names`` (default: every enabled service) concurrently."""
        names = names or [s.name for s in self.services if s.enabled]
        self.busy = True
        try:
            outcomes = await self.run_hub(lambda: asyncio.gather(*(self._check_one(n) for n in names)))
        finally:
            self.busy = False
        await self.refresh_catalogue_async(fresh=True)
        tokens = dict(self.tokens)
        tokens.update({name: text for name, text in outcomes if text})
        self.param.update(tokens=tokens, message=f"checked {len(names)} service(s)")

    async def _check_one(self, name: str) -> tuple[str, str | None]:
        try:
            _, token = await asyncio.wait_for(self.hub.check_service(name, user=self.user or None), CHECK_TIMEOUT)
        except (TimeoutError, FedImputeError) as exc:
            detail = f"no answer within {CHECK_TIMEOUT:.0f} s" if isinstance(exc, TimeoutError) else str(exc)
            self.hub.store.record_health(HealthRecord(service=name, status=HealthStatus.DOWN, detail=detail))
            return name, None
        if token is None:
            return name, None
        text = {True: "valid", False: f"refused: {token.message}"}.get(token.valid, f"unchecked: {token.message}")
        if token.valid and token.expires_at:
            text += f" until {token.expires_at:%Y-%m-%d}"
        return name, text

    async def discover_panels(self, names: list[str] | None = None) -> list[str]:
        """Re-read the panels of ``names`` (default: every enabled service); returns the errors."""
        names = names or [s.name for s in self.services if s.enabled]
        self.busy = True
        errors = []
        try:
            results = await self.run_hub(lambda: asyncio.gather(
                *(asyncio.wait_for(self.hub.panels(n, refresh=True, user=self.user or None), CHECK_TIMEOUT)
                  for n in names),
                return_exceptions=True))
        finally:
            self.busy = False
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, (TimeoutError, FedImputeError)):
                    log.warning("panel discovery of %s failed", name, exc_info=result)
                errors.append(f"{name}: {result or type(result).__name__}")
        await self.refresh_catalogue_async(fresh=True)
        self.message = "; ".join(errors) if errors else f"panels of {len(names)} service(s) read"
        return errors


def with_default(params: dict[str, Any], name: str,
                 make: Callable[[HubState], Any] = lambda state: state) -> dict[str, Any]:
    """A view's params with ``name`` built on this home's default :class:`HubState` when the caller
    gave none (a view made bare in a notebook shows the current FEDIMPUTE_HOME)."""
    if params.get(name) is None:
        params[name] = make(HubState.from_home())
    return params
