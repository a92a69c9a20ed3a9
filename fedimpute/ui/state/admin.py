"""AdminState: the lab server's accounts and service catalogue, for admins only.

Accounts change underneath an open page (``fedimpute users`` in a shell, another admin's page),
so every action first asks again whether the signed-in user is still an admin (:class:`AdminCheck`)
and does nothing otherwise; :meth:`AdminState.for_page` refuses to build for a non-admin at all.
Removing a user or changing their password ends their sessions at once (the account's stamp
moves, and the server's session table forgets them).  Account work hashes passwords (argon2,
slow on purpose) and the catalogue is DuckDB: all of it runs in worker threads.  Passwords are
never parameters of this state and never reach a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import pandas as pd
import param

from fedimpute.accounts import Accounts
from fedimpute.catalogue import make_service
from fedimpute.exceptions import FedImputeError
from fedimpute.ui.state.hub import HubState

__all__ = ["SERVICE_COLUMNS", "USER_COLUMNS", "AdminCheck", "AdminState", "admin_check"]

log = logging.getLogger(__name__)
T = TypeVar("T")

USER_COLUMNS = ["name", "admin", "last sign-in (UTC)", "failed sign-ins", "open sessions"]
SERVICE_COLUMNS = ["name", "protocol", "url", "enabled", "health", "checked (UTC)", "detail"]
NOT_ADMIN = "you are no longer an admin: nothing was changed (reload the page)"


@dataclass
class AdminCheck:
    """Is ``user`` an admin now?  Their account says so, or ``FEDIMPUTE_ADMINS`` names them; in a home
    with no accounts at all (one person's server, a notebook), the page's own flag decides."""

    accounts: Accounts
    user: str
    env_admins: frozenset[str] = field(default_factory=frozenset)
    page_admin: bool = False

    def __call__(self) -> bool:
        if not self.user:
            return False
        account = self.accounts.get(self.user)
        if account is not None:
            return account.admin or self.user in self.env_admins
        if self.accounts.exists():  # a signed-in user whose account is gone
            return False
        return self.page_admin or self.user in self.env_admins


def admin_check(hub_state: HubState, *, env_admins: frozenset[str] | None = None) -> AdminCheck | None:
    """The admin re-check for a page of ``hub_state``'s user: None when the page is not an admin's
    (then nothing on it may act as an admin, whatever the accounts say later)."""
    from fedimpute.ui import auth
    from fedimpute.ui.settings import DashboardSettings

    if not hub_state.admin:
        return None
    sign_in = auth.current()
    accounts = sign_in.accounts if sign_in else Accounts(hub_state.store.home)
    admins = DashboardSettings.from_env().admins if env_admins is None else env_admins
    return AdminCheck(accounts, hub_state.user, admins, page_admin=hub_state.admin)


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "never"


class AdminState(param.Parameterized):
    """Users (add, remove, make/unmake admin, reset password) and services (add, enable, disable,
    remove, check); every method re-checks the admin right first."""

    hub_state = param.ClassSelector(class_=HubState, constant=True)
    accounts = param.ClassSelector(class_=Accounts, constant=True)
    sessions = param.Parameter(default=None, constant=True, doc="The server's SessionTable (None: no sign-in).")
    throttle = param.Parameter(default=None, constant=True, doc="The server's sign-in Throttle (None: no sign-in).")
    check = param.Callable(doc="Is the signed-in user (still) an admin?")
    users = param.DataFrame(default=pd.DataFrame(columns=USER_COLUMNS), doc="One row per account.")
    service_rows = param.DataFrame(default=pd.DataFrame(columns=SERVICE_COLUMNS), doc="One row per service.")
    message = param.String(default="", doc="What the last action did.")
    error = param.String(default="", doc="Why the last action did nothing, and what to do.")
    busy = param.Boolean(default=False)

    def __init__(self, **params) -> None:
        super().__init__(**params)
        if self.check is None:
            self.check = AdminCheck(self.accounts, self.hub_state.user, page_admin=self.hub_state.admin)
        self._show_services()
        self.hub_state.param.watch(self._show_services, ["services", "health"])

    @classmethod
    def for_page(cls, hub_state: HubState, *, env_admins: frozenset[str] | None = None) -> AdminState:
        """The Admin page's state for ``hub_state``'s user, with the server's sign-in (if any); refused
        (PermissionError) for a user who is not an admin, whatever asked for the page."""
        from fedimpute.ui import auth

        check = admin_check(hub_state, env_admins=env_admins)
        if check is None or not check():
            raise PermissionError("the Admin page is for admins only")
        sign_in = auth.current()
        return cls(hub_state=hub_state, accounts=check.accounts, sessions=sign_in.sessions if sign_in else None,
                   throttle=sign_in.throttle if sign_in else None, check=check)

    # -- reading -------------------------------------------------------------------------------

    def _read_users(self) -> pd.DataFrame:
        sessions = self.sessions.users() if self.sessions is not None else {}
        rows = [[a.name, "yes" if a.admin else "", _when(a.last_sign_in),
                 self.throttle.failures(a.name) if self.throttle is not None else 0, sessions.get(a.name, 0)]
                for a in self.accounts.list()]
        return pd.DataFrame(rows, columns=USER_COLUMNS)

    def _show_services(self, *_events) -> None:
        state = self.hub_state
        rows = []
        for s in state.services:
            health = state.health_of(s.name)
            rows.append([s.name, s.protocol, s.url, "yes" if s.enabled else "no", health.status.value,
                         _when(health.checked_at), health.detail])
        frame = pd.DataFrame(rows, columns=SERVICE_COLUMNS)
        if not frame.equals(self.service_rows):
            self.service_rows = frame

    async def refresh_async(self) -> None:
        """Re-read the accounts, their sign-in failures and open sessions (in a worker thread)."""
        frame = await self.hub_state.in_thread(self._read_users)
        if not frame.equals(self.users):
            self.users = frame

    # -- every action: still an admin? then the work, in a worker thread -------------------------

    def _say(self, *, message: str = "", error: str = "") -> None:
        self.param.update(message=message, error=error)

    async def _act(self, work: Callable[[], T], done: str) -> T | None:
        """``work()`` in a worker thread if the user is still an admin; ``done`` is said when it worked,
        the error (it names the fix) when it did not."""
        def guarded() -> tuple[bool, T | None]:
            if not self.check():
                return False, None
            return True, work()

        self.param.update(busy=True, message="", error="")
        try:
            allowed, result = await self.hub_state.in_thread(guarded)
        except (FedImputeError, PermissionError) as exc:  # PermissionError: the page's session has ended
            self._say(error=str(exc))
            return None
        finally:
            self.busy = False
        if not allowed:
            self._say(error=NOT_ADMIN)
            return None
        if done:
            log.info("admin %s: %s", self.hub_state.user, done)
        self._say(message=done)
        return result

    def _end_sessions(self, name: str) -> None:
        if self.sessions is not None:
            self.sessions.close_user(name)

    # -- users ---------------------------------------------------------------------------------

    async def add_user(self, name: str, password: str, *, admin: bool = False) -> bool:
        name = (name or "").strip()
        done = await self._act(lambda: self.accounts.add(name, password, admin=admin),
                               f"added user {name}" + (" (admin)" if admin else ""))
        await self._reread()
        return done is not None

    async def remove_user(self, name: str) -> bool:
        if name == self.hub_state.user:
            self._say(error="you cannot remove your own account: another admin can, or run "
                            f"`fedimpute users remove {name}` on the server")
            return False

        def work() -> bool:
            self.accounts.remove(name)
            self._end_sessions(name)
            return True

        done = await self._act(work, f"removed user {name}; their sessions have ended")
        await self._reread()
        return bool(done)

    async def set_admin(self, name: str, admin: bool) -> bool:
        if name == self.hub_state.user and not admin:
            self._say(error="you cannot take away your own admin right: another admin can, or run "
                            "`fedimpute users` on the server")
            return False

        def work() -> bool:
            self.accounts.set_admin(name, admin)
            return True

        done = await self._act(work, f"{name} is {'now' if admin else 'no longer'} an admin")
        await self._reread()
        return bool(done)

    async def reset_password(self, name: str, password: str) -> bool:
        def work() -> bool:
            self.accounts.set_password(name, password)
            self._end_sessions(name)
            return True

        done = await self._act(work, f"set a new password for {name}; their sessions have ended")
        await self._reread()
        return bool(done)

    async def _reread(self) -> None:
        try:
            await self.refresh_async()
        except (FedImputeError, PermissionError) as exc:  # the table stays as it was; a later refresh retries
            log.info("users table not refreshed: %s", exc)

    # -- services ------------------------------------------------------------------------------

    async def add_service(self, name: str, protocol: str, url: str, *, app: str | None = None,
                          description: str = "", location: str = "", settings: list[str] | None = None) -> bool:
        store = self.hub_state.hub.store

        def work() -> bool:
            service = make_service(name.strip(), protocol, url.strip(), app=app or None, description=description,
                                   location=location, settings=settings or ())
            store.add_service(service)
            return True

        done = await self._act(work, f"added service {name.strip()} ({protocol}, {url.strip()})")
        await self._reread_catalogue()
        return bool(done)

    async def set_enabled(self, name: str, enabled: bool) -> bool:
        store = self.hub_state.hub.store

        def work() -> bool:
            service = store.get_service(name)
            store.add_service(service.model_copy(update={"enabled": enabled}), replace=True)
            return True

        done = await self._act(work, f"{'enabled' if enabled else 'disabled'} service {name}")
        await self._reread_catalogue()
        return bool(done)

    async def remove_service(self, name: str) -> bool:
        store = self.hub_state.hub.store

        def work() -> bool:
            store.remove_service(name)
            return True

        done = await self._act(work, f"removed service {name} (its jobs stay in the store)")
        await self._reread_catalogue()
        return bool(done)

    async def check_services(self, names: list[str] | None = None) -> bool:
        """Health and token check of ``names`` (default: every enabled service), as "Check services" does."""
        if await self._act(lambda: True, "") is None:
            return False
        await self.hub_state.check_services(names or None)
        self._say(message=self.hub_state.message)
        return True

    async def _reread_catalogue(self) -> None:
        await self.hub_state.refresh_catalogue_async(fresh=True)

    def protocols(self) -> list[str]:
        """Protocols a service may be added with (the adapter registry, installed ones included)."""
        from fedimpute.services import protocols

        return protocols()

