"""A sender killed with SIGKILL after sending and before marking: the next sender sends that message
again (the claim of a dead process is taken over), so it arrives at most twice and at least once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fedimpute.credentials import Credentials
from fedimpute.models import Job, JobStatus
from fedimpute.notify import ChannelBook
from fedimpute.store import Store
from tests.conftest import ROOT
from tests.waiting import wait_for

#: A sender whose marking blocks once it has sent (argv[1]: a file it writes then), until it is killed.
SENDER = """
import asyncio, pathlib, sys, time
from fedimpute.credentials import Credentials
from fedimpute.notify import sender
from fedimpute.store import Store

flag = pathlib.Path(sys.argv[1])

def stuck_after_sending(self, *args, **kwargs):
    flag.write_text("sent, not marked")
    time.sleep(600)

if flag.name != "none":
    sender.Sender._mark = stuck_after_sending
print(asyncio.run(sender.Sender(Store(), Credentials()).run_once()))
"""


def _sender(flag: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SENDER, str(flag)], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_between_send_and_mark__at_most_one_duplicate(home, webhook, tmp_path):
    store = Store(home)
    ChannelBook(Credentials()).add("alice", webhook.url(), ("failed",))
    job = store.add_job(Job(service="michigan", owner="alice", name="crash", status=JobStatus.RUNNING))
    store.update_job(job.job_id, status=JobStatus.FAILED, error="the service's reason")
    flag = tmp_path / "sent.flag"
    stuck = _sender(flag)
    try:
        wait_for(lambda: flag.exists() and webhook.received, timeout=60, what="the first sender to send")
    finally:
        stuck.kill()  # SIGKILL: no clean-up of any kind
        stuck.wait(10)
    assert stuck.returncode == -9 and len(webhook.received) == 1
    assert store.notifications()[0]["states"] == ["sending"]  # sent, never marked

    again = _sender(tmp_path / "none")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "sent=1" in out
    assert 1 <= len(webhook.received) <= 2 and all(job.job_id in r["message"] for r in webhook.received)
    assert store.notifications()[0]["states"] == ["sent"]

    last = _sender(tmp_path / "none")  # marked: nothing is ever sent again
    out, err = last.communicate(timeout=60)
    assert last.returncode == 0 and "sent=0" in out, err
    assert len(webhook.received) == 2
