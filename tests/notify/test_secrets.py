"""Credentials planted in channel URLs (an SMTP password, a webhook's basic-auth password and path token)
never reach the database (its bytes and every text in every table), the logs, `notify list --json`, the
output of `notify test`, or the messages themselves, through successes, failures and retries."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import duckdb

from fedimpute.cli import main
from fedimpute.credentials import Credentials
from fedimpute.models import Job, JobStatus, utcnow
from fedimpute.notify import Sender
from fedimpute.paths import DB_FILENAME
from fedimpute.store import Store
from tests.notify.conftest import PLANTED, files_text

WRONG = "PlantedWrongSmtpPw-77Q"
SECRETS = (*PLANTED, WRONG)


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["notify", *args, "--user", "alice"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _every_text_in_the_store(home) -> str:
    with duckdb.connect(str(home / DB_FILENAME), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'main'").fetchall()]
        texts = []
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
                texts += [str(value) for value in row if value is not None]
    return "\n".join(texts)


async def test_planted_credentials_never_leave_the_secret_store(home, smtp, webhook, capsys, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, apprise's included, at its most talkative
    assert _cli(capsys, "add", smtp.url())[0] == 0
    assert _cli(capsys, "add", webhook.url())[0] == 0
    assert _cli(capsys, "add", smtp.url(password=WRONG), "--events", "failed")[0] == 0
    webhook.failures = [500]
    code, test_out, test_err = _cli(capsys, "test")
    assert code == 1 and test_out.count("FAILED") == 2

    store, credentials = Store(home), Credentials()
    failed = store.add_job(Job(service="michigan", owner="alice", name="leaky", status=JobStatus.RUNNING))
    store.update_job(failed.job_id, status=JobStatus.FAILED, error="QC failed: control-string-4711")
    done = store.add_job(Job(service="michigan", owner="alice", name="fine", status=JobStatus.RUNNING))
    store.update_job(done.job_id, status=JobStatus.COMPLETED)
    webhook.failures = [502]
    now = [utcnow()]
    sender = Sender(store, credentials, clock=lambda: now[0])
    for _ in range(3):
        await sender.run_once()
        now[0] += timedelta(hours=2)
    assert len(webhook.delivered()) == 2 and len(smtp.messages) == 3  # test + 2 events, after failures
    code, listed, _ = _cli(capsys, "list", "--json")
    assert code == 0 and sum(1 for c in json.loads(listed) if c["last_error"]) == 1  # the wrong password

    database = files_text(home)
    assert b"control-string-4711" in database  # the scan sees what the store holds
    stored = _every_text_in_the_store(home)
    assert "control-string-4711" in stored and "Connection error while submitting email" in stored
    sent = "\n".join(smtp.bodies() + [json.dumps(p) for p in webhook.received])
    for secret in SECRETS:
        assert secret.encode() not in database, secret
        assert secret not in stored, secret
        assert secret not in caplog.text, secret
        assert secret not in test_out + test_err + listed, secret
        assert secret not in sent, secret
    assert any("JSON" in r.getMessage() for r in caplog.records)  # apprise's own lines were captured
