"""ServiceCatalogue: every catalogued service with its health, token status, location and protocol."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from fedimpute.ui.components._notes import note
from fedimpute.ui.state import HubState
from fedimpute.ui.tables import make_table, update_table

__all__ = ["ServiceCatalogue", "service_rows"]

COLUMNS = ["name", "protocol", "location", "health", "checked_at", "detail", "token", "url", "description"]


def service_rows(state: HubState) -> pd.DataFrame:
    """One row per service: what the user needs to choose where to send data."""
    rows = []
    for s in state.services:
        health = state.health_of(s.name)
        rows.append([s.name, s.protocol.value, s.location, health.status.value,
                     f"{health.checked_at:%Y-%m-%d %H:%M}" if health.checked_at else "", health.detail,
                     state.tokens.get(s.name, ""), s.url, s.description])
    return pd.DataFrame(rows, columns=COLUMNS)


class ServiceCatalogue(pn.viewable.Viewer):
    """The catalogue; "Check services" asks each enabled service for its health and token."""

    state = param.ClassSelector(class_=HubState)

    def __init__(self, **params) -> None:
        if params.get("state") is None:
            params["state"] = HubState.from_home()
        super().__init__(**params)
        self._table = make_table(service_rows(self.state), titles={"checked_at": "checked (UTC)"},
                                 multiline=("detail", "description"), height=320)
        self._check = pn.widgets.Button(label="Check services", color="primary")
        self._check.on_click(self._on_check)
        self.state.param.watch(lambda *_: update_table(self._table, service_rows(self.state)),
                               ["services", "health", "tokens"])

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
            sizing_mode="stretch_width",
        )
