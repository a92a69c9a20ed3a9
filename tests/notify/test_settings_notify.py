"""The Settings page's notification channels: the signed-in user's own, added, tested against a real
webhook and removed, shown by scheme and host only (escaped), never another user's."""

from __future__ import annotations

import pytest

from fedimpute.hub import Hub
from fedimpute.store import Store
from fedimpute.ui.components.settings_view import NotificationsView, SettingsView
from fedimpute.ui.state import HubState, TokenState
from fedimpute.ui.state.notify import NotifyState
from tests.notify.conftest import HOOK_PASSWORD, HOOK_TOKEN


@pytest.fixture
def hub(home) -> Hub:
    return Hub(Store(home))


def notify_for(hub: Hub, user: str) -> NotifyState:
    state = NotifyState(hub_state=HubState.from_home(hub.store.home, user=user, hub=hub))
    state.refresh()
    return state


def shown(state: NotifyState) -> str:
    return repr({name: getattr(state, name) for name in state.param if name != "hub_state"})


async def test_settings__add_test_and_remove_a_channel(hub, webhook):
    alice = notify_for(hub, "alice")
    assert await alice.add(webhook.url(), ["failed", "completed"])
    (channel,) = alice.channels
    assert channel["scheme"] == "json" and channel["host"] == webhook.url_base.removeprefix("http://")
    assert channel["events"] == ["completed", "failed"] and alice.message.startswith(f"added {channel['id']} (json")
    assert await alice.test()
    assert alice.message == f"{channel['id']} (json {channel['host']}): ok" and alice.error == ""
    assert webhook.delivered()[0]["title"] == "fedimpute: test notification"
    webhook.failures = [500]
    assert not await alice.test(channel["id"])
    assert alice.error.startswith(f"{channel['id']} (json {channel['host']}): FAILED: ") and "500" in alice.error
    assert "500" in alice.channels[0]["last_error"]
    view = NotificationsView(notify=alice)
    assert channel["id"] in view._table.object and "500" in view._table.object
    assert all(secret not in shown(alice) + view._table.object for secret in (HOOK_TOKEN, HOOK_PASSWORD))
    assert await alice.remove(channel["id"])
    assert alice.channels == [] and alice.message.startswith(f"removed {channel['id']}")


async def test_settings__a_bad_url_or_no_event_is_refused_with_the_reason(hub):
    alice = notify_for(hub, "alice")
    assert not await alice.add("carrier-pigeon://loft/PlantedPw-0001", list(alice.events))
    assert "not a notification URL apprise can use" in alice.error and "PlantedPw-0001" not in shown(alice)
    assert not await alice.add("json://127.0.0.1:9/x", [])
    assert alice.error == "choose at least one event to be told about" and alice.channels == []


async def test_settings__each_user_sees_only_their_own_channels(hub, webhook):
    alice, bob = notify_for(hub, "alice"), notify_for(hub, "bob")
    assert await alice.add(webhook.url(), list(alice.events))
    bob.refresh()
    assert bob.channels == [] and len(alice.channels) == 1
    assert not await bob.remove(alice.channels[0]["id"])
    assert "bob has no notification channel" in bob.error
    assert not await bob.test()
    assert bob.error.startswith("bob has no notification channels") and webhook.received == []
    alice.refresh()
    assert len(alice.channels) == 1


def test_settings_view__shows_the_channels_escaped(hub):
    state = HubState.from_home(hub.store.home, user="alice", hub=hub)
    notify = NotifyState(hub_state=state)
    view = SettingsView(tokens=TokenState(hub_state=state), notify=notify)
    assert view._notifications._table.object == "<p>No channels yet: add one below.</p>"
    notify.channels = [{"id": "ch-1", "scheme": "json", "host": "<b>evil</b>", "events": ["failed"],
                        "last_error": "<script>x</script>"}]
    html = view._notifications._table.object
    assert "&lt;b&gt;evil&lt;/b&gt;" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert list(view._notifications._channel.options) == ["ch-1"]
