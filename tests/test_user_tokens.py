"""Each user's own service token: every request for a job goes with its owner's token, else the lab's
shared one, else nothing is sent and the owner is told how to set one.  Against the Cloudgene
simulator, whose own records (the account of each job, the token of each request) are the proof."""

from __future__ import annotations

import json

import pytest

from fedimpute.catalogue import make_service
from fedimpute.credentials import Credentials, MissingTokenError
from fedimpute.hub import Hub
from fedimpute.models import JobStatus
from fedimpute.monitor import Monitor
from fedimpute.services.base import SubmitOptions
from tests.cloudgene_server.fixtures import ALICE_TOKEN, BOB_TOKEN
from tests.vcfgen import write_vcf

OPTS = SubmitOptions(panel="hapmap-2", build="hg19")
MISSING = "no token for carol on sim: set it in Settings or `fedimpute login sim --user carol`"


@pytest.fixture
def hub(home, cloudgene_url) -> Hub:
    """A home with the simulator as service ``sim`` and no token at all (each test sets its own)."""
    hub = Hub()
    hub.store.add_service(make_service("sim", "cloudgene", cloudgene_url, settings=["poll_interval=0"]))
    return hub


@pytest.fixture
def vcf(tmp_path):
    return write_vcf(tmp_path / "c.vcf.gz")


async def _sweep_until_downloaded(monitor: Monitor, job_ids: list[str], rounds: int = 20) -> None:
    """Sweep (every job due) until each job's results are downloaded; the simulator ran them to the end."""
    for _ in range(rounds):
        await monitor.sweep(force=True)
        if all(monitor.store.tracking(j).get("results_state") == "downloaded" for j in job_ids):
            return
    raise AssertionError({j: monitor.store.tracking(j) for j in job_ids})


async def test_each_users_jobs__submitted_polled_listed_downloaded_with_their_own_token(hub, cli, cloudgene_sim, vcf):
    hub.credentials.set_token("sim", ALICE_TOKEN, user="alice")  # as the Settings page keeps it
    login = cli("login", "sim", "--user", "bob", "--token-stdin", input=BOB_TOKEN + "\n")
    assert login.returncode == 0, login.stderr
    assert "stored for user bob" in login.stderr and BOB_TOKEN not in login.stderr
    assert hub.credentials.token_owner("sim", "bob") == "own" and hub.credentials.token("sim") is None

    jobs = {owner: [await hub.submit([vcf], "sim", OPTS, owner=owner) for _ in range(2)] for owner in ("alice", "bob")}
    token_of = {"alice": ALICE_TOKEN, "bob": BOB_TOKEN}
    submits = cloudgene_sim.requests_by_token("/api/v2/jobs/submit/")
    assert {t: len(r) for t, r in submits.items()} == {ALICE_TOKEN: 2, BOB_TOKEN: 2}
    cloudgene_sim.run_to_end()
    monitor = Monitor(hub)
    start = len(cloudgene_sim.token_requests)
    await monitor.sweep(force=True)  # both users' jobs are queued here, each user's pair listed at once
    lists = [t for m, p, t in cloudgene_sim.token_requests[start:] if (m, p) == ("GET", "/api/v2/jobs")]
    assert sorted(lists) == sorted([ALICE_TOKEN, BOB_TOKEN])  # once per (service, token), not per service

    every = [j.job_id for mine in jobs.values() for j in mine]
    await _sweep_until_downloaded(monitor, every)
    for owner, mine in jobs.items():
        for job in mine:
            assert cloudgene_sim.jobs[job.remote_id].username == owner  # submitted under the owner's account
            used = cloudgene_sim.requests_by_token(job.remote_id)
            assert set(used) <= {token_of[owner], None}, (owner, set(used))  # None: the public result links
            assert ("GET", f"/api/v2/jobs/{job.remote_id}") in used[token_of[owner]]  # polled with it
            assert hub.store.get_job(job.job_id).status is JobStatus.COMPLETED
            assert {r.name for r in hub.store.result_files(job.job_id) if r.downloaded_at} >= {"chr_20.zip"}
    assert sum(cloudgene_sim.download_gets.values()) > 0


async def test_user_without_token__clear_error_and_nothing_recorded_or_sent(hub, cli, cloudgene_sim, vcf):
    hub.credentials.set_token("sim", ALICE_TOKEN, user="alice")
    with pytest.raises(MissingTokenError) as caught:
        await hub.submit([vcf], "sim", OPTS, owner="carol")
    assert str(caught.value) == MISSING and caught.value.exit_code == 2
    hub.store.add_service(make_service("sim2", "cloudgene", hub.store.get_service("sim").url))
    with pytest.raises(MissingTokenError, match="no token for alice on sim2"):  # before the parent is recorded
        await hub.submit_many([vcf], ["sim", "sim2"], OPTS, owner="alice")
    proc = cli("submit", str(vcf), "--service", "sim", "--panel", "hapmap-2", "--owner", "carol", "--json")
    assert proc.returncode == 2 and MISSING in proc.stderr and proc.stdout == ""
    assert hub.store.list_jobs() == []
    assert cloudgene_sim.upload_bytes == 0 and not cloudgene_sim.requests_by_token("/jobs/submit")


async def test_shared_token__stands_in_for_users_without_one(hub, cli, cloudgene_sim, vcf):
    both = cli("login", "sim", "--shared", "--user", "bob", "--token", ALICE_TOKEN)
    assert both.returncode == 2 and "--user USER or --shared" in both.stderr
    assert hub.credentials.token("sim", "bob") is None  # nothing stored
    shared = cli("login", "sim", "--shared", "--token-stdin", input=ALICE_TOKEN + "\n")
    assert shared.returncode == 0 and "whole lab" in shared.stderr, shared.stderr
    hub.credentials.set_token("sim", BOB_TOKEN, user="bob")

    carols = await hub.submit([vcf], "sim", OPTS, owner="carol")
    bobs = await hub.submit([vcf], "sim", OPTS, owner="bob")
    assert cloudgene_sim.jobs[carols.remote_id].username == "alice"  # the lab's account
    assert cloudgene_sim.jobs[bobs.remote_id].username == "bob"
    assert (hub.credentials.token_owner("sim", "carol"), hub.credentials.token_owner("sim", "bob")) == ("shared", "own")
    hub.credentials.delete_token("sim", user="bob")
    assert hub.credentials.token_owner("sim", "bob") == "shared" and hub.credentials.token_users("sim") == []
    rows = json.loads(cli("services", "check", "sim", "--json", env={"FEDIMPUTE_USER": "carol"}).stdout)
    assert rows[0]["token"]["present"] is True and rows[0]["token"]["user"] == "alice"
    table = cli("services", "list", env={"COLUMNS": "200"}).stdout
    assert next(line for line in table.splitlines() if "│ sim " in line).rstrip(" │").endswith("shared")


def test_dashboard_token_status__the_users_own_the_labs_or_how_to_set_one(hub):
    from fedimpute.ui.state import HubState

    hub.credentials.set_token("sim", ALICE_TOKEN, user="alice")
    statuses = {user: HubState.from_home(hub.store.home, user=user, hub=hub).tokens["sim"] for user in ("alice", "bob")}
    assert statuses == {"alice": "stored", "bob": "missing: set it in Settings or run `fedimpute login sim --user bob`"}
    hub.credentials.set_token("sim", BOB_TOKEN)
    assert HubState.from_home(hub.store.home, user="bob", hub=hub).tokens["sim"] == "the lab's shared token"


async def test_environment_token__overrides_for_the_cli_not_for_a_served_hub(hub, monkeypatch, cloudgene_sim, vcf):
    hub.credentials.set_token("sim", ALICE_TOKEN, user="alice")
    monkeypatch.setenv("FEDIMPUTE_TOKEN_SIM", BOB_TOKEN)
    assert hub.credentials.token_owner("sim", "alice") == "environment"
    assert "FEDIMPUTE_TOKEN_SIM" in hub.credentials.token_source("sim", "alice")
    overridden = await hub.submit([vcf], "sim", OPTS, owner="alice")
    assert cloudgene_sim.jobs[overridden.remote_id].username == "bob"

    served = Hub(hub.store, Credentials(hub.store.home, environment=False))
    own = await served.submit([vcf], "sim", OPTS, owner="alice")
    assert cloudgene_sim.jobs[own.remote_id].username == "alice"
    with pytest.raises(MissingTokenError, match="no token for carol on sim"):
        await served.submit([vcf], "sim", OPTS, owner="carol")  # the server's environment is nobody's token


async def test_monitor__a_job_whose_owner_lost_the_token_waits_and_says_why(hub, cloudgene_sim, vcf):
    hub.credentials.set_token("sim", ALICE_TOKEN, user="carol")
    job = await hub.submit([vcf], "sim", OPTS, owner="carol")
    hub.credentials.delete_token("sim", user="carol")
    monitor = Monitor(hub)
    start = len(cloudgene_sim.token_requests)
    result = await monitor.sweep(force=True)
    assert result.errors == 1 and MISSING in result.messages[0]
    assert len(cloudgene_sim.token_requests) == start and monitor.is_blocked("sim", "carol")
    with pytest.raises(MissingTokenError, match="no token for carol on sim"):
        await hub.refresh(job.job_id)
    hub.credentials.set_token("sim", ALICE_TOKEN, user="carol")  # set again: polled again
    cloudgene_sim.run_to_end()
    await _sweep_until_downloaded(monitor, [job.job_id])
    assert not monitor.is_blocked("sim", "carol")


async def test_monitor__one_users_refused_token_stops_only_their_jobs(hub, cloudgene_sim, vcf):
    hub.credentials.set_token("sim", ALICE_TOKEN, user="alice")
    hub.credentials.set_token("sim", BOB_TOKEN, user="bob")
    alices = await hub.submit([vcf], "sim", OPTS, owner="alice")
    bobs = await hub.submit([vcf], "sim", OPTS, owner="bob")
    cloudgene_sim.expire_token(ALICE_TOKEN)
    cloudgene_sim.run_to_end()
    monitor = Monitor(hub)
    result = await monitor.sweep(force=True)
    assert [m for m in result.messages if "alice" in m] == [m for m in result.messages if "refused" in m]
    assert any("with alice's token" in m and "`fedimpute login sim --user alice`" in m for m in result.messages)
    assert monitor.is_blocked("sim", "alice") and not monitor.is_blocked("sim", "bob")
    await _sweep_until_downloaded(monitor, [bobs.job_id])
    assert hub.store.get_job(alices.job_id).status is JobStatus.QUEUED  # not failed: waiting for a new token
    assert "refused" not in hub.store.health_of("sim").detail  # one user's stale token is not the service's


def test_credentials__own_shared_and_an_old_homes_token(home):
    creds = Credentials(home)
    creds.set_token("sim", "shared-token-1234")  # the key older versions wrote: now the lab's shared token
    creds.set_token("sim", "alice-own-1234", user="alice")
    assert creds.token("sim", "alice").get_secret_value() == "alice-own-1234"
    assert creds.token("sim", "bob").get_secret_value() == "shared-token-1234"
    assert creds.token("sim").get_secret_value() == "shared-token-1234"
    assert "alice's own token" in creds.token_source("sim", "alice")
    assert "shared" in creds.token_source("sim", "bob") and creds.has_own_token("sim", "alice")
    assert sorted(t.get_secret_value() for t in creds.stored_tokens("sim")) == ["alice-own-1234",
                                                                                 "shared-token-1234"]
    creds.delete_token("sim")
    assert creds.token("sim", "bob") is None and creds.token("sim", "alice") is not None
    with pytest.raises(MissingTokenError, match="fedimpute login sim --user bob"):
        creds.require_token("sim", "bob")
