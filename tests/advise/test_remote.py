"""``advise --remote``: QC-only jobs on the Cloudgene simulator, their statistics in the ranking, and a
failing QC job's reason in its row instead of a traceback.

Two simulated servers: ``sim`` takes the cohort; ``strict`` wants at least 50 samples (the cohort has
40, and fedimpute's catalogue entry does not know that limit, so the job is sent and fails on the
server, as a real service with a stricter rule than announced would).
"""

from __future__ import annotations

import pytest

from fedimpute.catalogue import make_service
from fedimpute.credentials import Credentials
from fedimpute.store import Store
from tests.advise.cli import run, run_json
from tests.cloudgene_server import CloudgeneSim, serve_in_thread
from tests.cloudgene_server.fixtures import ALICE_TOKEN


@pytest.fixture
def two_servers(home, tmp_path):
    lenient = CloudgeneSim(workdir=tmp_path / "sim")
    strict = CloudgeneSim(workdir=tmp_path / "strict", min_samples=50)
    store, credentials = Store(home), Credentials(home)
    for name in ("michigan", "topmed", "h3africa"):
        store.remove_service(name)
    with serve_in_thread(lenient) as a, serve_in_thread(strict) as b:
        for name, sim, url in (("sim", lenient, a.url), ("strict", strict, b.url)):
            sim.add_user("alice", ALICE_TOKEN)
            store.add_service(make_service(name, "cloudgene", url, settings=["poll_interval=0"]))
            credentials.set_token(name, ALICE_TOKEN)
        yield store


def test_remote_qc_jobs_fill_the_ranking_and_a_failure_is_a_reason(capsys, monkeypatch, two_servers, two_pops):
    array = str(two_pops / "array.vcf.gz")
    doc = run_json(capsys, monkeypatch, "advise", array, "--remote", "--service", "sim", "--service", "strict",
                   "--population", "eur")
    rows = {(r["service"], r["panel_id"]): r for r in doc["ranking"]}
    assert set(rows) == {(s, p) for s in ("sim", "strict") for p in ("hapmap-2", "1000g-phase-3-v5")}
    for panel in ("hapmap-2", "1000g-phase-3-v5"):
        ok, failed = rows[("sim", panel)], rows[("strict", panel)]
        stats = ok["remote"]["statistics"]
        assert ok["remote"]["status"] == "completed" and ok["evidence"] == "remote"
        assert stats["match"] == 67 and stats["remaining_sites"] == 67 and stats["reference_overlap"] == 100.0
        assert (ok["overlap"], ok["strand_flips"], ok["allele_switches"], ok["excluded_chunks"]) == (1.0, 0, 0, 0)
        assert ok["expected_r2"] is not None
        assert failed["remote"]["status"] == "failed" and failed["expected_r2"] is None
        assert failed["remote"]["error"] == "At least 50 samples must be uploaded."
        assert any("At least 50 samples must be uploaded." in r for r in failed["reasons"])
    assert [r["service"] for r in doc["ranking"][:2]] == ["sim", "sim"]  # the failed ones go last
    assert doc["submit"].startswith(f"fedimpute submit {array} --service sim --panel ")
    jobs = two_servers.list_jobs()  # ordinary stored jobs, one per pair
    assert len(jobs) == 4 and {j.status.value for j in jobs} == {"completed", "failed"}
    assert {j.name for j in jobs} == {"advise hapmap-2", "advise 1000g-phase-3-v5"}


def test_remote_text_output_names_the_failure_without_a_traceback(capsys, monkeypatch, two_servers, two_pops):
    code, out, err = run(capsys, monkeypatch, "advise", str(two_pops / "array.vcf.gz"), "--remote", "--service",
                         "strict", "--panel", "hapmap-2")
    assert code == 0, err
    assert "Traceback" not in out + err
    assert "QC-only job" in out and "At least 50 samples must be uploaded." in out
    assert "no panel can be recommended yet" in out
