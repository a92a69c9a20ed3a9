"""What every adapter gets from the base class and the registry: auth scoped to the service, typed
refusals for missing capabilities, settings parsed by the adapter's model, and a registry that
refuses what it cannot use (respx plays the services where a host must be told apart)."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from fedimpute.catalogue import make_service, with_protocol_defaults
from fedimpute.exceptions import NotSupportedError, UnknownProtocolError, UnknownSettingError, UsageError
from fedimpute.hub import Hub
from fedimpute.models import ServiceConfig
from fedimpute.services import adapter_class, register, unregister
from fedimpute.services.base import RemoteFile
from fedimpute.services.cloudgene import CloudgeneService
from fedimpute.services.dnastack import DnastackService
from fedimpute.services.local import LocalService
from fedimpute.services.wes import WesService

MIS = "https://mis.example.org"
WES = "https://wes.example.org/ga4gh/wes/v1"


@pytest.fixture
async def client():
    async with httpx.AsyncClient() as c:
        yield c


@respx.mock
async def test_cloudgene_auth__token_on_api_calls_never_on_result_links(client, tmp_path):
    api = respx.get(f"{MIS}/api/v2/jobs/j1").respond(json={"id": "j1", "state": 2, "name": "n", "steps": []})
    share = respx.get(f"{MIS}/share/results/h/chr1.zip").respond(content=b"zip")
    adapter = CloudgeneService(ServiceConfig(name="mis", protocol="cloudgene", url=MIS), client, SecretStr("tok-1"))
    await adapter.get_job("j1")
    await adapter.download(RemoteFile(name="chr1.zip", url=f"{MIS}/share/results/h/chr1.zip"), tmp_path)
    assert api.calls.last.request.headers["x-auth-token"] == "tok-1"
    assert "x-auth-token" not in share.calls.last.request.headers  # a redirect to storage would carry it on


@respx.mock
async def test_wes_auth__bearer_to_the_service_host_only(client, tmp_path):
    own = respx.get("https://wes.example.org/outputs/a.txt").respond(content=b"a")
    other = respx.get("https://bucket.example.com/b.txt").respond(content=b"b")
    adapter = WesService(ServiceConfig(name="w", protocol="wes", url=WES), client, SecretStr("tok-2"))
    await adapter.download(RemoteFile(name="a.txt", url="https://wes.example.org/outputs/a.txt"), tmp_path)
    await adapter.download(RemoteFile(name="b.txt", url="https://bucket.example.com/b.txt"), tmp_path)
    assert own.calls.last.request.headers["authorization"] == "Bearer tok-2"
    assert "authorization" not in other.calls.last.request.headers


@respx.mock
async def test_client__relative_paths_resolve_under_the_service_url(client):
    info = respx.get(f"{WES}/service-info").respond(json={"workflow_engine_versions": {"cwltool": "3"}})
    adapter = WesService(ServiceConfig(name="w", protocol="wes", url=WES), client, None)
    assert (await adapter.health()).detail.endswith("engines: cwltool") and info.called
    assert str(client.base_url) == f"{WES}/"


@pytest.mark.parametrize(("call", "what"), [
    (lambda a: a.restart("r1"), "restarting jobs is not supported by the wes protocol of service w; submit the "
                                "input again with `fedimpute submit`"),
    (lambda a: a.oauth_login(), "OAuth2 login is not supported by the wes protocol of service w; store a token "
                                "with `fedimpute login w --token`"),
])
async def test_capabilities__missing_ones_refuse_before_any_request(client, call, what):
    adapter = WesService(ServiceConfig(name="w", protocol="wes", url="http://127.0.0.1:9"), client, None)
    with pytest.raises(NotSupportedError) as info:
        await call(adapter)
    assert str(info.value) == what and info.value.exit_code == 2


def test_capabilities__flags_follow_the_methods_each_adapter_has():
    flags = ("can_cancel", "can_restart", "lists_jobs", "verifies_token", "logs_in")
    assert {cls.protocol: tuple(getattr(cls, f) for f in flags) for cls in
            (CloudgeneService, WesService, LocalService, DnastackService)} == {
        "cloudgene": (True, True, True, True, False), "wes": (True, False, True, True, False),
        "local": (True, False, True, True, False), "dnastack": (True, False, True, True, True)}


def test_settings__typed_by_the_adapters_model(client):
    config = make_service("l", "local", "http://127.0.0.1:9", settings=["poll_interval=0.5"])
    adapter = LocalService(config, client, None)
    assert (adapter.settings.poll_interval, adapter.settings.workflow, adapter.settings.panels) == (0.5, "impute",
                                                                                                   "local")
    assert config.settings == {"poll_interval": "0.5"}  # the entry keeps what the user typed


def test_settings__bad_json_is_refused_when_the_service_is_added():
    with pytest.raises(UsageError, match="setting extra_params of protocol dnastack: not valid JSON"):
        make_service("d", "dnastack", "https://x", settings=["extra_params={nope"])
    with pytest.raises(UsageError, match="setting poll_interval of protocol cloudgene: Input should be greater "
                                         "than or equal to 0"):
        make_service("c", "cloudgene", "https://x", settings=["poll_interval=-1"])
    with pytest.raises(UnknownSettingError,
                       match="for protocol cloudgene; known keys: poll_interval, ca_bundle, min_samples"):
        make_service("c", "cloudgene", "https://x", settings=["workflow=impute"])


def test_registry__refuses_replacing_a_builtin_and_a_wrong_class():
    with pytest.raises(ValueError, match="built in"):
        register("wes", "tests.toy_protocol:ToyService")
    register("toy2", "tests.toy_protocol:ToyService")  # its class says "toy", not "toy2"
    try:
        with pytest.raises(TypeError, match="whose `protocol` is 'toy2'"):
            adapter_class("toy2")
    finally:
        unregister("toy2")


async def test_registry__stored_service_of_a_missing_adapter_lists_but_names_the_fix(store):
    stored = ServiceConfig(name="gone", protocol="vanished", url="https://x.example")
    store.add_service(stored)
    assert with_protocol_defaults(stored) == stored  # read from the store: no defaults, no error
    assert [s.protocol for s in store.list_services() if s.name == "gone"] == ["vanished"]
    with pytest.raises(UnknownProtocolError, match="service gone uses the protocol 'vanished', which no installed "
                                                   "adapter provides .*`fedimpute services remove gone`"):
        async with Hub(store).adapter("gone"):
            pass
