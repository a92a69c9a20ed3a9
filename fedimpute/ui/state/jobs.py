"""JobListState: filters, order and page of the jobs table, and the rows of that page.

Only visible pages are ever read (see :mod:`fedimpute.ui.queries`), so a store with 50,000
jobs costs the same as one with 20.  Each DuckDB open costs tens of milliseconds, so reading a
first page brings the first page of every status in the same scan, kept until the store file
changes: switching the status filter then answers from memory.  :meth:`refresh` compares before it assigns: an
unchanged page triggers no watcher, so a periodic refresh sends nothing to the browser.  In a served page
(``HubState.offload``) a page that is not in memory is read in a worker thread (:meth:`refresh_async`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import duckdb
import pandas as pd
import param

from fedimpute.exceptions import StoreError, StoreLockedError
from fedimpute.models import JobStatus
from fedimpute.ui.queries import (
    ADMIN_COLUMNS,
    JOB_COLUMNS,
    ORDERS,
    JobFilter,
    jobs_page,
    shared_first_pages,
    store_version,
)
from fedimpute.ui.state.hub import BUSY_NOTICE, HubState

__all__ = ["ALL", "JobListState"]

log = logging.getLogger(__name__)
ALL = "all"
PageKey = tuple[JobFilter, int, int, str]  # filter, page, page size, order
Page = tuple[pd.DataFrame, int]  # rows, matching jobs


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
        self._pages: dict[PageKey, Page] = {}  # read at _pages_version
        self._pages_version: tuple | None = None
        self._prefetched: tuple[tuple, PageKey, asyncio.Future] | None = None  # version, key, read
        self.columns = ADMIN_COLUMNS if self.hub_state.admin else JOB_COLUMNS
        self.rows = pd.DataFrame(columns=list(self.columns))
        self._sync_services()
        self.hub_state.param.watch(lambda _: self._sync_services(), "services")
        if not self.hub_state.offload:  # a served page reads its first rows with refresh_async
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
            self._show_current()

    @param.depends("page", watch=True)
    def _page_changed(self) -> None:
        self._show_current()

    def _show_current(self) -> None:
        """After a filter or page change: from the pages in memory when there (no DuckDB), else read
        now (notebooks) or in a worker thread (served pages: the event loop never waits for DuckDB)."""
        if not self.hub_state.offload:
            self.refresh()
            return
        version = store_version(self.hub_state.store)
        page = self._cached(version, self._key())
        if page is None:
            self.hub_state.soon(self.refresh_async)
        else:
            self._show(version, page)

    def next_page(self) -> None:
        self.page = min(self.page + 1, self.pages)

    def previous_page(self) -> None:
        self.page = max(self.page - 1, 1)

    def _filter(self):
        return self.hub_state.job_filter(status=None if self.status == ALL else self.status,
                                         service=None if self.service == ALL else self.service, search=self.search)

    def _key(self) -> PageKey:
        return self._filter(), self.page, self.page_size, self.order

    def _cached(self, version: tuple, key: PageKey) -> Page | None:
        """The page ``key`` if it was read while the store file was at ``version``."""
        return self._pages.get(key) if version == self._pages_version else None

    def _fetch(self, key: PageKey) -> dict[PageKey, Page]:
        """Read page ``key`` from DuckDB (touches no parameter: runs in a worker thread when served).
        Page 1 brings page 1 of every status too (one scan), so switching status needs no DuckDB open."""
        flt, page, size, order = key
        store = self.hub_state.store
        if page != 1:
            return {key: jobs_page(store, flt, page=page, page_size=size, order=order, columns=self.columns)}
        shared = shared_first_pages(store).get(store, store_version(store), flt, page_size=size, order=order,
                                               columns=self.columns)
        found = {(replace(flt, status=status), 1, size, order): result for status, result in shared.items()}
        found.setdefault(key, (pd.DataFrame(columns=list(self.columns)), 0))  # a status without jobs
        return found

    def _remember(self, version: tuple, found: dict[PageKey, Page]) -> None:
        if version != self._pages_version:
            self._pages, self._pages_version = {}, version
        self._pages.update(found)

    def _skip(self, version: tuple, if_changed: bool) -> bool:
        """A periodic refresh skips the read while the file is unchanged, unless the last read failed."""
        return if_changed and version == self._version and not self.error

    def refresh(self, *, if_changed: bool = False) -> bool:
        """Show the current page; returns whether anything changed (and was assigned).

        ``if_changed`` (periodic refreshes) skips everything while the store file is unchanged.
        """
        pending = self._begin(if_changed)
        if isinstance(pending, bool):
            return pending
        try:
            found: dict[PageKey, Page] | Exception = self._fetch(pending[1])
        except (duckdb.Error, StoreError) as exc:  # locked by another process: keep the old rows
            found = exc
        return self._received(*pending, found)

    async def refresh_async(self, *, if_changed: bool = False) -> bool:
        """:meth:`refresh` with the read in a worker thread (served pages).  A read that the user's
        next filter or page change overtook is kept in memory but not shown (that change shows its own)."""
        pending = self._begin(if_changed)
        if isinstance(pending, bool):
            return pending
        try:
            found: dict[PageKey, Page] | Exception = await self._read(*pending)
        except (duckdb.Error, StoreError) as exc:
            found = exc
        return self._received(*pending, found)

    def _begin(self, if_changed: bool) -> bool | tuple[tuple, PageKey]:
        """What a refresh needs: ``(version, key)`` of a page to read, or its outcome already (skipped
        while nothing changed, or shown from the cache)."""
        version = store_version(self.hub_state.store)
        if self._skip(version, if_changed):
            return False
        key = self._key()
        page = self._cached(version, key)
        return (version, key) if page is None else self._show(version, page)

    def _received(self, version: tuple, key: PageKey, found: dict[PageKey, Page] | Exception) -> bool:
        """Show a page read (unless the user has moved on since), or keep the old rows and say why."""
        if isinstance(found, Exception):
            return self._failed(found)
        self._remember(version, found)
        if key != self._key():
            return False
        return self._show(version, found[key])

    def prefetch(self) -> None:
        """Start reading the current page in a worker thread now (a served session being built); the
        first :meth:`refresh_async`, once the page is in the browser, shows it without reading again."""
        key = self._key()
        self._prefetched = store_version(self.hub_state.store), key, self.hub_state.prefetch(self._fetch, key)

    async def _read(self, version: tuple, key: PageKey) -> dict[PageKey, Page]:
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[:2] == (version, key):
            return await self.hub_state.settle(prefetched[2])
        return await self.hub_state.in_thread(self._fetch, key)

    def _failed(self, exc: Exception) -> bool:
        """Keep the rows shown and say why; ``error`` makes the next periodic refresh try again."""
        log.info("jobs refresh skipped: %s", exc)
        if isinstance(exc, StoreLockedError):
            self.error = f"{BUSY_NOTICE}; showing the last rows read"
        else:
            self.error = f"could not read the store, showing the last rows read ({exc})"
        return False

    def _show(self, version: tuple, page: Page) -> bool:
        self._version = version
        rows, total = page
        if rows.equals(self.rows) and total == self.total and not self.error:
            return False
        self.param.update(rows=rows, total=total, error="")
        self.page = min(self.page, self.pages)
        return True
