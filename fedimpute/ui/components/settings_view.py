"""SettingsView: the signed-in user's own token for each service (admins: also the lab's shared one),
and the user's notification channels.

The page shows only what :class:`~fedimpute.ui.state.tokens.TokenState` says of a token (set,
valid until ..., or the service's refusal), never the token: the input is a password field,
emptied the moment the button is pressed, before the service is even asked.  Channel URLs carry
credentials too: they are typed into a password field, emptied at once, and the page shows only
each channel's id, scheme, host, events and last error (:class:`~fedimpute.ui.state.notify.NotifyState`).
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from fedimpute.ui.components._notes import note
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.state.notify import NotifyState
from fedimpute.ui.state.tokens import TokenState
from fedimpute.ui.text import escaped

__all__ = ["NotificationsView", "SettingsView", "channel_rows", "token_rows"]

SHARED_LABEL = "the lab's shared token (used for everyone without a token of their own)"


def token_rows(tokens: TokenState, *, shared: bool) -> pd.DataFrame:
    """One row per service that needs a token; the shared column only for admins."""
    columns = ["service", "your token", *(["lab's shared token"] if shared else [])]
    rows = [[name, tokens.statuses.get(name, "reading ..."),
             *([tokens.shared_statuses.get(name, "")] if shared else [])] for name in tokens.services]
    return pd.DataFrame(rows, columns=columns)


TABLE_CSS = "border-collapse:collapse;margin:6px 0"
CELL_CSS = "border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top"


def table_html(frame: pd.DataFrame) -> str:
    """``frame`` as an HTML table, every cell escaped."""
    head = "".join(f'<th style="{CELL_CSS}">{escaped(c)}</th>' for c in frame.columns)
    body = "".join("<tr>" + "".join(f'<td style="{CELL_CSS}">{escaped(v)}</td>' for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f'<table style="{TABLE_CSS}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def channel_rows(notify: NotifyState) -> pd.DataFrame:
    """One row per channel of the user: its public view only."""
    rows = [[c["id"], c["scheme"], c["host"], ", ".join(c["events"]), c["last_error"] or "ok"]
            for c in notify.channels]
    return pd.DataFrame(rows, columns=["channel", "scheme", "host", "events", "last outcome"])


class NotificationsView(pn.viewable.Viewer):
    """The user's notification channels: add (an apprise URL), remove, send a test message."""

    notify = param.ClassSelector(class_=NotifyState)

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "notify", lambda state: NotifyState(hub_state=state)))
        notify = self.notify
        self._table = pn.pane.HTML(self._table_html(), sizing_mode="stretch_width")
        self._url = pn.widgets.PasswordInput(label="Channel URL (apprise)", width=420,
                                             placeholder="mailtos://USER:PASSWORD@smtp.example.org?to=you@example.org")
        self._events = pn.widgets.CheckBoxGroup(options=list(notify.events), value=list(notify.events), inline=True)
        self._channel = pn.widgets.Select(label="Channel", options=[c["id"] for c in notify.channels], width=160)
        self._add = pn.widgets.Button(label="Add channel", color="primary")
        self._remove = pn.widgets.Button(label="Remove channel", color="danger", variant="outline")
        self._test = pn.widgets.Button(label="Send a test message", color="default")
        self._add.on_click(self._on_add)
        self._remove.on_click(self._on_remove)
        self._test.on_click(self._on_test)
        notify.param.watch(self._show, ["channels", "ready"])
        notify.param.watch(lambda e: setattr(self._test, "disabled", e.new), "busy")
        if notify.hub_state.offload:
            notify.hub_state.soon(self._refresh)
        else:
            notify.refresh()

    def _table_html(self) -> str:
        if not self.notify.ready:
            return "<p>reading your channels ...</p>"
        if not self.notify.channels:
            return "<p>No channels yet: add one below.</p>"
        return table_html(channel_rows(self.notify))

    def _show(self, *_events) -> None:
        html = self._table_html()
        if self._table.object != html:
            self._table.object = html
        ids = [c["id"] for c in self.notify.channels]
        if list(self._channel.options) != ids:
            self._channel.param.update(options=ids, value=self._channel.value if self._channel.value in ids
                                       else next(iter(ids), None))

    async def _guarded(self, work) -> None:
        try:
            await work()
        except PermissionError as exc:
            self.notify.param.update(error=str(exc), message="")

    async def _refresh(self) -> None:
        await self._guarded(self.notify.refresh_async)

    async def _on_add(self, _event) -> None:
        url = self._url.value_input or self._url.value
        self._url.param.update(value="", value_input="")  # never left in the page
        events = list(self._events.value)
        await self._guarded(lambda: self.notify.add(url, events))

    async def _on_remove(self, _event) -> None:
        channel = self._channel.value
        if channel:
            await self._guarded(lambda: self.notify.remove(channel))

    async def _on_test(self, _event) -> None:
        await self._guarded(lambda: self.notify.test(self._channel.value or None))

    def __panel__(self):
        intro = ("Where fedimpute tells you that a job completed or failed, that results are about to be deleted "
                 "or were downloaded, that a service is down while you have jobs there, or that a token expires: "
                 "one apprise URL per channel (e-mail, Slack, Teams, Matrix, Telegram, a JSON webhook, ...). "
                 "A URL holds its credentials: it is kept in the secret store and never shown again.")
        return pn.Column(
            "### Notifications",
            pn.pane.HTML(intro, sizing_mode="stretch_width"),
            self._table,
            self._url,
            self._events,
            pn.Row(self._add, self._channel, self._remove, self._test),
            note(self.notify.param.message, kind="ok"),
            note(self.notify.param.error, kind="error"),
            sizing_mode="stretch_width",
        )


class SettingsView(pn.viewable.Viewer):
    """Set, replace or remove a token; each is checked with the service before it is kept."""

    tokens = param.ClassSelector(class_=TokenState)
    notify = param.ClassSelector(class_=NotifyState, doc="The user's notification channels (default: made on the "
                                 "tokens' session).")

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "tokens", lambda state: TokenState(hub_state=state)))
        tokens = self.tokens
        if self.notify is None:
            self.notify = NotifyState(hub_state=tokens.hub_state)
        self._notifications = NotificationsView(notify=self.notify)
        self._admin = tokens.is_admin is not None
        # plain escaped HTML, not a Tabulator: the statuses arrive while the view is first being rendered,
        # and rows that reach a Tabulator before the browser has drawn it can be lost (then "reading ..."
        # stayed until the next action)
        self._table = pn.pane.HTML(table_html(token_rows(tokens, shared=self._admin)), sizing_mode="stretch_width")
        self._service = pn.widgets.Select(label="Service", options=list(tokens.services), width=220)
        self._token = pn.widgets.PasswordInput(label="API token", placeholder="paste the token from the service's "
                                               "profile page", width=420)
        self._shared = pn.widgets.Checkbox(label=SHARED_LABEL, value=False, visible=self._admin)
        self._save = pn.widgets.Button(label="Save token", color="primary")
        self._remove = pn.widgets.Button(label="Remove token", color="danger", variant="outline")
        self._check = pn.widgets.Button(label="Check tokens", color="default")
        self._save.on_click(self._on_save)
        self._remove.on_click(self._on_remove)
        self._check.on_click(self._on_check)
        tokens.param.watch(self._show, ["services", "statuses", "shared_statuses"])
        tokens.param.watch(self._on_busy, "busy")
        if tokens.hub_state.offload:  # a served page: read (and check) off the event loop once it is shown
            tokens.hub_state.soon(self._refresh)
        else:
            tokens.refresh()

    def _show(self, *_events) -> None:
        html = table_html(token_rows(self.tokens, shared=self._admin))
        if self._table.object != html:
            self._table.object = html
        names = list(self.tokens.services)
        if list(self._service.options) != names:
            chosen = self._service.value if self._service.value in names else next(iter(names), None)
            self._service.param.update(options=names, value=chosen)

    def _on_busy(self, event) -> None:
        for button in (self._save, self._remove, self._check):
            button.disabled = event.new

    async def _guarded(self, work) -> None:
        """Run one action; a page whose sign-in ended says so instead of failing in the server's log."""
        try:
            await work()
        except PermissionError as exc:
            self.tokens.param.update(error=str(exc), message="")

    async def _refresh(self) -> None:
        await self._guarded(self.tokens.refresh_async)

    async def _on_save(self, _event) -> None:
        value = self._token.value_input or self._token.value
        self._token.param.update(value="", value_input="")  # never left in the page, whatever happens next
        service, shared = self._service.value, self._admin and self._shared.value
        await self._guarded(lambda: self.tokens.save(service, value, shared=shared))

    async def _on_remove(self, _event) -> None:
        service, shared = self._service.value, self._admin and self._shared.value
        await self._guarded(lambda: self.tokens.remove(service, shared=shared))

    async def _on_check(self, _event) -> None:
        await self._refresh()

    def __panel__(self):
        intro = ("Your own API token for each service: your jobs there are sent with it (else with the lab's shared "
                 "token, where an admin provides one). A token is checked with the service before it is kept; "
                 "it is never shown again, not even in part.")
        return pn.Column(
            "## Settings",
            "### Service tokens",
            pn.pane.HTML(intro, sizing_mode="stretch_width"),
            self._table,
            pn.Row(self._service, self._token),
            self._shared,
            pn.Row(self._save, self._remove, self._check),
            note(self.tokens.param.message, kind="ok"),
            note(self.tokens.param.error, kind="error"),
            self._notifications,
            sizing_mode="stretch_width",
        )
