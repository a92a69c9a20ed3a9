"""TokenState: the signed-in user's own service tokens (the Settings page), and the lab's shared ones.

The services' terms are per person, so each user of a lab keeps a token of their own; their jobs
are sent with it, else with the lab's shared token where an admin set one.  A token is checked
with the service before it is kept: one the service refuses is never stored, and neither is one
it could not be asked about (the user tries again), so the page never keeps what it cannot vouch
for.  A token never becomes a parameter here (parameters are what the page shows): its text goes
from the input to the service's check to the secret store, and the page learns only "set, valid
until ..." or what the service said.  Secret-store reads and writes run in worker threads and the
service's check in the Hub's thread (:meth:`HubState.in_thread`, :meth:`HubState.run_hub`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial

import param
from pydantic import SecretStr

from fedimpute.credentials import token_env_name
from fedimpute.exceptions import FedImputeError
from fedimpute.redaction import register_secret
from fedimpute.services import adapter_class
from fedimpute.services.base import TokenInfo
from fedimpute.ui.state.hub import HubState

__all__ = ["VERIFY_TIMEOUT", "Stored", "TokenState", "check_text", "status_text"]

log = logging.getLogger(__name__)

#: Seconds a service has to answer a token check.
VERIFY_TIMEOUT = 20.0
CHECKING = "checking with the service ..."


@dataclass(frozen=True)
class Stored:
    """What the secret store holds for one service (never the token itself)."""

    own: bool
    shared: bool
    origin: str | None  # whose token the user's requests send: own, shared, environment or None


def check_text(info: TokenInfo | None) -> str:
    """What a service said of a token, for people (never the token)."""
    if info is None:
        return ""
    if info.valid:
        return f"valid until {info.expires_at:%Y-%m-%d}" if info.expires_at else "valid"
    if info.valid is False:
        return f"refused by the service: {info.message or 'invalid or expired'}; paste a new one"
    return f"could not be checked now: {info.message}"


def status_text(service: str, stored: Stored, check: str = "") -> str:
    """The user's token status: "your token: set (valid until ...)", "using the lab's shared token", ..."""
    if stored.origin == "own":
        base = "your token: set"
    elif stored.origin == "shared":
        base = "using the lab's shared token"
    elif stored.origin == "environment":
        base = f"the server's environment ({token_env_name(service)})"
    else:
        return "no token: paste yours below (the API token from the service's profile page)"
    return f"{base} ({check})" if check else base


class TokenState(param.Parameterized):
    """The Settings page's model: :meth:`refresh_async`, then :meth:`save` and :meth:`remove`."""

    hub_state = param.ClassSelector(class_=HubState, constant=True)
    is_admin = param.Callable(default=None, doc="Asked before every change to a shared token: is the signed-in "
                              "user (still) an admin?  None: nobody may change shared tokens here.")
    services = param.List(default=[], item_type=str, doc="Enabled services whose protocol needs a token.")
    statuses = param.Dict(default={}, doc="Service -> the user's token status (never the token).")
    shared_statuses = param.Dict(default={}, doc="Service -> the lab's shared token: set / not set.")
    message = param.String(default="", doc="What the last action did.")
    error = param.String(default="", doc="Why the last action did nothing, and what to do.")
    busy = param.Boolean(default=False, doc="A service is checking a token.")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._stored: dict[str, Stored] = {}
        self._checks: dict[str, str] = {}
        self._sync_services()
        self.hub_state.param.watch(self._catalogue_changed, "services")

    # -- what is shown -------------------------------------------------------------------------

    def _sync_services(self) -> None:
        names = []
        for service in self.hub_state.services:
            try:
                needs = adapter_class(service.protocol).needs_token
            except FedImputeError:  # a protocol this installation lacks: nothing to set
                needs = False
            if service.enabled and needs:
                names.append(service.name)
        if names != self.services:
            self.services = names

    def _catalogue_changed(self, *_events) -> None:
        self._sync_services()
        self._show()

    def _read_stored(self, services: list[str]) -> dict[str, Stored]:
        """Secret-store lookups (a keyring or a locked file): in a worker thread."""
        creds, user = self.hub_state.hub.credentials, self.hub_state.user
        return {name: Stored(own=bool(user) and creds.has_own_token(name, user),
                              shared=creds.token_owner(name, None) == "shared",
                              origin=creds.token_owner(name, user or None)) for name in services}

    def _show(self) -> None:
        stored = {n: self._stored[n] for n in self.services if n in self._stored}
        self.param.update(
            statuses={n: status_text(n, s, self._checks.get(n, "")) for n, s in stored.items()},
            shared_statuses={n: "set" if s.shared else "not set" for n, s in stored.items()})

    def refresh(self) -> None:
        """Read what is stored (no service is asked): notebooks, where the store may be read in place."""
        self._stored = self._read_stored(self.services)
        self._show()

    async def refresh_async(self, *, verify: bool = True) -> None:
        """Read what is stored in a worker thread; with ``verify``, ask each service about the token the
        user's jobs would be sent with (all services at once, each within :data:`VERIFY_TIMEOUT`)."""
        self._stored = await self.hub_state.in_thread(self._read_stored, list(self.services))
        names = [n for n, s in self._stored.items() if s.origin is not None] if verify else []
        if names:
            self._checks.update({n: CHECKING for n in names})
            self._show()
            texts = await self.hub_state.run_hub(lambda: asyncio.gather(*(self._check(n) for n in names)))
            self._checks.update(zip(names, texts, strict=True))
        self._show()

    async def _check(self, name: str) -> str:
        """What ``name`` says of the token the user's jobs would be sent with (theirs, else the lab's)."""
        hub, user = self.hub_state.hub, self.hub_state.user or None
        try:
            info = await asyncio.wait_for(hub.verify_token(name, user=user), VERIFY_TIMEOUT)
        except TimeoutError:
            return f"could not be checked now: no answer within {VERIFY_TIMEOUT:.0f} s"
        except FedImputeError as exc:
            return f"could not be checked now: {exc}"
        return check_text(info)

    # -- what the user does --------------------------------------------------------------------

    def _say(self, *, message: str = "", error: str = "") -> None:
        self.param.update(message=message, error=error)

    async def _allowed(self, service: str, shared: bool) -> bool:
        if service not in self.services:
            self._say(error=f"{service!r} is not a service that needs a token here; choose one from the list")
            return False
        if shared and not (self.is_admin is not None and await self.hub_state.in_thread(self.is_admin)):
            self._say(error="only admins set or remove the lab's shared token")
            return False
        return True

    async def save(self, service: str, token: str, *, shared: bool = False) -> bool:
        """Check ``token`` with ``service``, then keep it as the user's own (``shared``: the lab's, admins
        only).  A token the service refuses or cannot check is not kept; the page says why."""
        value = (token or "").strip()
        if not value:
            self._say(error="paste the token first (the API token from the service's profile page)")
            return False
        if not await self._allowed(service, shared):
            return False
        register_secret(value)  # masked in any log line from here on
        hub = self.hub_state.hub
        self.param.update(busy=True, message="", error="")
        try:
            info = await self.hub_state.run_hub(
                lambda: asyncio.wait_for(hub.verify_token(service, SecretStr(value)), VERIFY_TIMEOUT))
        except (TimeoutError, FedImputeError) as exc:
            reason = f"no answer within {VERIFY_TIMEOUT:.0f} s" if isinstance(exc, TimeoutError) else str(exc)
            self._say(error=f"could not check the token with {service} ({reason}); it was not kept: try again "
                            "when the service answers")
            return False
        finally:
            self.busy = False
        if info is not None and info.valid is not True:
            said = info.message or ("invalid or expired" if info.valid is False else "no answer")
            self._say(error=(f"{service} refused this token ({said}); it was not kept. Create a new API token "
                             "on the service's profile page and paste it here") if info.valid is False else
                      f"could not check the token with {service} ({said}); it was not kept: try again later")
            return False
        user = None if shared else self.hub_state.user
        await self.hub_state.in_thread(partial(hub.credentials.set_token, service, value, user=user))
        whose = "the lab's shared token" if shared else "your token"
        checked = check_text(info)
        if shared:
            self._checks.pop(service, None)
        else:
            self._checks[service] = checked
        log.info("%s stored %s for %s", self.hub_state.user, "the shared token" if shared else "their token", service)
        await self._after_change(verify=shared)
        self._say(message=f"{whose} for {service} is set" + (f" ({checked})" if checked else
                                                             " (this service cannot check tokens)"))
        return True

    async def remove(self, service: str, *, shared: bool = False) -> bool:
        """Forget the user's own token for ``service`` (``shared``: the lab's, admins only)."""
        if not await self._allowed(service, shared):
            return False
        hub, user = self.hub_state.hub, None if shared else self.hub_state.user
        await self.hub_state.in_thread(partial(hub.credentials.delete_token, service, user=user))
        self._checks.pop(service, None)
        await self._after_change(verify=not shared)
        stored = self._stored.get(service)
        after = "; your jobs there now use the lab's shared token" if stored and stored.origin == "shared" else ""
        self._say(message=("the lab's shared token" if shared else "your token") + f" for {service} was removed"
                  + ("" if shared else after))
        return True

    async def _after_change(self, *, verify: bool = False) -> None:
        """Show the new state here and in the Services page's token column."""
        await self.refresh_async(verify=verify)
        await self.hub_state.refresh_catalogue_async()

