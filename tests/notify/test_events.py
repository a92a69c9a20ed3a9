"""The events the monitor's upkeep finds: a service down for more than 30 minutes while the user has
jobs there, a token that expires within 7 days, results downloaded; each written once, then delivered."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

from fedimpute.credentials import Credentials
from fedimpute.hub import Hub
from fedimpute.models import HealthRecord, HealthStatus, Job, JobStatus, ResultFile, utcnow
from fedimpute.monitor import Monitor
from fedimpute.notify import ChannelBook, Sender
from fedimpute.notify.events import queue_downloads_and_outages, queue_token_expiry
from fedimpute.store import Store


def _jwt(exp: datetime) -> str:
    def part(doc: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part({'sub': 'x', 'exp': int(exp.timestamp())})}.c2lnbmF0dXJlLXBsYW50ZWQ"


def _events(store: Store, kind: str) -> list[dict]:
    return [e for e in store.notifications() if e["event"] == kind]


def _down(store: Store, service: str, at: datetime, status: HealthStatus = HealthStatus.DOWN) -> None:
    store.record_health(HealthRecord(service=service, status=status, checked_at=at, detail="no answer within 20 s"))


async def test_service_down__told_once_per_outage_to_users_with_jobs_there(home, webhook):
    store, credentials = Store(home), Credentials()
    ChannelBook(credentials).add("alice", webhook.url(), ("service_down",))
    now = utcnow()
    queued = store.add_job(Job(service="michigan", owner="alice", name="waiting", panel="hrc",
                               status=JobStatus.QUEUED))
    store.add_job(Job(service="michigan", owner="bob", status=JobStatus.COMPLETED))  # bob has nothing running
    store.record_health(HealthRecord(service="michigan", status=HealthStatus.UP, checked_at=now - timedelta(hours=2)))
    _down(store, "michigan", now - timedelta(minutes=20))
    assert queue_downloads_and_outages(store, now) == 0  # 20 minutes: not yet
    _down(store, "michigan", now - timedelta(minutes=5), HealthStatus.MAINTENANCE)
    assert queue_downloads_and_outages(store, now + timedelta(minutes=11)) == 1
    assert queue_downloads_and_outages(store, now + timedelta(minutes=30)) == 0  # the same outage
    (event,) = _events(store, "service_down")
    assert event["owner"] == "alice" and event["service"] == "michigan"
    await Sender(store, credentials).run_once()
    (payload,) = webhook.delivered()
    assert payload["title"] == "fedimpute: michigan is in maintenance"
    lines = payload["message"].splitlines()
    assert lines[0] == (f"michigan is in maintenance since {now - timedelta(minutes=20):%Y-%m-%d %H:%M} UTC: "
                        "no answer within 20 s.")
    assert lines[2] == f'- Job {queued.job_id} "waiting" on michigan, panel hrc (queued)'
    store.record_health(HealthRecord(service="michigan", status=HealthStatus.UP, checked_at=now + timedelta(hours=1)))
    _down(store, "michigan", now + timedelta(hours=2))
    assert queue_downloads_and_outages(store, now + timedelta(hours=3)) == 1  # a new outage is told again


async def test_token_expiring__own_tokens_warn_their_user_the_shared_one_its_users(home, webhook):
    store, credentials = Store(home), Credentials()
    ChannelBook(credentials).add("alice", webhook.url(), ("token_expiring",))
    now = utcnow()
    credentials.set_token("michigan", _jwt(now + timedelta(days=3)), user="alice")
    credentials.set_token("topmed", _jwt(now + timedelta(days=30)), user="alice")  # not yet
    credentials.set_token("topmed", _jwt(now + timedelta(days=2)))  # the lab's, for users without their own
    store.add_job(Job(service="topmed", owner="bob", status=JobStatus.RUNNING))
    store.add_job(Job(service="topmed", owner="alice", status=JobStatus.RUNNING))  # alice has her own token
    assert queue_token_expiry(store, credentials, now) == 2
    assert queue_token_expiry(store, credentials, now + timedelta(hours=1)) == 0
    assert sorted((e["owner"], e["service"]) for e in _events(store, "token_expiring")) == \
        [("alice", "michigan"), ("bob", "topmed")]
    await Sender(store, credentials).run_once()
    (payload,) = webhook.delivered()
    assert payload["title"] == "fedimpute: your michigan token expires soon"
    assert payload["message"].startswith(f"Your token for michigan expires on {now + timedelta(days=3):%Y-%m-%d}")
    assert "(in 3 day(s))" in payload["message"] and "`fedimpute login michigan --user alice`" in payload["message"]


async def test_downloaded__told_once_when_every_listed_file_is_fetched(home, webhook):
    store, credentials = Store(home), Credentials()
    ChannelBook(credentials).add("alice", webhook.url(), ("downloaded",))
    now = utcnow()
    job = store.add_job(Job(service="michigan", owner="alice", name="fetched", status=JobStatus.COMPLETED))
    old = store.add_job(Job(service="michigan", owner="alice", name="long ago", status=JobStatus.COMPLETED))
    store.upsert_result_file(ResultFile(job_id=old.job_id, name="a.zip", downloaded_at=now - timedelta(days=3)))
    store.upsert_result_file(ResultFile(job_id=job.job_id, name="a.zip", downloaded_at=now))
    store.upsert_result_file(ResultFile(job_id=job.job_id, name="b.zip"))
    assert queue_downloads_and_outages(store, now) == 0  # b.zip is not downloaded yet
    store.upsert_result_file(ResultFile(job_id=job.job_id, name="b.zip", downloaded_at=now))
    assert queue_downloads_and_outages(store, now) == 1
    assert queue_downloads_and_outages(store, now + timedelta(minutes=5)) == 0
    await Sender(store, credentials).run_once()
    (payload,) = webhook.delivered()
    assert payload["message"] == f'Job {job.job_id} "fetched" on michigan: results downloaded.'


async def test_the_monitors_upkeep_queues_and_sends(home, webhook):
    """Wiring: a sweep of the real monitor (a simulated clock) finds the outage and delivers it."""
    hub = Hub()
    ChannelBook(hub.credentials).add("alice", webhook.url(), ("service_down",))
    now = utcnow()
    hub.store.add_job(Job(service="michigan", owner="alice", status=JobStatus.PENDING))
    _down(hub.store, "michigan", now - timedelta(hours=1))
    monitor = Monitor(hub, auto_download=False)
    monitor.clock = lambda: now
    result = await monitor.sweep()
    assert len(webhook.delivered()) == 1 and webhook.delivered()[0]["title"] == "fedimpute: michigan is down"
    assert "notifications: 1 delivered, 0 failed (1 message(s))" in result.messages
    await monitor.sweep()
    assert len(webhook.received) == 1
