"""Adding a protocol is one module and one registry line: the toy protocol of tests/toy_protocol.py,
registered here (run-time API) or installed (an entry point), is listed, validated, submitted to and
polled by fedimpute's own code, none of which names it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fedimpute.catalogue import make_service, protocol_help, settings_help
from fedimpute.cli import main
from fedimpute.exceptions import NotSupportedError, UnknownProtocolError
from fedimpute.hub import Hub
from fedimpute.models import JobStatus
from fedimpute.monitor import Monitor
from fedimpute.services import adapter_class, protocols, register, unregister
from fedimpute.services.base import SubmitOptions
from tests.asgi_thread import serve_asgi_in_thread
from tests.toy_protocol import RESULT, ToyService, ToyState, toy_app
from tests.vcfgen import write_vcf

TARGET = "tests.toy_protocol:ToyService"


@pytest.fixture
def toy():
    register("toy", TARGET)
    yield
    unregister("toy")


@pytest.fixture
def toy_server():
    state = ToyState()
    with serve_asgi_in_thread(toy_app(state), name="toy") as handle:
        handle.state = state
        yield handle


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_registry__toy_is_listed_with_its_settings(toy):
    assert adapter_class("toy") is ToyService and "toy" in protocols()
    assert protocol_help().endswith("cloudgene, wes, dnastack, local, toy.")
    assert ("toy: queue: toy queue the jobs go to (default main); steps: polls a toy job takes to finish "
            "(default 2); poll_interval: seconds between polls of one job (0: at every sweep of the monitor) "
            "(default 7); ca_bundle: PEM file of the CA that signed the service's certificate (a lab CA, or a "
            "partner node's self-signed certificate).") in settings_help()


def test_registry__forgotten_toy_is_unknown(toy):
    unregister("toy")
    with pytest.raises(UnknownProtocolError, match="unknown protocol 'toy'; choose one of cloudgene, wes"):
        adapter_class("toy")


def test_services_add__help_lists_toy(toy, capsys):
    code, out, _ = run(capsys, "services", "add", "--help")
    assert code == 0 and "toy" in out and "queue" in out


def test_services_add__toy_settings_validated_by_its_model(toy, capsys):
    assert run(capsys, "services", "add", "t", "--protocol", "toy", "--url", "http://127.0.0.1:9",
               "--set", "queue=fast", "--set", "steps=3")[0] == 0
    (row,) = [r for r in json.loads(run(capsys, "services", "list", "--json")[1]) if r["name"] == "t"]
    assert (row["protocol"], row["settings"]) == ("toy", {"queue": "fast", "steps": "3"})
    code, _, err = run(capsys, "services", "add", "u", "--protocol", "toy", "--url", "http://x", "--set", "nope=1")
    assert code == 2 and "unknown setting 'nope' for protocol toy; known keys: queue, steps, poll_interval, " \
                         "ca_bundle, min_samples" in err
    code, _, err = run(capsys, "services", "add", "u", "--protocol", "toy", "--url", "http://x", "--set", "steps=x")
    assert code == 2 and "setting steps of protocol toy: Input should be a valid integer" in err and "'x'" in err
    code, _, err = run(capsys, "services", "add", "u", "--protocol", "toi", "--url", "http://x")
    assert code == 2 and "unknown protocol 'toi'; did you mean 'toy'?" in err


async def test_hub_and_monitor__toy_job_submitted_polled_and_downloaded(toy, toy_server, home, tmp_path):
    hub = Hub()
    hub.store.add_service(make_service("t", "toy", toy_server.url, settings=["poll_interval=0", "steps=2"]))
    hub.credentials.set_token("t", "toy-token-123")
    job = await hub.submit([write_vcf(tmp_path / "c.vcf.gz")], "t", SubmitOptions(panel="toy-panel"), owner="me")
    assert job.status is JobStatus.QUEUED and job.remote_id == "toy-1"
    assert toy_server.state.jobs["toy-1"]["key"] == job.job_id and toy_server.state.jobs["toy-1"]["steps"] == 2
    monitor = Monitor(hub)
    seen = []
    for _ in range(10):
        await monitor.sweep(force=True)
        seen.append(hub.store.get_job(job.job_id).status)
        if hub.store.tracking(job.job_id).get("results_state") == "downloaded":
            break
    assert seen[-1] is JobStatus.COMPLETED and JobStatus.RUNNING in seen
    (result,) = hub.store.result_files(job.job_id)
    assert Path(result.path).read_bytes() == RESULT
    assert set(toy_server.state.tokens) == {"Bearer toy-token-123"}  # the adapter's auth, on every request


def test_poll_interval__the_adapters_default_unless_set(toy):
    hub = Hub()
    assert hub.poll_interval(make_service("t", "toy", "http://x")) == 7.0
    assert hub.poll_interval(make_service("t", "toy", "http://x", settings=["poll_interval=0.5"])) == 0.5


async def test_capabilities__what_toy_lacks_is_a_typed_refusal(toy, toy_server):
    assert not (ToyService.can_cancel or ToyService.can_restart or ToyService.lists_jobs
                or ToyService.verifies_token or ToyService.logs_in)
    hub = Hub()
    hub.store.add_service(make_service("t", "toy", toy_server.url))
    async with hub.adapter("t") as adapter:
        with pytest.raises(NotSupportedError, match="cancelling jobs is not supported by the toy protocol of "
                                                    "service t") as info:
            await adapter.cancel("toy-1")
    assert info.value.exit_code == 2
    with pytest.raises(NotSupportedError, match="OAuth2 login is not supported by the toy protocol"):
        await hub.oauth_login("t")


def _install_entry_point(tmp_path) -> dict[str, str]:
    """A package that provides the toy protocol, as pip would leave it: a dist-info with an entry point."""
    dist = tmp_path / "site" / "fedimpute_toy-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fedimpute-toy\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[fedimpute.services]\ntoy = {TARGET}\n")
    return {"PYTHONPATH": os.pathsep.join([str(dist.parent), os.environ.get("PYTHONPATH", "")])}


def test_entry_point__installed_toy_is_added_and_still_listed_once_removed(cli, tmp_path, toy_server):
    env = _install_entry_point(tmp_path)
    assert "toy" in cli("services", "add", "--help", env=env).stdout
    added = cli("services", "add", "t", "--protocol", "toy", "--url", toy_server.url, env=env)
    assert added.returncode == 0, added.stderr
    checked = cli("services", "check", "t", "--json", env=env)
    assert json.loads(checked.stdout)[0]["health"]["status"] == "up", checked.stderr
    listed = cli("services", "list", "--json")  # the package is gone: the entry still lists
    assert listed.returncode == 0 and {"name": "t", "protocol": "toy"}.items() <= \
        [r for r in json.loads(listed.stdout) if r["name"] == "t"][0].items()
    checked = cli("services", "check", "t", "--json")
    health = json.loads(checked.stdout)[0]["health"]
    assert health["status"] == "unknown" and "install the package that provides it" in health["detail"]
