"""The local engine's progress follows its finished chunks, read from a real chunked run's own log."""

from __future__ import annotations

import json

import httpx
import pytest

from fedimpute.jobs.progress import progress_of
from fedimpute.services.wes_parse import parse_run
from fedimpute.store import Store
from tests.conftest import run_cli
from tests.engine.conftest import FIXTURE

pytestmark = pytest.mark.slow
CHUNK_DONE = "] completed success"


def _cut_after(log: str, marker_lines: list[int], k: int) -> str:
    """The log as it stood when the k-th chunk had just finished (k = 0: after the plan, before any)."""
    lines = log.splitlines()
    end = marker_lines[k - 1] + 1 if k else next(i for i, ln in enumerate(lines) if "chunks to impute" in ln) + 1
    return "\n".join(lines[:end])


def test_engine_progress__fraction_follows_the_finished_chunks(home, ci_panel):
    cli = run_cli
    added = cli("services", "add", "local", "--protocol", "local", "--url", "http://127.0.0.1:9/ga4gh/wes/v1",
                "--set", "chunk_size=300000", "--set", "chunk_flank=500000")
    assert added.returncode == 0, added.stderr
    assert cli("engine", "start", timeout=120).returncode == 0
    try:
        sub = cli("submit", str(FIXTURE / "array.vcf.gz"), "--service", "local", "--panel", "sim-ci", "--build",
                  "hg38", "--wait", "--json", timeout=600)
        assert sub.returncode == 0, sub.stderr
        job = json.loads(sub.stdout)
        url = json.loads(cli("engine", "status", "--json").stdout)["url"]
        body = httpx.get(f"{url}/runs/{job['remote_id']}").json()
        stderr = body["run_log"]["stderr"]  # sapporo gives the log inline
        log = httpx.get(stderr).text if stderr.startswith("http") else stderr
    finally:
        cli("engine", "stop")

    # the run's plan says 4 chunks (the 1 Mb fixture on a 300 kb grid), and its log ends each chunk job
    assert "fedimpute: 20: 4 chunks to impute" in log
    lines = log.splitlines()  # as the service sends it: cwltool colours its levels
    done_at = [i for i, ln in enumerate(lines) if "[job chunk" in ln and CHUNK_DONE in ln]
    assert len(done_at) == 4
    seen = []
    for k in range(5):
        running = parse_run({**body, "state": "RUNNING", "outputs": None}, stderr_text=_cut_after(log, done_at, k))
        progress = progress_of(running, kind="local", files=1)
        seen.append((progress.done, progress.total, progress.fraction))
    print(seen)
    assert seen == [(k, 4, k / 4) for k in range(5)]

    history = Store(home).progress_history([job["job_id"]])[job["job_id"]]
    assert history[-1]["status"] == "completed" and history[-1]["fraction"] == 1.0
