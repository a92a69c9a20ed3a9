"""JobListState: filters, order and page of the jobs table, and the rows of that page.

Only visible pages are ever read (see :mod:`fedimpute.ui.queries`), so a store with 50,000
jobs costs the same as one with 20.  Each DuckDB open costs tens of milliseconds, so reading a
first page brings the first page of every status in the same scan, kept until the store file
changes: switching the status filter then answers from memory.  :meth:`refresh` compares before it assigns: an
unchanged page triggers no watcher, so a periodic refresh sends nothing to the browser.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import duckdb
import pandas as pd
import param

from fedimpute.exceptions import StoreError
from fedimpute.models import JobStatus
from fedimpute.ui.queries import ADMIN_COLUMNS, JOB_COLUMNS, ORDERS, first_pages, jobs_page, store_version
from fedimpute.ui.state.hub import HubState

__all__ = ["ALL", "JobListState"]

log = logging.getLogger(__name__)
ALL = "all"


class JobListState(param.Parameterized):
    """The jobs table's model: set filters or ``page``, read ``rows`` and ``total``."""

    hub_state = param.ClassSelector(class_=HubState, constant=True)
    status = param.Selector(default=ALL, objects=[ALL, *(s.value for s in JobStatus)], doc="Status filter.")
    service = param.Selector(default=ALL, objects=[ALL], doc="Service filter (from the catalogue).")
    search = param.String(default="", doc="Part of a job id, name or remote id.")
    order = param.Selector(default="newest first", objects=list(ORDERS))
    page = param.Integer(default=1, bounds=(1, None))
    page_size = param.Integer(default=20, bounds=(1, 500))
    rows = param.DataFrame(default=pd.DataFrame(columns=list(JOB_COLUMNS)), doc="The visible page.")
    total = param.Integer(default=0, doc="Jobs matching the filters (all pages).")
    error = param.String(default="", doc="Why the last refresh kept the old rows.")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._version: tuple | None = None
        self._pages: dict[tuple, tuple[pd.DataFrame, int]] = {}  # (filter, page, size, order), read at _pages_version
        self._pages_version: tuple | None = None
        self.columns = ADMIN_COLUMNS if self.hub_state.admin else JOB_COLUMNS
        self.rows = pd.DataFrame(columns=list(self.columns))
        self._sync_services()
        self.hub_state.param.watch(lambda _: self._sync_services(), "services")
        self.refresh()

    def _sync_services(self) -> None:
        names = [s.name for s in self.hub_state.services]
        self.param.service.objects = [ALL, *names, *([self.service] if self.service not in (ALL, *names) else [])]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @param.depends("status", "service", "search", "order", "page_size", watch=True)
    def _filters_changed(self) -> None:
        if self.page != 1:
            self.page = 1  # the page watcher refreshes
        else:
            self.refresh()

    @param.depends("page", watch=True)
    def _page_changed(self) -> None:
        self.refresh()

    def next_page(self) -> None:
        self.page = min(self.page + 1, self.pages)

    def previous_page(self) -> None:
        self.page = max(self.page - 1, 1)

    def _filter(self):
        return self.hub_state.job_filter(status=None if self.status == ALL else self.status,
                                         service=None if self.service == ALL else self.service, search=self.search)

    def _read(self, version: tuple) -> tuple[pd.DataFrame, int]:
        """The current page, from the pages read at ``version`` when there.  Reading page 1 reads
        page 1 of every status too (one scan), so switching status needs no DuckDB open."""
        if version != self._pages_version:
            self._pages, self._pages_version = {}, version
        flt = self._filter()
        key = (flt, self.page, self.page_size, self.order)
        if key not in self._pages:
            store, size, order = self.hub_state.store, self.page_size, self.order
            if self.page == 1:
                for status, result in first_pages(store, flt, page_size=size, order=order,
                                                  columns=self.columns).items():
                    self._pages[(replace(flt, status=status), 1, size, order)] = result
                empty = (pd.DataFrame(columns=list(self.columns)), 0)
                self._pages.setdefault(key, empty)  # a status without jobs
            else:
                self._pages[key] = jobs_page(store, flt, page=self.page, page_size=size, order=order,
                                             columns=self.columns)
        return self._pages[key]

    def refresh(self, *, if_changed: bool = False) -> bool:
        """Show the current page; returns whether anything changed (and was assigned).

        ``if_changed`` (periodic refreshes) skips everything while the store file is unchanged.
        """
        version = store_version(self.hub_state.store)
        if if_changed and version == self._version:
            return False
        self._version = version
        try:
            rows, total = self._read(version)
        except (duckdb.Error, StoreError) as exc:  # locked by another process: keep the old rows
            log.info("jobs refresh skipped: %s", exc)
            self.error = f"store busy, showing the last rows read ({exc})"
            return False
        if rows.equals(self.rows) and total == self.total and not self.error:
            return False
        self.param.update(rows=rows, total=total, error="")
        self.page = min(self.page, self.pages)
        return True
