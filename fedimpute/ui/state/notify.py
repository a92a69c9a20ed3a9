"""NotifyState: the signed-in user's notification channels on the Settings page.

A channel's URL carries credentials, so it never becomes a parameter (parameters are what the page
shows): it goes from the input straight to :class:`~fedimpute.notify.manage.Notifications`, which
checks it with apprise and keeps it in the secret store.  The page learns only each channel's public
view (id, scheme, host, events, last error).  Every channel is the signed-in user's own: no one,
admins included, sees another user's.  Secret-store and store work, and test messages (network),
run in worker threads (:meth:`HubState.in_thread`).
"""

from __future__ import annotations

import logging

import param

from fedimpute.exceptions import FedImputeError
from fedimpute.notify.channels import EVENTS
from fedimpute.notify.manage import Notifications
from fedimpute.ui.state.hub import HubState

__all__ = ["NotifyState"]

log = logging.getLogger(__name__)


class NotifyState(param.Parameterized):
    """The Settings page's notification channels: :meth:`refresh_async`, :meth:`add`, :meth:`remove`,
    :meth:`test`."""

    hub_state = param.ClassSelector(class_=HubState, constant=True)
    channels = param.List(default=[], doc="The user's channels, public views only: {id, scheme, host, events, "
                          "last_error}.")
    events = param.List(default=list(EVENTS), constant=True, doc="Every event a channel can subscribe to.")
    message = param.String(default="", doc="What the last action did.")
    error = param.String(default="", doc="Why the last action did nothing, and what to do.")
    busy = param.Boolean(default=False, doc="A test message is being sent.")
    ready = param.Boolean(default=False, doc="The channels were read at least once.")

    def _notes(self) -> Notifications:
        hub = self.hub_state.hub
        return Notifications(hub.store, hub.credentials, self.hub_state.user)

    def _say(self, *, message: str = "", error: str = "") -> None:
        self.param.update(message=message, error=error)

    def refresh(self) -> None:
        """Read the channels in place (notebooks)."""
        self.param.update(channels=self._notes().channels(), ready=True)

    async def refresh_async(self) -> None:
        channels = await self.hub_state.in_thread(lambda: self._notes().channels())
        self.param.update(channels=channels, ready=True)

    async def add(self, url: str, events: list[str] | tuple[str, ...] | None = None) -> bool:
        """Check ``url`` with apprise and keep it for the user; the page says what was added (never the URL)."""
        chosen = tuple(e for e in EVENTS if e in (events or ()))
        if not (url or "").strip():
            self._say(error="paste an apprise URL first, e.g. mailtos://USER:PASSWORD@smtp.example.org"
                            "?to=you@example.org or json://hooks.example.org/path")
            return False
        if not chosen:
            self._say(error="choose at least one event to be told about")
            return False
        try:
            added = await self.hub_state.in_thread(lambda: self._notes().add(url, chosen))
        except FedImputeError as exc:
            self._say(error=str(exc))
            return False
        log.info("%s added notification channel %s (%s)", self.hub_state.user, added["id"], added["scheme"])
        await self.refresh_async()
        self._say(message=f"added {added['id']} ({added['scheme']} {added['host']}): {', '.join(added['events'])}; "
                          "send a test message to check it")
        return True

    async def remove(self, channel_id: str) -> bool:
        try:
            gone = await self.hub_state.in_thread(lambda: self._notes().remove(channel_id))
        except FedImputeError as exc:
            self._say(error=str(exc))
            return False
        await self.refresh_async()
        self._say(message=f"removed {gone['id']} ({gone['scheme']} {gone['host']})")
        return True

    async def test(self, channel_id: str | None = None) -> bool:
        """Send a test message through one channel (None: every one); say per channel ok or why not."""
        self.param.update(busy=True, message="", error="")
        try:
            outcomes = await self.hub_state.in_thread(lambda: self._notes().test(channel_id))
        except FedImputeError as exc:
            self._say(error=str(exc))
            return False
        finally:
            self.busy = False
        await self.refresh_async()
        good = "; ".join(o.line() for o in outcomes if o.ok)
        bad = "; ".join(o.line() for o in outcomes if not o.ok)
        self._say(message=good, error=bad)
        return not bad
