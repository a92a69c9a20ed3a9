"""In chromium: the board follows a Cloudgene job stage by stage, step and chunk, without a reload.

The Cloudgene simulator (in this process) runs jobs on a stand-in chromosome of four chunks and moves
only when the test advances it; after each stage the test sweeps with the monitor (as `jobs refresh`
does) and waits for the served page, which re-reads the store on its own, to show the stage.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fedimpute.models import JobStatus
from fedimpute.monitor import Monitor
from fedimpute.services.base import SubmitOptions
from tests.cloudgene_server.fixtures import sim_hub
from tests.cloudgene_server.server import serve_in_thread
from tests.cloudgene_server.state import CloudgeneSim
from tests.ui.serving import screenshot
from tests.vcfgen import write_vcf

pytestmark = pytest.mark.browser

OPTS = SubmitOptions(panel="hapmap-2", build="hg19")
#: What the board says of the job at each stage: the step text and the bar's value (percent).
STAGES = [
    ("Input Validation: 0 of 4 steps done (0%)", 0),
    ("Quality Control: 1 of 4 steps done (25%)", 25),
    ("Phasing and Imputation: 0 of 4 chunks done (50%)", 50),
    ("Phasing and Imputation: 1 of 4 chunks done (56%)", 56.25),
    ("Phasing and Imputation: 2 of 4 chunks done (62%)", 62.5),
    ("Phasing and Imputation: 3 of 4 chunks done (69%)", 68.75),
    ("Summary: 3 of 4 steps done (75%)", 75),
    ("completed (100%)", 100),
]


def in_thread(work: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine to its end on an event loop of its own (Playwright's sync API holds this thread's)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work()).result()


def test_board__follows_steps_and_chunks_to_completion(page: Page, serve_app, home, tmp_path):
    sim = CloudgeneSim(workdir=tmp_path / "sim", keep_uploads=False, synthetic_chunks=4, step_seconds=3600,
                       max_running_per_user=5)
    sim.add_user("alice", "alice-token-0123456789")
    vcf = write_vcf(tmp_path / "c.vcf.gz")
    with serve_in_thread(sim) as handle:
        hub = sim_hub(handle.url)
        jobs = [in_thread(lambda: hub.submit([vcf], "sim", OPTS, owner="tester")) for _ in range(3)]
        first, third = jobs[0], jobs[2]
        monitor = Monitor(hub, auto_download=False)
        in_thread(lambda: monitor.sweep(force=True))
        served = serve_app(home)
        page.goto(f"{served.url}/dashboard")
        page.get_by_role("button", name="Board").click()
        expect(page.get_by_text("3 active job(s)")).to_be_visible()
        bar = page.locator(f'progress[data-job="{first.job_id}"]')
        row = page.locator("tr", has=page.get_by_text(third.job_id))
        expect(row).to_contain_text("queued, 1 ahead in the queue (0%)")
        expect(page.locator("canvas").first).to_be_attached()  # the phases plot
        shown = []
        for stage, (text, value) in enumerate(STAGES):
            expect(page.get_by_text(text)).to_be_visible()
            expect(bar).to_have_attribute("value", f"{value:g}")
            shown.append(float(bar.get_attribute("value") or "nan"))
            if stage == 3:
                screenshot(page, "board-chunks")
            sim.advance(first.remote_id)
            in_thread(lambda: monitor.sweep(force=True))
        assert hub.store.get_job(first.job_id).status is JobStatus.COMPLETED
        assert all(a < b for a, b in zip(shown, shown[1:], strict=False)) and shown[-1] == 100
        expect(row).to_contain_text(re.compile(r"1 → 0"))  # the third job moved up when the first ended
        screenshot(page, "board-completed")
