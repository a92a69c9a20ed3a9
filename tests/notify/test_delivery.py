"""Jobs on the local Cloudgene simulator, followed by the real monitor, tell their owner through a real
SMTP server and a real JSON webhook on loopback: one message per event and channel, with the job's
id, name, service and panel, the quality line and a link to the dashboard; never twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from fedimpute.credentials import Credentials
from fedimpute.hub import Hub
from fedimpute.models import Job, JobStatus, utcnow
from fedimpute.monitor import Monitor
from fedimpute.notify import ChannelBook, Sender
from fedimpute.notify.events import queue_downloads_and_outages
from fedimpute.notify.messages import save_public_url
from fedimpute.services.base import SubmitOptions
from fedimpute.store import Store
from tests.cloudgene_server.fixtures import sim_hub
from tests.vcfgen import write_vcf

PUBLIC = "https://imputation.example.org"
EVENTS = ("completed", "failed", "expiring")


@pytest.fixture
def hub(home, cloudgene_url) -> Hub:
    return sim_hub(cloudgene_url, only_sim=True)


@pytest.fixture
def vcf(tmp_path):
    return write_vcf(tmp_path / "c.vcf.gz")


@pytest.fixture
def channels(home, smtp, webhook):
    """alice: one e-mail and one webhook channel; bob: a webhook of his own (he must hear nothing of alice's)."""
    book = ChannelBook(Credentials())
    save_public_url(home, PUBLIC)
    return (book.add("alice", smtp.url(), EVENTS), book.add("alice", webhook.url(), EVENTS),
            book.add("bob", webhook.url(token="BobsOwnHookToken-1234"), EVENTS))


def received(smtp, webhook) -> list[str]:
    """Every message as "title\\nbody": the e-mails, then the webhook's accepted payloads."""
    return smtp.bodies() + [f"{p['title']}\n{p['message']}".strip() for p in webhook.delivered()]


async def _submit(hub: Hub, vcf, name: str):
    return await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19", name=name), owner="alice")


async def test_completed_job__one_message_per_channel_with_quality_and_link(hub, cloudgene_sim, vcf, channels, smtp,
                                                                          webhook):
    monitor = Monitor(hub, auto_download=True)
    job = await _submit(hub, vcf, "study-7")
    cloudgene_sim.run_to_end(job.remote_id)
    await monitor.sweep(force=True)
    assert hub.store.get_job(job.job_id).status is JobStatus.COMPLETED
    assert received(smtp, webhook) == []  # the message waits for the results, to carry their quality
    await monitor.sweep(force=True)  # downloads the results, then sends
    await monitor.sweep(force=True)
    messages = received(smtp, webhook)
    assert len(smtp.messages) == 1 and len(webhook.received) == 1 and len(messages) == 2
    assert messages[0] == messages[1]
    title, *lines = messages[0].strip().splitlines()
    assert title == "fedimpute: study-7 completed"
    assert lines[0] == f'Job {job.job_id} "study-7" on sim, panel hapmap-2: completed.'
    assert lines[1].startswith("Quality: ") and " variants; mean R² " in lines[1] and "for MAF >= 5%" in lines[1]
    assert lines[-1] == f"Open: {PUBLIC}/dashboard?job={job.job_id}"
    assert webhook.paths == [f"/hooks/{webhook.url().rsplit('/', 1)[1]}"]  # alice's hook, never bob's
    assert [s for e in hub.store.notifications("alice") for s in e["states"] or []] == ["sent", "sent"]
    queue_downloads_and_outages(hub.store, utcnow())  # what the upkeep does each minute: the download is news
    assert [e["event"] for e in hub.store.notifications("alice")] == ["completed", "downloaded"]


async def test_failed_job__one_message_per_channel_with_the_services_reason(hub, cloudgene_sim, vcf, channels, smtp,
                                                                           webhook):
    cloudgene_sim.min_samples = 30  # the service refuses the 25 samples the file has
    monitor = Monitor(hub, auto_download=False)
    job = await _submit(hub, vcf, "too-small")
    cloudgene_sim.run_to_end(job.remote_id)
    await monitor.sweep(force=True)
    await monitor.sweep(force=True)
    assert hub.store.get_job(job.job_id).status is JobStatus.FAILED
    messages = received(smtp, webhook)
    assert len(smtp.messages) == 1 and len(webhook.received) == 1 and messages[0] == messages[1]
    title, *lines = messages[0].strip().splitlines()
    assert title == "fedimpute: too-small failed"
    assert lines[0] == f'Job {job.job_id} "too-small" on sim, panel hapmap-2: failed.'
    assert lines[1].startswith("Reason: ") and "At least 30 samples must be uploaded." in lines[1]
    assert lines[-1] == f"Open: {PUBLIC}/dashboard?job={job.job_id}"


async def test_results_nearing_expiry__one_message_per_channel_once(hub, cloudgene_sim, vcf, channels, smtp,
                                                                   webhook):
    """A simulated clock a day before the service deletes undownloaded results: one warning each, once."""
    monitor = Monitor(hub, auto_download=False)
    job = await _submit(hub, vcf, "keep-me")
    cloudgene_sim.run_to_end(job.remote_id)
    await monitor.sweep(force=True)
    job = hub.store.get_job(job.job_id)
    expires = job.expires_at
    monitor.clock = lambda: expires - timedelta(hours=25)
    await monitor.sweep()
    assert [m.splitlines()[0] for m in received(smtp, webhook)] == ["fedimpute: keep-me completed"] * 2
    monitor.clock = lambda: expires - timedelta(hours=23)
    await monitor.sweep()
    monitor.clock = lambda: expires - timedelta(hours=22)
    await monitor.sweep()
    warnings = [m for m in received(smtp, webhook) if "about to be deleted" in m.splitlines()[0]]
    assert len(warnings) == 2 and warnings[0] == warnings[1]
    title, *lines = warnings[0].strip().splitlines()
    assert title == "fedimpute: keep-me results about to be deleted"
    assert lines[0] == f'Job {job.job_id} "keep-me" on sim, panel hapmap-2: results about to be deleted.'
    assert "sim deletes the results at" in lines[1] and "(in 23 h)" in lines[1]
    assert f"fedimpute results download {job.job_id}" in lines[1]
    assert lines[-1] == f"Open: {PUBLIC}/dashboard?job={job.job_id}"


def _failed_job(store: Store, owner: str = "alice", error: str = "QC failed") -> Job:
    job = store.add_job(Job(service="michigan", owner=owner, name="unit", panel="hrc", status=JobStatus.RUNNING))
    return store.update_job(job.job_id, status=JobStatus.FAILED, error=error)


async def test_a_channel_that_fails_twice_then_succeeds_delivers_once(home, webhook):
    store, credentials = Store(home), Credentials()
    channel = ChannelBook(credentials).add("alice", webhook.url(), ("failed",))
    job = _failed_job(store)
    webhook.failures = [500, 503]
    now = [utcnow()]
    sender = Sender(store, credentials, clock=lambda: now[0])
    assert (await sender.run_once()).failed == 1
    assert "500" in (store.channel_errors("alice")[channel.id] or "")
    assert not await sender.run_once() and len(webhook.received) == 1  # backing off: nothing is due yet
    for _ in range(4):
        now[0] += timedelta(hours=2)
        await sender.run_once()
    assert [r["_status"] for r in webhook.received] == [500, 503, 200]
    assert len(webhook.delivered()) == 1 and job.job_id in webhook.delivered()[0]["message"]
    assert store.channel_errors("alice") == {channel.id: None}
    (event,) = store.notifications("alice")
    assert event["states"] == ["sent"]


async def test_two_senders_at_once_send_each_message_once(home, webhook):
    store, credentials = Store(home), Credentials()
    ChannelBook(credentials).add("alice", webhook.url(), ("failed",))
    _failed_job(store)
    first, second = Sender(store, credentials), Sender(store, credentials)
    reports = await asyncio.gather(first.run_once(), second.run_once())
    assert sorted(r.sent for r in reports) == [0, 1] and len(webhook.received) == 1
    assert not await first.run_once() and len(webhook.received) == 1


async def test_a_burst_of_more_than_five_events_becomes_one_digest(home, smtp, webhook):
    store, credentials = Store(home), Credentials()
    book = ChannelBook(credentials)
    book.add("alice", smtp.url(), ("completed",))
    book.add("alice", webhook.url(), ("completed",))
    jobs = [store.add_job(Job(service="michigan", owner="alice", name=f"chr{i}", status=JobStatus.RUNNING))
            for i in range(1, 8)]
    store.apply_job_updates([{"job_id": j.job_id, "status": "completed", "remote_state": "4", "queue_position": None,
                              "started_at": None, "finished_at": None, "error": None, "detail": "done"} for j in jobs])
    sender = Sender(store, credentials)
    report = await sender.run_once()
    assert report.sent == 14 and report.messages == 2
    messages = received(smtp, webhook)
    assert len(messages) == 2 and messages[0] == messages[1]
    title, *lines = messages[0].strip().splitlines()
    assert title == "fedimpute: 7 notifications" and lines[0] == "7 notifications:"
    assert [line.split('"')[1] for line in lines[1:]] == [f"chr{i}" for i in range(1, 8)]
    late = store.add_job(Job(service="michigan", owner="alice", name="late", status=JobStatus.RUNNING))
    store.update_job(late.job_id, status=JobStatus.COMPLETED)
    await sender.run_once()  # a single event after a burst goes on its own
    assert len(smtp.messages) == 2 and smtp.messages[1]["Subject"] == "fedimpute: late completed"


async def test_five_events_are_not_a_burst(home, webhook):
    store, credentials = Store(home), Credentials()
    ChannelBook(credentials).add("alice", webhook.url(), ("failed",))
    for i in range(5):
        _failed_job(store, error=f"reason {i}")
    report = await Sender(store, credentials).run_once()
    assert report.messages == 5 and [p["message"].splitlines()[1] for p in webhook.delivered()] == \
        [f"Reason: reason {i}" for i in range(5)]


async def test_a_user_without_channels_gets_nothing_and_the_event_is_done(home, webhook):
    store, credentials = Store(home), Credentials()
    ChannelBook(credentials).add("bob", webhook.url(), ("failed",))
    _failed_job(store, owner="alice")
    assert not await Sender(store, credentials).run_once()
    (event,) = store.notifications()
    assert event["owner"] == "alice" and event["routed_at"] is not None and event["channels"] is None
    assert webhook.received == []


async def test_a_removed_channel_drops_what_it_had_not_delivered(home, webhook, capsys):
    from fedimpute.notify.manage import Notifications

    store, credentials = Store(home), Credentials()
    notes = Notifications(store, credentials, "alice")
    channel = notes.add(webhook.url(), ("failed",))
    _failed_job(store)
    webhook.failures = [500]
    await Sender(store, credentials).run_once()
    notes.remove(channel["id"])
    now = utcnow() + timedelta(hours=3)
    assert not await Sender(store, credentials, clock=lambda: now).run_once()
    assert store.notifications()[0]["states"] == ["dropped"] and len(webhook.received) == 1
