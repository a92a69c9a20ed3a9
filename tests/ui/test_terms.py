"""The services' terms: read from the (simulated) Cloudgene app's ``terms_checkbox`` params, shown by
the Submit form before a user's first job there, recorded per user, service and version of the terms,
and asked again when the service changes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedimpute.catalogue import make_service
from fedimpute.hub import Hub
from fedimpute.services import adapter_class
from fedimpute.services.base import terms_digest
from fedimpute.services.cloudgene_schema import AppSchema
from fedimpute.store import Store
from fedimpute.ui.components.submit_form import SubmitForm, terms_html
from fedimpute.ui.state import HubState, SubmissionState
from tests.cloudgene_server import responses
from tests.cloudgene_server.fixtures import ALICE_TOKEN, BOB_TOKEN

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "engine" / "array.vcf.gz"
SIM_TERMS = list(responses._TERMS.values())


@pytest.fixture
def hub(home, cloudgene_url) -> Hub:
    store = Store(home)
    store.add_service(make_service("sim", "cloudgene", cloudgene_url, settings=["poll_interval=0"]))
    hub = Hub(store)
    hub.credentials.set_token("sim", ALICE_TOKEN, user="alice")
    hub.credentials.set_token("sim", BOB_TOKEN, user="bob")
    return hub


def form_for(hub: Hub, user: str) -> SubmissionState:
    return SubmissionState(hub_state=HubState.from_home(hub.store.home, user=user, hub=hub))


async def ready_form(hub: Hub, user: str) -> SubmissionState:
    """alice's (or bob's) form for sim with a file that passes the pre-flight check, terms read."""
    form = form_for(hub, user)
    form.services = ["sim"]
    await form.discover_options()
    form.build = "hg38"  # the fixture's build
    form.add_uploads({"array.vcf.gz": FIXTURE.read_bytes()})
    await form.run_preflight()
    await form.load_terms()
    return form


def test_terms__read_from_the_apps_terms_checkboxes():
    schema = AppSchema({"id": "imputationserver2", "params": [
        {"id": "refpanel", "type": "app_list", "description": "Reference Panel"},
        {"id": "check1", "type": "terms_checkbox", "description": "I will not <b>re-identify</b> anyone."},
        {"id": "meta", "type": "checkbox", "description": "Generate Meta-imputation file"},
        {"id": "check2", "type": "terms_checkbox", "description": "I will report incidents &amp; breaches."}]})
    assert schema.terms() == ["I will not re-identify anyone.", "I will report incidents & breaches."]
    assert AppSchema({"id": "x", "params": []}).terms() == []


async def test_terms__the_cloudgene_adapter_reads_them_from_the_service(hub):
    async with hub.adapter("sim", token=hub.acting_token("sim", "alice")) as adapter:
        assert await adapter.terms() == SIM_TERMS
    assert adapter_class("cloudgene").declares_terms and not adapter_class("local").declares_terms


def test_terms__acceptance_is_kept_per_user_service_and_version(store):
    store.accept_terms("alice", "sim", "v1")
    store.accept_terms("alice", "sim", "v1")  # again: the first time stays
    store.accept_terms("alice", "other", "v1")
    store.accept_terms("bob", "sim", "v2")
    assert set(store.accepted_terms("alice")) == {("sim", "v1"), ("other", "v1")}
    assert set(store.accepted_terms("alice", "sim")) == {("sim", "v1")}
    assert set(store.accepted_terms("carol")) == set()


def test_migration_0006__upgrades_a_store_with_jobs(tmp_path):
    """A store made before terms were recorded keeps its jobs and starts with no acceptance."""
    import shutil

    import duckdb

    from fedimpute.paths import DB_FILENAME
    from fedimpute.store.migrations import MIGRATIONS_DIR, apply_migrations

    old = tmp_path / "sql"
    old.mkdir()
    for f in sorted(MIGRATIONS_DIR.glob("000[1-5]_*.sql")):
        shutil.copy(f, old / f.name)
    home = tmp_path / "home"
    home.mkdir()
    db = home / DB_FILENAME
    assert apply_migrations(db, old) == [1, 2, 3, 4, 5]
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO jobs (job_id, service, owner, status, created_at, updated_at) "
                    "VALUES ('fi-old', 'michigan', 'alice', 'completed', now(), now())")
    newest = len(list(MIGRATIONS_DIR.glob("0*.sql")))
    assert apply_migrations(db) == list(range(6, newest + 1))  # 0006 and every later one, over a store with jobs
    store = Store(home)
    assert store.get_job("fi-old").owner == "alice" and store.accepted_terms("alice") == {}
    store.accept_terms("alice", "michigan", "v1")
    assert set(store.accepted_terms("alice")) == {("michigan", "v1")}


async def test_submit__asks_for_the_terms_before_the_first_job_only(hub):
    alice = await ready_form(hub, "alice")
    assert alice.pending_terms == {"sim": SIM_TERMS}
    assert alice.blockers == ["accept the terms of sim"]
    assert await alice.submit() == [] and "accept the terms of sim" in alice.message
    assert hub.store.list_jobs() == []
    alice.accept_terms = True
    assert alice.blockers == []
    jobs = await alice.submit()
    assert [j.service for j in jobs] == ["sim"] and jobs[0].remote_id
    assert set(hub.store.accepted_terms("alice")) == {("sim", terms_digest(SIM_TERMS))}
    assert alice.pending_terms == {} and not alice.accept_terms

    again = await ready_form(hub, "alice")  # her next form asks nothing
    assert again.pending_terms == {} and again.blockers == []
    bob = await ready_form(hub, "bob")  # the terms are per person
    assert bob.pending_terms == {"sim": SIM_TERMS} and "accept the terms of sim" in bob.blockers


async def test_submit__changed_terms_are_asked_for_again(hub, monkeypatch):
    hub.store.accept_terms("alice", "sim", terms_digest(SIM_TERMS))
    assert (await ready_form(hub, "alice")).pending_terms == {}
    monkeypatch.setitem(responses._TERMS, "check2", "I will delete the data after 30 days.")
    changed = await ready_form(hub, "alice")
    assert changed.pending_terms == {"sim": [SIM_TERMS[0], "I will delete the data after 30 days."]}
    assert "accept the terms of sim" in changed.blockers


async def test_submit__terms_changed_after_the_box_was_ticked_are_asked_for_again(hub, monkeypatch):
    alice = await ready_form(hub, "alice")
    alice.accept_terms = True
    monkeypatch.setitem(responses._TERMS, "check1", "New terms, read them.")
    assert await alice.submit() == []  # the form reads the terms again before it sends anything
    assert not alice.accept_terms and alice.pending_terms["sim"][0] == "New terms, read them."
    assert "accept the terms of sim" in alice.message and hub.store.accepted_terms("alice") == {}


async def test_submit__terms_that_cannot_be_read_block_submission(hub):
    hub.store.add_service(make_service("closed", "cloudgene", "http://127.0.0.1:9"))
    form = form_for(hub, "alice")
    form.services = ["closed"]
    assert "wait for the terms of closed" in form.blockers
    await form.load_terms()
    assert form.terms_errors["closed"] and any(b.startswith("could not read the terms of closed (")
                                               for b in form.blockers)


def test_submit_form__shows_pending_terms_escaped_with_a_box_to_tick(hub):
    form = SubmitForm(submission=form_for(hub, "alice"))
    assert not form._accept.visible and form._terms.object == ""
    form.submission.services = ["sim"]  # the form reads the service's terms (and options)
    assert form._accept.visible and "I will not attempt to re-identify" in form._terms.object
    form.submission.terms = {"sim": ['<img src=x onerror="alert(1)">', "Be nice."]}  # a service's markup
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in form._terms.object
    assert "<img" not in form._terms.object and "<b>Terms of sim</b>" in form._terms.object
    assert "accept the terms of sim" in form._ready.object
    form._accept.value = True
    assert form.submission.accept_terms and "accept the terms" not in form._ready.object
    assert terms_html({}) == ""
