"""Progress of Cloudgene jobs, recorded by the monitor from the simulator's step and chunk messages."""

from __future__ import annotations

import json

from fedimpute.models import JobStatus
from fedimpute.monitor import Monitor
from fedimpute.services.base import SubmitOptions
from tests.progress.conftest import CHUNKS

OPTS = SubmitOptions(panel="hapmap-2", build="hg19")
#: (step, done, total, unit, fraction) at each stage of a four-chunk imputation run.
STAGES = [
    ("Input Validation", 0, 4, "steps", 0.0),
    ("Quality Control", 1, 4, "steps", 0.25),
    *[("Phasing and Imputation", i, CHUNKS, "chunks", 0.5 + 0.25 * i / CHUNKS) for i in range(CHUNKS)],
    ("Summary", 3, 4, "steps", 0.75),
    ("completed", 4, 4, "steps", 1.0),
]


def _now(store, job_id):
    row = store.latest_progress([job_id]).get(job_id)
    return row and (row["step"], row["done"], row["total"], row["unit"], row["fraction"])


async def test_monitor__records_each_step_and_chunk_in_order(chunked_hub, chunked_sim, vcf):
    """Every stage of the run becomes one progress row, the fraction strictly increasing to 1."""
    chunked_sim.max_running_per_user = 5
    first = await chunked_hub.submit([vcf], "sim", OPTS, owner="alice")
    second = await chunked_hub.submit([vcf], "sim", OPTS, owner="alice")
    third = await chunked_hub.submit([vcf], "sim", OPTS, owner="alice")
    store, monitor = chunked_hub.store, Monitor(chunked_hub, auto_download=False)
    await monitor.sweep(force=True)
    assert store.latest_progress([third.job_id])[third.job_id]["queue_position"] == 1
    seen = []
    while store.get_job(first.job_id).status is not JobStatus.COMPLETED:
        seen.append(_now(store, first.job_id))
        chunked_sim.advance(first.remote_id)
        await monitor.sweep(force=True)
    seen.append(_now(store, first.job_id))
    assert seen == STAGES
    fractions = [row["fraction"] for row in store.progress_history([first.job_id])[first.job_id]]
    assert fractions == [s[4] for s in STAGES]  # one row per stage: sweeps that saw nothing new added none
    assert all(a < b for a, b in zip(fractions, fractions[1:], strict=False))
    # the queue moved: the third job went from 1 ahead to 0 once the first left the engine
    positions = [r["queue_position"] for r in store.progress_history([third.job_id])[third.job_id]]
    assert positions[:2] == [1, 0]
    assert _now(store, second.job_id)[0] == "Input Validation"


async def test_refresh__one_job_records_its_progress(chunked_hub, chunked_sim, vcf):
    """A single refresh (`jobs show`) goes through the same write path as the monitor."""
    job = await chunked_hub.submit([vcf], "sim", OPTS, owner="alice")
    for _ in range(3):
        chunked_sim.advance(job.remote_id)
    await chunked_hub.refresh(job.job_id)
    assert _now(chunked_hub.store, job.job_id) == STAGES[3]


async def test_qc_only_run__has_three_steps(chunked_hub, chunked_sim, vcf):
    job = await chunked_hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19", mode="qc-only"),
                                   owner="alice")
    chunked_sim.advance(job.remote_id)
    await chunked_hub.refresh(job.job_id)
    assert _now(chunked_hub.store, job.job_id) == ("Quality Control", 1, 3, "steps", 1 / 3)


async def test_failed_run__keeps_where_it_stopped(chunked_hub, chunked_sim, vcf):
    job = await chunked_hub.submit([vcf], "sim", OPTS, owner="alice")
    chunked_sim.advance(job.remote_id)
    await chunked_hub.refresh(job.job_id)
    await chunked_hub.cancel(job.job_id)
    row = chunked_hub.store.latest_progress([job.job_id])[job.job_id]
    assert (row["status"], row["step"], row["fraction"]) == ("cancelled", "Quality Control", 0.25)


def test_cli__jobs_show_and_list_carry_progress(cli, chunked_hub, chunked_sim, vcf):
    import asyncio

    job = asyncio.run(chunked_hub.submit([vcf], "sim", OPTS, owner="alice"))
    chunked_sim.advance(job.remote_id)
    shown = json.loads(cli("jobs", "show", job.job_id, "--json").stdout)
    assert shown["progress"] == {"step": "Quality Control", "done": 1, "total": 4, "fraction": 0.25,
                                 "queue_position": None, "unit": "steps"}
    assert shown["eta"] is None  # no finished job on this service yet
    assert {"job_id", "status", "steps", "events"} <= set(shown)  # the contract's keys are kept
    listed = json.loads(cli("jobs", "list", "--json").stdout)
    assert listed[0]["progress"]["step"] == "Quality Control" and listed[0]["eta"] is None
    text = cli("jobs", "show", job.job_id, "--offline").stdout
    assert "Quality Control: 1 of 4 steps done (25%)" in text
