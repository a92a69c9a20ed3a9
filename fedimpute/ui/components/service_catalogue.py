"""ServiceCatalogue: every catalogued service with its health, uptime, token status, location and protocol.

Under the table, one small uptime strip per service: last week's health checks (the monitor's,
every 15 minutes, and any "Check services") in six-hour cells, coloured by what they found.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import panel as pn
import param

from fedimpute.ui.components._notes import note
from fedimpute.ui.state import HubState
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.tables import make_table, update_table
from fedimpute.ui.text import safe_html

__all__ = ["ServiceCatalogue", "service_rows", "uptime_html"]

COLUMNS = ["name", "protocol", "location", "health", "uptime", "checked_at", "detail", "token", "url", "description"]
STRIP_CSS = """
.fi-uptime {display: flex; align-items: center; gap: 10px; margin: 3px 0; font-size: 0.9em;}
.fi-uptime-name {width: 140px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;}
.fi-strip {display: inline-flex; gap: 2px;}
.fi-slot {display: inline-block; width: 8px; height: 18px; border-radius: 2px; background: #d5d9de;}
.fi-slot.fi-up {background: #2e9d4f;} .fi-slot.fi-partial {background: #e0a526;}
.fi-slot.fi-down {background: #c9372c;} .fi-slot.fi-maintenance {background: #5b8fd1;}
"""


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def service_rows(state: HubState) -> pd.DataFrame:
    """One row per service: what the user needs to choose where to send data."""
    rows = []
    for s in state.services:
        health = state.health_of(s.name)
        rows.append([s.name, s.protocol, s.location, health.status.value, _share(state.uptime(s.name)),
                     f"{health.checked_at:%Y-%m-%d %H:%M}" if health.checked_at else "", health.detail,
                     state.tokens.get(s.name, ""), s.url, s.description])
    return pd.DataFrame(rows, columns=COLUMNS)


def uptime_html(state: HubState, now: datetime | None = None) -> str:
    """One strip per service, oldest slot first; every name and tooltip escaped."""
    lines = []
    for s in state.services:
        cells = "".join(safe_html('<i class="fi-slot fi-{status}" title="{title}"></i>', status=slot.status,
                                  title=slot.title) for slot in state.uptime_strip(s.name, now))
        share = state.uptime(s.name)
        lines.append(safe_html('<div class="fi-uptime"><span class="fi-uptime-name" title="{name}">{name}</span>',
                               name=s.name) + f'<span class="fi-strip">{cells}</span>' +
                     safe_html("<span>{share}</span></div>",
                               share=f"{share:.1%} up" if share is not None else "never checked"))
    return "".join(lines)


class ServiceCatalogue(pn.viewable.Viewer):
    """The catalogue; "Check services" asks each enabled service for its health and token."""

    state = param.ClassSelector(class_=HubState)

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "state"))
        self._table = make_table(service_rows(self.state), titles={"checked_at": "checked (UTC)",
                                                                   "uptime": "uptime (7 d)"},
                                 multiline=("detail", "description"), height=320)
        self._strips = pn.pane.HTML(uptime_html(self.state), stylesheets=[STRIP_CSS], sizing_mode="stretch_width")
        self._check = pn.widgets.Button(label="Check services", color="primary")
        self._check.on_click(self._on_check)
        self.state.param.watch(self._show, ["services", "health", "tokens", "history"])

    def _show(self, *_events) -> None:
        update_table(self._table, service_rows(self.state))
        strips = uptime_html(self.state)
        if strips != self._strips.object:
            self._strips.object = strips

    async def _on_check(self, _event) -> None:
        self._check.loading = True
        try:
            await self.state.check_services()
        finally:
            self._check.loading = False

    def __panel__(self):
        return pn.Column(
            "## Services",
            pn.pane.HTML("Health and token status of every service in the catalogue; tokens are never shown."),
            pn.Row(self._check),
            note(self.state.param.message),
            self._table,
            "### Uptime, last 7 days",
            pn.pane.HTML("Each cell is six hours: green up, amber partly up, red down, blue maintenance, "
                         "grey not checked. The monitor checks every enabled service every 15 minutes."),
            self._strips,
            sizing_mode="stretch_width",
        )
