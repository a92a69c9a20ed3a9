"""HubApp: the whole dashboard, inline in a notebook or as a served page with navigation.

``create_app()`` builds one per session (the served script runs once per page load) around
the process-wide :class:`~fedimpute.ui.runtime.Runtime`; views are created when first shown,
so the jobs page, the landing view, loads without the plotting stack.

Every session of a server shares one event loop, so a served app never reads the store on it:
its first rows are read in a worker thread while the browser loads the page (``prefetch``) and
shown once it is there (``start``); the periodic refresh (``tick_async``) and every read a click
causes run in worker threads too.  While another process holds the store, the page says "store
busy ..., retrying" and keeps answering clicks.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import panel as pn
import param

from fedimpute.ui import auth
from fedimpute.ui.components import (
    AdminView,
    JobDetail,
    JobsTable,
    PanelBrowser,
    ServiceCatalogue,
    SettingsView,
    StatisticsView,
    SubmitForm,
)
from fedimpute.ui.components._notes import note
from fedimpute.ui.runtime import get_runtime
from fedimpute.ui.settings import DashboardSettings
from fedimpute.ui.state import AdminState, HubState, JobDetailState, JobListState, SubmissionState, TokenState
from fedimpute.ui.state.admin import admin_check
from fedimpute.ui.state.hub import with_default
from fedimpute.ui.text import safe_html

__all__ = ["ADMIN_VIEWS", "VIEWS", "HubApp", "create_app"]

VIEWS = ("Jobs", "Board", "Submit", "Advisor", "Services", "Panels", "Statistics", "Settings")
ADMIN_VIEWS = ("Admin",)  # in an admin's navigation only; refused to anyone else
CATALOGUE_EVERY = 15  # ticks between re-reads of the catalogue (health written by the monitor)
PAGE_CSS = """
:host {background: #0072b5; color: white; padding: 10px 20px;}
.fi-title {font-size: 1.6em; font-weight: 600; letter-spacing: 0.02em;}
"""


def _in_server_session() -> bool:
    """True inside a served page's session (``pn.state.served`` only works in the app script itself)."""
    return bool(pn.state.curdoc and pn.state.curdoc.session_context)


class HubApp(pn.viewable.Viewer):
    """Jobs (table and detail), submission, services, panels and statistics of one user."""

    state = param.ClassSelector(class_=HubState)
    view = param.Selector(default="Jobs", objects=[*VIEWS, *ADMIN_VIEWS], doc="The view the served page shows.")
    refresh_ms = param.Integer(default=2000, bounds=(0, None), doc="Store re-read period; 0 = never.")
    logout_url = param.String(default=None, allow_None=True, doc="Shown as 'sign out' when auth is on.")

    def __init__(self, **params) -> None:
        super().__init__(**with_default(params, "state"))
        self.param.view.objects = self.views = [*VIEWS, *(ADMIN_VIEWS if self.state.admin else ())]
        self.jobs = JobListState(hub_state=self.state)
        self.detail = JobDetailState(hub_state=self.state)
        self.submission = SubmissionState(hub_state=self.state)
        self.submission.param.watch(self._on_submitted, "submitted")
        self._views: dict[str, pn.viewable.Viewable] = {}
        self._main = pn.Column(self._view_of(self.view), sizing_mode="stretch_width")
        self._ticks = 0
        self._ticking = False
        self._callback = None
        self._catalogue_read: asyncio.Future | None = None
        self._sign_in: tuple[auth.AuthContext, str] | None = None

    def _build(self, name: str):
        if name == "Jobs":
            slot = pn.Column(sizing_mode="stretch_width")
            self._fill_detail(slot)
            self.state.param.watch(lambda _: self._fill_detail(slot), "selected_job_id")
            return pn.Column(JobsTable(jobs=self.jobs), slot, sizing_mode="stretch_width")
        if name == "Board":  # the running jobs, live; its own re-read (only after the store changed)
            from fedimpute.ui.components.board_view import BoardView
            from fedimpute.ui.state.board import BoardState
            return BoardView(board=BoardState(hub_state=self.state), refresh_ms=self.refresh_ms)
        if name == "Submit":
            return SubmitForm(submission=self.submission)
        if name == "Services":
            return ServiceCatalogue(state=self.state)
        if name == "Panels":
            return PanelBrowser(state=self.state)
        if name == "Settings":
            return SettingsView(tokens=TokenState(hub_state=self.state, is_admin=admin_check(self.state)))
        if name == "Advisor":  # shares the Submit form's files; "use this panel" opens the pre-filled form
            from fedimpute.ui.components.advisor_view import AdvisorState, AdvisorView
            return AdvisorView(advisor=AdvisorState(hub_state=self.state, submission=self.submission),
                               open_submit=lambda: setattr(self, "view", "Submit"))
        if name == "Admin":  # refused (PermissionError) for a non-admin, however it was asked for
            return AdminView(admin=AdminState.for_page(self.state), open_jobs=lambda: setattr(self, "view", "Jobs"))
        return StatisticsView(state=self.state)

    def _fill_detail(self, slot: pn.Column) -> None:
        """The detail view is built when the first job is selected: the jobs page loads without it."""
        if self.state.selected_job_id and not slot.objects:
            slot.objects = [JobDetail(detail=self.detail)]

    def _view_of(self, name: str):
        if name not in self._views:
            self._views[name] = self._build(name)
        return self._views[name]

    @param.depends("view", watch=True)
    def _show_view(self) -> None:
        self._main.objects = [self._view_of(self.view)]

    def _on_submitted(self, _event) -> None:
        if self.state.offload:
            self.state.soon(self.jobs.refresh_async)
        else:
            self.jobs.refresh()
        self.view = "Jobs"

    def tick(self) -> None:
        """One periodic re-read: the page of jobs and the shown job when the store was written (and
        unconditionally now and then), the catalogue now and then."""
        self._ticks += 1
        every = self._ticks % CATALOGUE_EVERY == 0
        self.jobs.refresh(if_changed=not every)
        self.detail.refresh(if_changed=not every)
        if every:
            self.state.refresh_catalogue()

    def prefetch(self) -> None:
        """Start a served session's first reads (catalogue and first rows) in worker threads while
        the browser loads the page; :meth:`start` shows them."""
        self._catalogue_read = self.state.prefetch(self.state._read_catalogue)
        self.jobs.prefetch()

    async def load(self) -> None:
        """A served session's first reads (catalogue and first rows), in worker threads."""
        prefetched, self._catalogue_read = self._catalogue_read, None
        await asyncio.gather(self.state.refresh_catalogue_async(prefetched=prefetched), self.jobs.refresh_async())

    async def start(self) -> None:
        """A served page is in the browser: show what :meth:`prefetch` read, then keep it fresh.  (Rows
        that reach a Tabulator before the browser has rendered it can be lost, so they wait for this.)"""
        await self.load()
        self.start_refresh()

    async def tick_async(self) -> None:
        """:meth:`tick` for served pages: the reads run in worker threads, and whatever found the store
        busy (rows, the shown job, the catalogue, statistics) is read again.  A tick still waiting for
        its reads makes the next one a no-op, so a busy store never piles reads up."""
        if self._ticking:
            return
        self._ticking = True
        try:
            self._ticks += 1
            every = self._ticks % CATALOGUE_EVERY == 0
            await self.jobs.refresh_async(if_changed=not every)
            await self.detail.refresh_async(if_changed=not every)
            if every or self.state.catalogue_stale:
                await self.state.refresh_catalogue_async()
            statistics = self._views.get("Statistics")
            if isinstance(statistics, StatisticsView) and statistics.stale:
                await statistics.refresh_async()
        finally:
            self._ticking = False

    def guard_session(self, sign_in: auth.AuthContext, sid: str) -> None:
        """End this page when its sign-in ends (logout, user removed, password changed, idle): every
        periodic tick asks the server's session table first, and a dead session empties the page."""
        self._sign_in = (sign_in, sid)
        self.state.bind_session(lambda: sign_in.sessions.alive(sid))

    def _session_alive(self) -> bool:
        """True while this page's sign-in counts; else the page is emptied and sent to /login."""
        if self._sign_in is None:
            return True
        sign_in, sid = self._sign_in
        if sign_in.sessions.alive(sid):
            return True
        self.stop_refresh()
        self.state.end_session()
        self.state.soon(self._end_page)
        return False

    async def _end_page(self) -> None:
        self._main.objects = [pn.pane.HTML('<p>Your session has ended. <a href="/login?error=expired">Sign in '
                                           "again</a>.</p>")]
        location = pn.state.location
        if location is not None:  # ``href`` is read-only; a path change with ``reload`` navigates
            location.reload = True
            location.param.update(pathname="/login", search="?error=expired")

    def _tick_soon(self) -> None:
        """Start :meth:`tick_async` apart from the periodic callback: Bokeh runs a coroutine callback
        holding the session's document lock, so a tick awaiting a busy store would hold back the
        user's clicks until its reads gave up."""
        self.state.soon(self.tick_async)

    def start_refresh(self) -> None:
        """Re-read the store every ``refresh_ms`` (server sessions and live notebooks)."""
        if self.refresh_ms and self._callback is None:
            tick = self._tick_soon if self.state.offload else self.tick

            def guarded() -> None:
                if self._session_alive():
                    tick()

            self._callback = pn.state.add_periodic_callback(guarded, period=self.refresh_ms)

    def stop_refresh(self) -> None:
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    def _who(self) -> str:
        role = " (admin: sees every user's jobs)" if self.state.admin else ""
        out = safe_html("signed in as <b>{user}</b>{role}", user=self.state.user, role=role)
        if self.logout_url:
            out += safe_html(' · <a href="{url}">sign out</a>', url=self.logout_url)
        return out

    def page(self) -> pn.Column:
        """The served page: a header, navigation in a sidebar, one view at a time in the main area.

        Plain layouts rather than a Panel template: FastListTemplate made the first jobs visible
        about 0.7 s later (its resources and models), and the page has to open fast on a big store.
        """
        nav = pn.widgets.RadioButtonGroup.from_param(  # outlined buttons: the view shown is the filled one
            self.param.view, label="", orientation="vertical", color="primary", variant="outline",
            sizing_mode="stretch_width", description=None)
        header = pn.pane.HTML('<span class="fi-title">fedimpute</span>', stylesheets=[PAGE_CSS],
                              sizing_mode="stretch_width", margin=0)
        sidebar = pn.Column(pn.pane.HTML(self._who()), nav, width=230, margin=(10, 10),
                            styles={"border-right": "1px solid #e0e0e0"})
        main = pn.Column(note(self.state.param.store_busy, kind="warn"), self._main, sizing_mode="stretch_width")
        return pn.Column(header, pn.Row(sidebar, main, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width", margin=0)

    def servable(self, title: str | None = None, location: bool = True, area: str = "main", target=None):
        """The page when served, the app itself in a notebook."""
        if _in_server_session():
            return self.page().servable(title=title or "fedimpute", location=location)
        return super().servable(title=title, location=location, area=area, target=target)

    def __panel__(self):
        tabs = pn.Tabs(*((name, pn.panel(self._view_of(name))) for name in self.views), dynamic=True,
                       sizing_mode="stretch_width")
        tabs.param.watch(lambda e: setattr(self, "view", self.views[e.new]), "active")
        return pn.Column(pn.pane.HTML(self._who()), note(self.state.param.store_busy, kind="warn"), tabs,
                         sizing_mode="stretch_width")


def _asked_job() -> str | None:
    raw = (pn.state.session_args or {}).get("job") or []
    value = raw[0].decode("utf-8", "replace") if raw else ""
    return value if value and len(value) <= 64 and value.isprintable() else None


def create_app(home: str | Path | None = None, *, user: str | None = None, admin: bool | None = None,
               settings: DashboardSettings | None = None, logout_url: str | None = None) -> HubApp:
    """One session's app for ``user`` (default: the signed-in user, else the CLI's owner).

    In a served page with sign-in on, the user is the one whose session the page's ticket names
    (:func:`fedimpute.ui.auth.page_session`), never a cookie or a request argument; a page
    without a live session gets nothing.  A server session also starts the store re-read and,
    once per process, the monitor; it reads nothing on the event loop (see the module's docstring).
    """
    settings = settings or DashboardSettings.from_env()
    served = _in_server_session()
    runtime = get_runtime(home, monitor_period=settings.monitor_period, start=served)
    sign_in = auth.current() if served else None
    session = None
    if sign_in is not None:
        session = auth.page_session(pn.state.headers)
        if session is None:  # never fall back to the server's own user
            raise PermissionError("this dashboard needs a signed-in user")
        user, logout_url = session.user, "/logout"
        account = sign_in.accounts.get(user)
        admin = bool(account and account.admin) or user in settings.admins
    # served sessions share the catalogue (read in worker threads, short lock wait); a notebook reads its own
    catalogue = runtime.catalogue if served else None
    state = HubState.from_home(runtime.home, user=user, hub=runtime.hub, catalogue=catalogue,
                               admin=admin if admin is not None else bool(user and user in settings.admins),
                               offload=served)
    app = HubApp(state=state, refresh_ms=settings.refresh_ms, logout_url=logout_url)
    if served and (asked := _asked_job()):  # a notification's link: /dashboard?job=<id> (the detail view
        state.selected_job_id = asked       # shows only a job this user may see, else "unknown job")
    if served:
        if session is not None:
            app.guard_session(sign_in, session.sid)
        app.prefetch()
        pn.state.onload(app.start)
    return app
