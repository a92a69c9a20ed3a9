"""The Settings page's tokens: checked with the (simulated) Cloudgene service before they are kept,
refused ones never stored, the user's own versus the lab's shared token, and never shown."""

from __future__ import annotations

import pytest

from fedimpute.catalogue import make_service
from fedimpute.hub import Hub
from fedimpute.store import Store
from fedimpute.ui.components.settings_view import SettingsView, token_rows
from fedimpute.ui.state import HubState, TokenState
from tests.cloudgene_server.fixtures import ALICE_TOKEN, BOB_TOKEN

WRONG = "not-a-token-0123456789"


@pytest.fixture
def hub(home, cloudgene_url) -> Hub:
    store = Store(home)
    store.add_service(make_service("sim", "cloudgene", cloudgene_url))
    store.add_service(make_service("closed", "cloudgene", "http://127.0.0.1:9"))  # nothing listens there
    return Hub(store)


def tokens_for(hub: Hub, user: str = "alice", *, is_admin=None) -> TokenState:
    state = HubState.from_home(hub.store.home, user=user, hub=hub)
    tokens = TokenState(hub_state=state, is_admin=is_admin)
    tokens.refresh()
    return tokens


def shown(tokens: TokenState) -> str:
    """Everything the state can put on a page."""
    return repr({name: getattr(tokens, name) for name in tokens.param if name != "hub_state"})


def test_settings__lists_every_enabled_service_that_needs_a_token(hub):
    tokens = tokens_for(hub)
    assert "sim" in tokens.services and "michigan" in tokens.services and "local" not in tokens.services
    assert tokens.statuses["sim"].startswith("no token")
    hub.store.add_service(hub.store.get_service("closed").model_copy(update={"enabled": False}), replace=True)
    tokens.hub_state.refresh_catalogue(fresh=True)
    assert "closed" not in tokens.services and "closed" not in tokens.statuses


async def test_settings__a_valid_token_is_checked_then_kept(hub):
    tokens = tokens_for(hub)
    assert await tokens.save("sim", f"  {ALICE_TOKEN}\n")
    assert hub.credentials.has_own_token("sim", "alice") and not hub.credentials.has_own_token("sim", "bob")
    assert tokens.statuses["sim"].startswith("your token: set (valid until 20")
    assert tokens.message.startswith("your token for sim is set (valid until") and tokens.error == ""
    assert tokens.hub_state.tokens["sim"] == "stored"  # the Services page's column follows
    assert ALICE_TOKEN not in shown(tokens)


async def test_settings__a_refused_token_is_not_kept_and_the_page_says_why(hub):
    tokens = tokens_for(hub)
    assert not await tokens.save("sim", WRONG)
    assert hub.credentials.token("sim", "alice") is None
    assert "sim refused this token (Invalid API Token.); it was not kept" in tokens.error
    assert tokens.statuses["sim"].startswith("no token") and WRONG not in shown(tokens)


async def test_settings__a_service_that_cannot_be_asked_keeps_nothing(hub):
    tokens = tokens_for(hub)
    assert not await tokens.save("closed", ALICE_TOKEN)
    assert hub.credentials.token("closed", "alice") is None
    assert tokens.error.startswith("could not check the token with closed (") and "try again" in tokens.error


async def test_settings__empty_input_and_unknown_service_do_nothing(hub):
    tokens = tokens_for(hub)
    assert not await tokens.save("sim", "   ")
    assert tokens.error.startswith("paste the token first")
    assert not await tokens.save("local", ALICE_TOKEN)
    assert "not a service that needs a token" in tokens.error and hub.credentials.token("local", "alice") is None


async def test_settings__removing_your_token_falls_back_to_the_shared_one(hub, cloudgene_sim):
    hub.credentials.set_token("sim", BOB_TOKEN)  # the lab's shared token, set by an admin
    alice = tokens_for(hub)
    assert alice.statuses["sim"] == "using the lab's shared token"
    assert await alice.save("sim", ALICE_TOKEN)
    assert await alice.remove("sim")
    assert not hub.credentials.has_own_token("sim", "alice") and hub.credentials.token("sim", None) is not None
    assert alice.statuses["sim"].startswith("using the lab's shared token (valid until")
    assert alice.message == "your token for sim was removed; your jobs there now use the lab's shared token"


async def test_settings__refresh_checks_the_token_in_use(hub, cloudgene_sim):
    tokens = tokens_for(hub)
    assert await tokens.save("sim", ALICE_TOKEN)
    cloudgene_sim.expire_token(ALICE_TOKEN)
    await tokens.refresh_async()
    assert tokens.statuses["sim"] == ("your token: set (refused by the service: Invalid API Token.; paste a new "
                                      "one)")


async def test_settings__only_admins_set_or_remove_the_shared_token(hub):
    bob = tokens_for(hub, "bob")  # not an admin: no check to pass
    assert not await bob.save("sim", BOB_TOKEN, shared=True)
    assert bob.error == "only admins set or remove the lab's shared token" and hub.credentials.token("sim") is None
    admin_now = [True]
    carol = tokens_for(hub, "carol", is_admin=lambda: admin_now[0])
    assert await carol.save("sim", BOB_TOKEN, shared=True)
    assert hub.credentials.token_owner("sim", None) == "shared" and not hub.credentials.has_own_token("sim", "carol")
    assert carol.shared_statuses["sim"] == "set" and carol.message.startswith("the lab's shared token for sim is set")
    admin_now[0] = False  # carol's admin right was taken away while her page was open
    assert not await carol.remove("sim", shared=True)
    assert hub.credentials.token_owner("sim", None) == "shared"
    admin_now[0] = True
    assert await carol.remove("sim", shared=True)
    assert hub.credentials.token("sim") is None and carol.shared_statuses["sim"] == "not set"


async def test_settings_view__the_input_is_emptied_and_the_token_never_shown(hub):
    view = SettingsView(tokens=tokens_for(hub))
    view._service.value = "sim"
    view._token.value_input = ALICE_TOKEN
    await view._on_save(None)
    assert (view._token.value, view._token.value_input) == ("", "")
    frame = token_rows(view.tokens, shared=False)
    assert frame.set_index("service").loc["sim", "your token"].startswith("your token: set")
    assert ALICE_TOKEN not in frame.to_csv() and ALICE_TOKEN not in shown(view.tokens)
    assert "your token" in view._table.object and "shared token" not in view._table.object  # no shared column
    view._token.value_input = WRONG
    await view._on_save(None)
    assert view._token.value_input == "" and "refused" in view.tokens.error and WRONG not in shown(view.tokens)
