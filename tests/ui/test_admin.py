"""The Admin page's state and view: accounts (with the server's sessions and sign-in throttle),
services (with the Cloudgene simulator), and the admin right checked again before every action."""

from __future__ import annotations

import pytest

from fedimpute.accounts import Accounts
from fedimpute.catalogue import make_service
from fedimpute.hub import Hub
from fedimpute.models import HealthStatus
from fedimpute.store import Store
from fedimpute.ui.app import HubApp
from fedimpute.ui.auth import SessionTable, Throttle
from fedimpute.ui.components import AdminView
from fedimpute.ui.state import AdminState, HubState, SubmissionState
from fedimpute.ui.state.admin import NOT_ADMIN, AdminCheck, admin_check
from tests.cloudgene_server.fixtures import ALICE_TOKEN

PASSWORDS = {"carol": "pw-carol-0123456789", "alice": "pw-alice-0123456789"}


@pytest.fixture
def accounts(home) -> Accounts:
    accounts = Accounts(home)
    accounts.add("carol", PASSWORDS["carol"], admin=True)
    accounts.add("alice", PASSWORDS["alice"])
    return accounts


@pytest.fixture
def hub(home, cloudgene_url) -> Hub:
    store = Store(home)
    store.add_service(make_service("sim", "cloudgene", cloudgene_url))
    hub = Hub(store)
    hub.credentials.set_token("sim", ALICE_TOKEN, user="carol")
    return hub


@pytest.fixture
def sessions(accounts) -> SessionTable:
    return SessionTable(accounts)


@pytest.fixture
def admin(hub, accounts, sessions) -> AdminState:
    state = HubState.from_home(hub.store.home, user="carol", admin=True, hub=hub)
    return AdminState(hub_state=state, accounts=accounts, sessions=sessions, throttle=Throttle(),
                      check=AdminCheck(accounts, "carol"))


def shown(admin: AdminState) -> str:
    return repr({name: getattr(admin, name) for name in ("users", "service_rows", "message", "error")})


async def test_admin__users_with_sign_in_failures_and_open_sessions(admin, sessions):
    sessions.open("alice")
    sessions.open("alice")
    for _ in range(3):
        admin.throttle.failed("alice", "10.0.0.7")
    await admin.refresh_async()
    rows = admin.users.set_index("name")
    assert list(rows.index) == ["alice", "carol"]
    assert rows.loc["alice"].tolist() == ["", "never", 3, 2] and rows.loc["carol", "admin"] == "yes"


async def test_admin__adds_a_user_and_never_shows_the_password(admin, accounts):
    assert await admin.add_user("dave", "pw-dave-0123456789", admin=True)
    assert accounts.get("dave").admin and accounts.verify("dave", "pw-dave-0123456789")
    assert admin.message == "added user dave (admin)" and "dave" in list(admin.users["name"])
    assert not await admin.add_user("erin", "short")
    assert "too short" in admin.error and accounts.get("erin") is None
    assert not await admin.add_user("dave", "pw-dave-9876543210")
    assert "user dave exists" in admin.error
    assert "pw-dave" not in shown(admin) and "short" not in admin.users.to_csv()


async def test_admin__removing_or_resetting_a_user_ends_their_sessions(admin, accounts, sessions):
    first = sessions.open("alice")
    assert await admin.reset_password("alice", "new-password-0123")
    assert sessions.resolve(first.sid) is None and "alice" not in sessions.users()
    assert accounts.verify("alice", "new-password-0123") and not accounts.verify("alice", PASSWORDS["alice"])
    second = sessions.open("alice")
    assert await admin.remove_user("alice")
    assert accounts.get("alice") is None and sessions.resolve(second.sid) is None
    assert admin.message == "removed user alice; their sessions have ended"
    assert list(admin.users["name"]) == ["carol"]


async def test_admin__cannot_remove_themself_or_drop_their_own_admin_right(admin, accounts):
    assert not await admin.remove_user("carol")
    assert admin.error.startswith("you cannot remove your own account") and accounts.get("carol")
    assert not await admin.set_admin("carol", False)
    assert "your own admin right" in admin.error and accounts.get("carol").admin
    assert await admin.set_admin("alice", True) and accounts.get("alice").admin
    assert await admin.set_admin("alice", False) and not accounts.get("alice").admin
    assert admin.message == "alice is no longer an admin"


async def test_admin__every_action_checks_the_admin_right_again(admin, accounts, hub):
    accounts.set_admin("carol", False)  # another admin (or `fedimpute users`) took it away meanwhile
    assert not await admin.add_user("mallory", "pw-mallory-0123456")
    assert admin.error == NOT_ADMIN and accounts.get("mallory") is None
    assert not await admin.remove_user("alice") and accounts.get("alice")
    assert not await admin.set_enabled("sim", False) and hub.store.get_service("sim").enabled
    assert not await admin.check_services(["sim"]) and admin.error == NOT_ADMIN


async def test_admin__a_page_whose_session_ended_does_nothing(admin, accounts):
    admin.hub_state.bind_session(lambda: False)
    assert not await admin.add_user("mallory", "pw-mallory-0123456")
    assert admin.error == "your session has ended: sign in again" and accounts.get("mallory") is None


def test_admin_check__account_or_fedimpute_admins(accounts, home):
    assert AdminCheck(accounts, "carol")() and not AdminCheck(accounts, "alice")()
    assert AdminCheck(accounts, "alice", frozenset({"alice"}))()
    assert not AdminCheck(accounts, "ghost", page_admin=True)()  # a signed-in name with no account
    assert AdminCheck(Accounts(home / "no-accounts"), "tester", page_admin=True)()  # a one-person home


def test_admin_page__only_for_admins(hub, accounts):
    alice = HubState.from_home(hub.store.home, user="alice", hub=hub)
    with pytest.raises(PermissionError, match="admins only"):
        AdminState.for_page(alice)
    assert admin_check(alice) is None
    app = HubApp(state=alice, refresh_ms=0)
    assert "Admin" not in app.views and "Settings" in app.views
    with pytest.raises(ValueError):
        app.view = "Admin"
    with pytest.raises(PermissionError):
        app._build("Admin")
    with pytest.raises(PermissionError):
        HubApp(state=alice, view="Admin", refresh_ms=0)  # asked for by parameter: refused all the same
    # a page made as an admin's, for an account that is no admin any more, is refused too
    stale = HubState.from_home(hub.store.home, user="alice", admin=True, hub=hub)
    with pytest.raises(PermissionError):
        AdminState.for_page(stale, env_admins=frozenset())
    carol = HubApp(state=HubState.from_home(hub.store.home, user="carol", admin=True, hub=hub), refresh_ms=0)
    assert carol.views[-1] == "Admin"
    carol.view = "Admin"
    assert isinstance(carol._views["Admin"], AdminView)
    carol._views["Admin"]._jobs.clicks += 1  # "Open all jobs": the Jobs page, every user's jobs for an admin
    assert carol.view == "Jobs"


async def test_admin__services_add_disable_enable_check_remove(admin, hub, cloudgene_url):
    submit = SubmissionState(hub_state=admin.hub_state)
    assert await admin.add_service("lab", "cloudgene", cloudgene_url, location="<b>Lab</b>")
    assert hub.store.get_service("lab").location == "<b>Lab</b>" and "lab" in list(admin.service_rows["name"])
    assert not await admin.add_service("lab", "cloudgene", cloudgene_url)
    assert "already exists" in admin.error
    assert not await admin.add_service("bad", "nope", cloudgene_url) and "nope" in admin.error
    assert await admin.set_enabled("lab", False)
    assert not hub.store.get_service("lab").enabled
    assert admin.service_rows.set_index("name").loc["lab", "enabled"] == "no"
    assert "lab" not in submit.param.services.objects  # disabled: no longer offered for new jobs
    assert await admin.set_enabled("lab", True) and "lab" in submit.param.services.objects
    assert await admin.check_services(["sim"])
    assert admin.hub_state.health_of("sim").status is HealthStatus.UP
    assert admin.service_rows.set_index("name").loc["sim", "health"] == "up"
    assert await admin.remove_service("lab") and "lab" not in [s.name for s in hub.store.list_services()]


def test_admin_view__buttons_add_and_remove_a_user_and_empty_the_password(admin, accounts):
    """Clicks as the browser sends them (no loop runs here, so Panel runs each handler to its end)."""
    view = AdminView(admin=admin)
    view._new_name.value_input = "dave"
    view._new_password.value_input = "pw-dave-0123456789"
    view._add_user.clicks += 1
    assert accounts.get("dave") and view._new_password.value_input == "" and view._new_name.value_input == ""
    assert "dave" in view._user.options and "dave" in list(view._users.value["name"])
    view._user.value = "dave"
    view._remove_user.clicks += 1
    assert accounts.get("dave") is None and "dave" not in view._user.options
    view._user.value = "carol"
    view._remove_user.clicks += 1
    assert admin.error.startswith("you cannot remove your own account") and accounts.get("carol")
    view._user.param.update(options=[], value=None)
    view._remove_user.clicks += 1  # nothing to choose
    assert admin.error == "choose a user in the list first" and accounts.get("carol")
    with pytest.raises(PermissionError):
        AdminView()
