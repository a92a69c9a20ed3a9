"""PanelBrowser: reference panels of every service, filtered by population, build and service."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from fedimpute.models import ReferencePanel
from fedimpute.ui.components._notes import note
from fedimpute.ui.state import ALL, HubState
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.tables import make_table, update_table

__all__ = ["PanelBrowser"]

COLUMNS = ["service", "panel_id", "name", "build", "populations", "samples", "variants"]


def _matches(panel: ReferencePanel, service: str, build: str, population: str) -> bool:
    return ((service == ALL or panel.service == service) and (build == ALL or panel.build == build)
            and (population == ALL or any(p.id == population for p in panel.populations)))


class PanelBrowser(pn.viewable.Viewer):
    """Cached panels (from the store); "Discover panels" re-reads them from the services."""

    state = param.ClassSelector(class_=HubState)
    service = param.Selector(default=ALL, objects=[ALL])
    build = param.Selector(default=ALL, objects=[ALL, "hg19", "hg38"])
    population = param.Selector(default=ALL, objects=[ALL])

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "state"))
        self._sync_choices()
        self._table = make_table(self.rows(), multiline=("name", "populations"), height=360,
                                 titles={"panel_id": "panel id"})
        self._discover = pn.widgets.Button(label="Discover panels", color="primary")
        self._discover.on_click(self._on_discover)
        self.state.param.watch(lambda *_: (self._sync_choices(), self._show()), ["panels", "services"])

    def _sync_choices(self) -> None:
        self.param.service.objects = [ALL, *(s.name for s in self.state.services)]
        pops = sorted({p.id for panel in self.state.panels for p in panel.populations})
        self.param.population.objects = [ALL, *pops, *([self.population] if self.population not in (ALL, *pops)
                                                        else [])]

    def rows(self) -> pd.DataFrame:
        """The panels passing the filters, one row each."""
        rows = [[p.service, p.panel_id, p.name, p.build or "", ", ".join(x.label for x in p.populations),
                 "" if p.samples is None else f"{p.samples:,}", "" if p.variants is None else f"{p.variants:,}"]
                for p in self.state.panels if _matches(p, self.service, self.build, self.population)]
        return pd.DataFrame(rows, columns=COLUMNS)

    @param.depends("service", "build", "population", watch=True)
    def _show(self) -> None:
        update_table(self._table, self.rows())

    async def _on_discover(self, _event) -> None:
        self._discover.loading = True
        try:
            await self.state.discover_panels(None if self.service == ALL else [self.service])
        finally:
            self._discover.loading = False

    def __panel__(self):
        filters = pn.Row(
            pn.widgets.Select.from_param(self.param.service, label="Service", width=180),
            pn.widgets.Select.from_param(self.param.build, label="Build", width=120),
            pn.widgets.Select.from_param(self.param.population, label="Population", width=180),
            pn.Column(pn.Spacer(height=18), self._discover),
        )
        return pn.Column("## Reference panels", filters, note(self.state.param.message), self._table,
                         sizing_mode="stretch_width")
