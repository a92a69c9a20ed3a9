"""AdminView: the lab server's users, services and jobs, for admins only.

Built only over an :class:`~fedimpute.ui.state.admin.AdminState` (which refuses non-admins), and
every button goes through a state method that checks the admin right again.  Names, URLs and
service details are shown in escaping tables; password fields are emptied as soon as a button
is pressed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import panel as pn
import param

from fedimpute.ui.components._notes import note
from fedimpute.ui.state.admin import AdminState
from fedimpute.ui.tables import make_table, update_table

__all__ = ["AdminView"]


class AdminView(pn.viewable.Viewer):
    """Users (add, remove, admin right, password), services (add, enable, disable, remove, check), jobs."""

    admin = param.ClassSelector(class_=AdminState)
    open_jobs = param.Callable(default=None, doc="Shows the Jobs page (every user's jobs, for an admin).")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        if self.admin is None:
            raise PermissionError("the Admin page needs an AdminState (admins only)")
        state = self.admin
        self._users = make_table(state.users)
        self._services = make_table(state.service_rows, multiline=("detail",))
        state.param.watch(lambda e: update_table(self._users, e.new), "users")
        state.param.watch(lambda e: update_table(self._services, e.new), "service_rows")
        state.param.watch(self._on_busy, "busy")
        self._user_widgets()
        self._service_widgets()
        self._jobs = self._button("Open all jobs", self._show_jobs)
        self._buttons = [w for w in self.__dict__.values() if isinstance(w, pn.widgets.Button)]
        state.param.watch(self._sync_choices, ["users", "service_rows"])
        self._sync_choices()
        if state.hub_state.offload:
            state.hub_state.soon(self._refresh)

    # -- widgets -------------------------------------------------------------------------------

    def _button(self, label: str, action: Callable, color: str = "default") -> pn.widgets.Button:
        button = pn.widgets.Button(label=label, color=color)
        button.on_click(action)
        return button

    def _user_widgets(self) -> None:
        user = self._user = pn.widgets.Select(label="User", options=[], width=200)
        self._new_name = pn.widgets.TextInput(label="User name", placeholder="name of the new user", width=200)
        self._new_password = pn.widgets.PasswordInput(label="Password (10+ characters)",
                                                      placeholder="password of the new user", width=240)
        self._new_admin = pn.widgets.Checkbox(label="admin", value=False)
        self._add_user = self._button("Add user", self._on_add_user, "primary")
        self._password = pn.widgets.PasswordInput(label="New password", placeholder="new password of the chosen user",
                                                  width=240)
        self._remove_user = self._button("Remove user", self._do(lambda: self.admin.remove_user(user.value), user),
                                         "danger")
        self._make_admin = self._button("Make admin", self._do(lambda: self.admin.set_admin(user.value, True), user))
        self._unmake_admin = self._button("Unmake admin",
                                          self._do(lambda: self.admin.set_admin(user.value, False), user))
        self._set_password = self._button("Set password", self._on_set_password)
        self._reload = self._button("Refresh", self._do(self.admin.refresh_async))

    def _service_widgets(self) -> None:
        service = self._service = pn.widgets.Select(label="Service", options=[], width=200)
        self._enable = self._button("Enable", self._do(lambda: self.admin.set_enabled(service.value, True), service))
        self._disable = self._button("Disable", self._do(lambda: self.admin.set_enabled(service.value, False),
                                                         service))
        self._remove_service = self._button("Remove service",
                                            self._do(lambda: self.admin.remove_service(service.value), service),
                                            "danger")
        self._check = self._button("Check", self._do(lambda: self.admin.check_services([service.value]), service))
        self._svc_name = pn.widgets.TextInput(label="Name", width=160)
        self._svc_protocol = pn.widgets.Select(label="Protocol", options=self.admin.protocols(), width=140)
        self._svc_url = pn.widgets.TextInput(label="URL", width=300)
        self._svc_app = pn.widgets.TextInput(label="Cloudgene app (optional)", width=200)
        self._svc_location = pn.widgets.TextInput(label="Location", width=160)
        self._svc_description = pn.widgets.TextInput(label="Description", width=300)
        self._svc_settings = pn.widgets.TextInput(label="Settings (KEY=VALUE, comma-separated)", width=300)
        self._add_service = self._button("Add service", self._on_add_service, "primary")

    def _sync_choices(self, *_events) -> None:
        for select, names in ((self._user, list(self.admin.users["name"])),
                              (self._service, list(self.admin.service_rows["name"]))):
            if list(select.options) != names:
                chosen = select.value if select.value in names else next(iter(names), None)
                select.param.update(options=names, value=chosen)

    def _on_busy(self, event) -> None:
        for button in self._buttons:
            button.disabled = event.new

    # -- actions -------------------------------------------------------------------------------

    def _do(self, make: Callable[[], Awaitable[object]], chosen: pn.widgets.Select | None = None):
        """A click handler running ``make()`` (a state action) once something is ``chosen``."""
        async def handler(_event) -> None:
            if chosen is not None and not chosen.value:
                self.admin.param.update(error=f"choose a {chosen.label.lower()} in the list first", message="")
                return
            await self._guarded(make)
        return handler

    async def _guarded(self, make: Callable[[], Awaitable[object]]) -> None:
        """One state action; a page whose sign-in ended says so instead of failing in the server's log."""
        try:
            await make()
        except PermissionError as exc:
            self.admin.param.update(error=str(exc), message="")

    async def _refresh(self) -> None:
        await self._guarded(self.admin.refresh_async)

    async def _on_add_user(self, _event) -> None:
        name, admin = self._value(self._new_name), self._new_admin.value
        password = self._password_of(self._new_password)
        await self._guarded(lambda: self.admin.add_user(name, password, admin=admin))
        if not self.admin.error:
            self._new_name.param.update(value="", value_input="")
            self._new_admin.value = False

    async def _on_set_password(self, _event) -> None:
        password = self._password_of(self._password)
        if not self._user.value:
            self.admin.param.update(error="choose a user in the list first", message="")
            return
        await self._guarded(lambda: self.admin.reset_password(self._user.value, password))

    @staticmethod
    def _value(field: pn.widgets.TextInput) -> str:
        return (field.value_input or field.value or "").strip()

    @staticmethod
    def _password_of(field: pn.widgets.PasswordInput) -> str:
        value = field.value_input or field.value or ""
        field.param.update(value="", value_input="")  # never left in the page
        return value

    async def _on_add_service(self, _event) -> None:
        v = self._value
        settings = [part.strip() for part in v(self._svc_settings).split(",") if part.strip()]
        name, protocol, url = v(self._svc_name), self._svc_protocol.value, v(self._svc_url)
        await self._guarded(lambda: self.admin.add_service(
            name, protocol, url, app=v(self._svc_app) or None, description=v(self._svc_description),
            location=v(self._svc_location), settings=settings))
        if not self.admin.error:
            for field in (self._svc_name, self._svc_url, self._svc_app, self._svc_location, self._svc_description,
                          self._svc_settings):
                field.param.update(value="", value_input="")

    def _show_jobs(self, _event) -> None:
        if self.open_jobs is not None:
            self.open_jobs()

    def __panel__(self):
        return pn.Column(
            "## Admin",
            note(self.admin.param.message, kind="ok"),
            note(self.admin.param.error, kind="error"),
            "### Users",
            self._users,
            pn.Row(self._new_name, self._new_password, self._new_admin, self._add_user),
            pn.Row(self._user, self._remove_user, self._make_admin, self._unmake_admin),
            pn.Row(self._password, self._set_password, self._reload),
            "### Services",
            self._services,
            pn.Row(self._service, self._enable, self._disable, self._check, self._remove_service),
            pn.Row(self._svc_name, self._svc_protocol, self._svc_url, self._svc_app),
            pn.Row(self._svc_location, self._svc_description, self._svc_settings, self._add_service),
            "### Jobs",
            pn.pane.HTML("The Jobs page shows every user's jobs to admins (cancel and download stay with each "
                         "job's owner)."),
            self._jobs,
            sizing_mode="stretch_width",
        )
