"""Crash safety (SIGKILL at random points, 20 times) and one poller per FEDIMPUTE_HOME, with real processes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from fedimpute.catalogue import make_service
from fedimpute.credentials import Credentials
from fedimpute.models import JobStatus
from fedimpute.results import sha256_of
from fedimpute.services.cloudgene_schema import split_key
from fedimpute.store import Store
from tests.cloudgene_server.fixtures import ALICE_TOKEN
from tests.conftest import ROOT
from tests.vcfgen import write_vcf

N_JOBS = 5


@pytest.fixture
def setup(home, cloudgene_url, cloudgene_sim, tmp_path):
    store = Store(home)
    store.add_service(make_service("sim", "cloudgene", cloudgene_url, settings=["poll_interval=0"]))
    Credentials(home).set_token("sim", ALICE_TOKEN)
    cloudgene_sim.max_running_per_user = 100
    cloudgene_sim.engine_slots = 3
    cloudgene_sim.step_seconds = 0.3
    return store, write_vcf(tmp_path / "c.vcf.gz")


def _worker(home, vcf, *extra):
    return subprocess.Popen([sys.executable, "-m", "tests.monitor.worker", str(home), str(vcf), str(N_JOBS), *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "FEDIMPUTE_HOME": str(home)}, start_new_session=True)


def _check_events(store: Store, job_id: str) -> None:
    events = store.job_events(job_id)
    assert events[0].old_status is None and events[0].status is JobStatus.PENDING
    for before, after in pairwise(events):
        assert after.old_status is before.status, [(e.old_status, e.status) for e in events]
    assert events[-1].status is JobStatus.COMPLETED


@pytest.mark.slow
def test_sigkill_20_times__every_job_completes_once_with_no_lost_events(setup, home, cloudgene_sim):
    store, vcf = setup
    rng = random.Random(7)
    for _ in range(20):
        proc = _worker(home, vcf)
        time.sleep(rng.uniform(0.3, 2.5))  # somewhere in recording, uploading, polling or downloading
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()  # reaps it and closes its pipes
    final = _worker(home, vcf)
    out, err = final.communicate(timeout=240)
    assert final.returncode == 0 and "DONE" in out, err[-3000:]

    jobs = Store(home).list_jobs()
    assert sorted(j.name for j in jobs) == [f"crash-{i}" for i in range(N_JOBS)]
    keys = Counter(split_key(j.name)[1] for j in cloudgene_sim.jobs.values())
    assert set(keys) == {j.job_id for j in jobs} and max(keys.values()) == 1  # zero duplicate submissions
    for job in jobs:
        assert job.status is JobStatus.COMPLETED, (job.job_id, job.status, job.error)
        _check_events(store, job.job_id)
        assert store.tracking(job.job_id)["results_state"] == "downloaded"
        for r in store.result_files(job.job_id):
            assert r.sha256 == sha256_of(Path(r.path))


def test_two_monitors__never_poll_at_the_same_time(setup, home, cloudgene_sim):
    store, vcf = setup
    first = _worker(home, vcf)  # records and sends the jobs, then watches
    time.sleep(1.0)
    second = _worker(home, vcf, "--watch-only")
    for proc in (first, second):
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0 and "DONE" in out, err[-2000:]
    polls = sorted((t, agent.split("monitor/")[1]) for t, agent, _ in cloudgene_sim.agents if "monitor/" in agent)
    owners = [owner for _, owner in polls]
    blocks = [o for i, o in enumerate(owners) if i == 0 or owners[i - 1] != o]
    assert len(set(owners)) >= 1 and len(blocks) == len(set(blocks))  # each monitor's requests form one block
    assert all(j.status is JobStatus.COMPLETED for j in store.list_jobs())

