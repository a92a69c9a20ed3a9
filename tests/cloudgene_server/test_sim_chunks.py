"""The simulator's imputation step moves chunk by chunk, its running message saying "Imputation (i/n)"."""

from __future__ import annotations

import re

import httpx

from tests.cloudgene_server import CloudgeneSim
from tests.cloudgene_server.fixtures import ALICE_TOKEN
from tests.cloudgene_server.server import serve_in_thread


def _running(job: dict) -> list[tuple[str, str]]:
    return [(s["name"], re.sub(r"<[^>]+>", " ", m["message"]).split("  ")[0].strip())
            for s in job["steps"] for m in s["logMessages"] if m["type"] == 3]


def test_imputation_reports_each_chunk_then_closes(tmp_path):
    sim = CloudgeneSim(workdir=tmp_path, keep_uploads=False, synthetic_chunks=3, step_seconds=3600)
    sim.add_user("alice", ALICE_TOKEN)
    with serve_in_thread(sim) as handle, httpx.Client(base_url=handle.url, headers={"X-Auth-Token": ALICE_TOKEN}) as c:
        job_id = c.post("/api/v2/jobs/submit/imputationserver2", data={"refpanel": "apps@hapmap-2@2.0.0"},
                        files=[("files", ("a.vcf.gz", b"x", "application/octet-stream"))]).json()["id"]
        seen = []
        while (job := c.get(f"/api/v2/jobs/{job_id}").json())["state"] in (1, 2, 3):
            seen.append(_running(job))
            sim.advance(job_id)
    assert seen == [[("Input Validation", "Validating input files...")],
                    [("Quality Control", "Calculating QC Statistics...")],
                    [("Phasing and Imputation", "Imputation (1/3)")],
                    [("Phasing and Imputation", "Imputation (2/3)")],
                    [("Phasing and Imputation", "Imputation (3/3)")],
                    [("Summary", "Exporting data...")]]
    assert job["state"] == 4
    imputation = next(s for s in job["steps"] if s["name"] == "Phasing and Imputation")
    assert "Minimac4: 3 chunk(s) imputed." in imputation["logMessages"][-1]["message"]
    assert "Chunks: 3" in job["steps"][0]["logMessages"][0]["message"]  # the validation summary counts them too
