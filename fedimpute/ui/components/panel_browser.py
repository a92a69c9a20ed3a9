"""PanelBrowser: reference panels of every service; search, filters, one panel in detail, a comparison.

The table lists the cached panels (from the store) passing the filters (service, build, population)
and the search (part of an id, name or service); "Discover panels" re-reads them from the services.
Choosing a panel (a row, or the "Panel" menu) shows its detail: each service's entry (name, build,
populations, samples, variants) and the user's jobs that used it, with their mean R² over variants
with MAF ≥ 5% where the results are downloaded.  Choosing two or more under "Compare" lines them up
and marks the differences.  Panel names and populations come from services: every cell is escaped.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from fedimpute.exceptions import StoreError
from fedimpute.models import ReferencePanel
from fedimpute.ui.components._notes import note
from fedimpute.ui.state import ALL, HubState
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.state.panels import COMPARED, PanelJob, compare_panels, detail_rows, matches, read_panel_jobs
from fedimpute.ui.tables import make_table, update_table
from fedimpute.ui.text import escaped, safe_html

__all__ = ["PanelBrowser", "html_table"]

COLUMNS = ["service", "panel_id", "name", "build", "populations", "samples", "variants"]
TABLE_CSS = """
.fi-panels {border-collapse: collapse; font-size: 0.92em; margin: 4px 0 10px 0;}
.fi-panels th {text-align: left; border-bottom: 2px solid #cfd8dc; padding: 3px 10px; font-weight: 600;}
.fi-panels td {border-bottom: 1px solid #eceff1; padding: 3px 10px; vertical-align: top;}
.fi-panels tr.fi-differs td {background: #fff8e1;}
"""


def _matches(panel: ReferencePanel, service: str, build: str, population: str) -> bool:
    return ((service == ALL or panel.service == service) and (build == ALL or panel.build == build)
            and (population == ALL or any(p.id == population for p in panel.populations)))


def html_table(frame: pd.DataFrame, *, marked: str | None = None) -> str:
    """``frame`` as an HTML table, every header and cell escaped; rows whose ``marked`` column is set are
    highlighted (and that column left out)."""
    columns = [c for c in frame.columns if c != marked]
    head = "".join(f"<th>{escaped(c)}</th>" for c in columns)
    body = "".join(("<tr class=\"fi-differs\">" if marked and row[marked] else "<tr>")
                   + "".join(f"<td>{escaped(row[c])}</td>" for c in columns) + "</tr>" for _, row in frame.iterrows())
    return f'<table class="fi-panels"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _jobs_frame(jobs: list[PanelJob]) -> pd.DataFrame:
    return pd.DataFrame([[j.job_id, j.name, j.service, j.status, j.created_at,
                          "" if j.r2_common is None else f"{j.r2_common:.3f}", j.note] for j in jobs],
                        columns=["job", "name", "service", "status", "created (UTC)", "mean R² (MAF ≥ 5%)", "note"])


class PanelBrowser(pn.viewable.Viewer):
    """Cached panels (from the store); "Discover panels" re-reads them from the services."""

    state = param.ClassSelector(class_=HubState)
    service = param.Selector(default=ALL, objects=[ALL])
    build = param.Selector(default=ALL, objects=[ALL, "hg19", "hg38"])
    population = param.Selector(default=ALL, objects=[ALL])
    search = param.String(default="", doc="Part of a panel's id, name or service.")
    selected = param.String(default="", doc="The panel id shown in detail ('' none).")
    compared = param.List(default=[], item_type=str, doc="Panel ids lined up side by side.")
    jobs = param.List(default=[], item_type=PanelJob, doc="The user's jobs with the selected panel.")
    jobs_note = param.String(default="", doc="Why the jobs are not shown (yet).")

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "state"))
        self._sync_choices()
        self._table = make_table(self.rows(), multiline=("name", "populations"), height=320, selectable=1,
                                 titles={"panel_id": "panel id"})
        self._table.param.watch(self._on_select, "selection")
        self._discover = pn.widgets.Button(label="Discover panels", color="primary")
        self._discover.on_click(self._on_discover)
        self._detail = pn.pane.HTML(self._detail_html(), stylesheets=[TABLE_CSS], sizing_mode="stretch_width")
        self._comparison = pn.pane.HTML(self._compare_html(), stylesheets=[TABLE_CSS], sizing_mode="stretch_width")
        self.state.param.watch(lambda *_: (self._sync_choices(), self._show()), ["panels", "services"])

    def _ids(self) -> list[str]:
        return list(dict.fromkeys(p.panel_id for p in self.state.panels))

    def _sync_choices(self) -> None:
        self.param.service.objects = [ALL, *(s.name for s in self.state.services)]
        pops = sorted({p.id for panel in self.state.panels for p in panel.populations})
        self.param.population.objects = [ALL, *pops, *([self.population] if self.population not in (ALL, *pops)
                                                        else [])]

    def _shown(self) -> list[ReferencePanel]:
        return [p for p in self.state.panels
                if _matches(p, self.service, self.build, self.population) and matches(p, self.search)]

    def rows(self) -> pd.DataFrame:
        """The panels passing the filters and the search, one row each."""
        rows = [[p.service, p.panel_id, p.name, p.build or "", ", ".join(x.label for x in p.populations),
                 "" if p.samples is None else f"{p.samples:,}", "" if p.variants is None else f"{p.variants:,}"]
                for p in self._shown()]
        return pd.DataFrame(rows, columns=COLUMNS)

    @param.depends("service", "build", "population", "search", watch=True)
    def _show(self) -> None:
        update_table(self._table, self.rows())
        if hasattr(self, "_picker"):
            self._picker.options = ["", *self._ids()]
            self._chooser.options = self._ids()

    def _on_select(self, event) -> None:
        rows = self._table.value
        if event.new and event.new[0] < len(rows):
            self.selected = str(rows.iloc[event.new[0]]["panel_id"])

    async def _on_discover(self, _event) -> None:
        self._discover.loading = True
        try:
            await self.state.discover_panels(None if self.service == ALL else [self.service])
        finally:
            self._discover.loading = False

    # -- one panel ------------------------------------------------------------------------------

    @param.depends("selected", watch=True)
    def _selected_changed(self) -> None:
        self.param.update(jobs=[], jobs_note="reading your jobs ..." if self.selected else "")
        self._show_detail()
        if not self.selected:
            return
        if self.state.offload:
            self.state.soon(self.load_jobs_async)
        else:
            self.load_jobs()

    def _job_read(self) -> tuple:
        entries = [p for p in self.state.panels if p.panel_id == self.selected]
        owner = None if self.state.admin else self.state.user
        return self.state.store, owner, self.selected, sorted({p.service for p in entries})

    def load_jobs(self) -> None:
        """The user's jobs with the selected panel and their quality (notebooks: read now)."""
        self._jobs_read(read_panel_jobs(*self._job_read()))

    async def load_jobs_async(self) -> None:
        """:meth:`load_jobs` in a worker thread (served pages)."""
        wanted = self.selected
        try:
            found = await self.state.in_thread(read_panel_jobs, *self._job_read())
        except StoreError as exc:
            self.jobs_note = f"could not read your jobs: {exc}; choose the panel again"
            return
        if wanted == self.selected:
            self._jobs_read(found)

    def _jobs_read(self, jobs: list[PanelJob]) -> None:
        self.param.update(jobs=jobs, jobs_note="" if jobs else "none of your jobs used this panel yet")
        self._show_detail()

    def _detail_html(self) -> str:
        entries = [p for p in self.state.panels if p.panel_id == self.selected]
        if not entries:
            return "<i>choose a panel in the table or the menu above</i>" if not self.selected else \
                safe_html("<i>no panel {id} in the catalogue</i>", id=self.selected)
        offered = ", ".join(sorted({p.service for p in entries}))
        html = safe_html("<p><b>{name}</b> ({id}), offered by {services}</p>", name=entries[0].name,
                         id=self.selected, services=offered) + html_table(detail_rows(entries))
        html += "<p><b>Your jobs with this panel</b></p>"
        if self.jobs:
            return html + html_table(_jobs_frame(self.jobs))
        return html + safe_html("<p><i>{note}</i></p>", note=self.jobs_note)

    def _show_detail(self) -> None:
        self._detail.object = self._detail_html()

    # -- side by side ----------------------------------------------------------------------------

    def comparison(self) -> pd.DataFrame:
        return compare_panels(self.state.panels, self.compared)

    def _compare_html(self) -> str:
        frame = self.comparison()
        if len(frame.columns) < 4:  # attribute, two panels, differs
            return "<i>choose two or more panels to compare</i>"
        differ = [a for a, d in zip(frame["attribute"], frame["differs"], strict=True) if d and a in COMPARED]
        summary = safe_html("<p>{n} difference(s): {what}</p>", n=len(differ), what=", ".join(differ) or "none")
        return summary + html_table(frame, marked="differs")

    @param.depends("compared", watch=True)
    def _show_comparison(self) -> None:
        self._comparison.object = self._compare_html()

    def __panel__(self):
        filters = pn.Row(
            pn.widgets.Select.from_param(self.param.service, label="Service", width=180),
            pn.widgets.Select.from_param(self.param.build, label="Build", width=120),
            pn.widgets.Select.from_param(self.param.population, label="Population", width=180),
            pn.widgets.TextInput.from_param(self.param.search, label="Search name or id", width=220),
            pn.Column(pn.Spacer(height=18), self._discover),
        )
        self._picker = pn.widgets.Select.from_param(self.param.selected, label="Panel", options=["", *self._ids()],
                                                    width=260)
        self._chooser = pn.widgets.MultiSelect.from_param(self.param.compared, label="Compare panels (choose two "
                                                          "or more)", options=self._ids(), size=5, width=320)
        return pn.Column("## Reference panels", filters, note(self.state.param.message), self._table,
                         "### Panel detail", self._picker, self._detail,
                         "### Compare panels", self._chooser, self._comparison, sizing_mode="stretch_width")
