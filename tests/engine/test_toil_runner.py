"""The local engine with the Toil runner (``toil-cwl-runner`` on Toil's single_machine batch system).

A WES run through Toil must look exactly like one through cwltool: the adapter contract holds
(submit, follow, download, cancel, not-found, bad token), the CI fixture completes with the same
outputs and the same accuracy, a failed step leaves its job store and names itself and its log in
the job's error, and a cancel leaves no process of the run behind.  The helpers here are shared
with the ``cluster`` tests (tests/cluster), which run the same through Slurm.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from fedimpute.catalogue import make_service
from fedimpute.engine.runners import toil_failure_line
from fedimpute.engine.sapporo import SapporoServer
from fedimpute.engine.scoring import BinScore, score_against_truth
from fedimpute.exceptions import FedImputeError
from fedimpute.models import JobStatus, ServiceConfig, SubmitOptions
from fedimpute.services.base import RemoteJob
from fedimpute.services.local import LocalService
from fedimpute.services.wes import WesService
from tests.engine.conftest import FIXTURE
from tests.services.contract import AdapterContract, poll_until
from tests.vcfgen import write_vcf
from tests.waiting import wait_for
from tests.wes_fixtures import DATA, USERS

pytestmark = pytest.mark.slow


# -- helpers shared with tests/cluster -------------------------------------------------------------

class ExtraParamsService(LocalService):
    """The local protocol plus fixed extra workflow inputs (e.g. chunk_size), as a node operator's
    panel entry would add them."""

    extra: Mapping[str, Any] = {}

    def panel_params(self, panel_id: str) -> dict[str, Any]:
        return {**super().panel_params(panel_id), **self.extra}


def local_adapter(server: SapporoServer, client: httpx.AsyncClient, token: str | None = None,
                  extra: Mapping[str, Any] | None = None) -> LocalService:
    """The ``local`` protocol's adapter on ``server`` with the shipped workflow and this home's panels."""
    config = make_service("local", "local", server.url, settings=["workflow=impute", "panels=local"])
    adapter = ExtraParamsService(config, client, SecretStr(token) if token else None)
    adapter.extra = dict(extra or {})
    return adapter


async def run_ci_fixture(adapter: LocalService, *, timeout: float = 600, **options: str) -> tuple[RemoteJob, float]:
    """Submit the CI fixture's array, follow it to its end; the job and the wall time it took."""
    start = time.monotonic()
    remote_id = await adapter.submit([FIXTURE / "array.vcf.gz"], SubmitOptions(panel="sim-ci", build="hg38",
                                                                               **options), job_name="ci")
    job = await poll_until(adapter, remote_id, lambda j: j.status.is_terminal, timeout=timeout, interval=0.5)
    return job, time.monotonic() - start


async def download_all(adapter: LocalService, job: RemoteJob, dest: Path) -> set[str]:
    for remote in job.outputs:
        await adapter.download(remote, dest)
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}


def scores(dose: Path) -> dict[tuple[float, float], BinScore]:
    return {(s.maf_lo, s.maf_hi): s for s in score_against_truth(
        dose, FIXTURE / "truth.vcf.gz", FIXTURE / "ref.vcf.gz", FIXTURE / "array.vcf.gz")}


def assert_same_quality(got: Path, want: Path, tolerance: float = 0.01) -> None:
    a, b = scores(got), scores(want)
    for key in b:
        assert a[key].sites == b[key].sites, key
        if b[key].aggregate_r2 is not None:
            assert a[key].aggregate_r2 is not None and abs(a[key].aggregate_r2 - b[key].aggregate_r2) <= tolerance, \
                (key, a[key], b[key])


def processes_in(folder: Path) -> list[str]:
    """Processes whose working folder or command line lies in ``folder`` (a run's leftovers)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = str((proc / "cwd").readlink())
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd.startswith(str(folder)) or str(folder) in cmdline:
            found.append(f"{proc.name}: {cmdline.strip()}")
    return found


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def toil_sapporo(tmp_path_factory):
    server = SapporoServer(tmp_path_factory.mktemp("toil-engine"), users=USERS, cancel_grace_seconds=2,
                           runner="toil", batch_system="single_machine")
    server.start(timeout=120)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def toil_tokens(toil_sapporo) -> dict[str, str]:
    return {user: toil_sapporo.token(user) for user in USERS}


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


# -- the adapter contract, against the Toil runner (tests/services/test_wes_contract.py: cwltool) ----

def _config(server: SapporoServer, workflow: str) -> ServiceConfig:
    return make_service("wes", "wes", server.url, settings=[f"workflow={workflow}",
                                                            f"panels={DATA / 'wes' / 'panels.json'}"])


@pytest.fixture
def adapter(toil_sapporo, toil_tokens, http):
    return WesService(_config(toil_sapporo, str(DATA / "wes" / "count.cwl")), http, SecretStr(toil_tokens["alice"]))


@pytest.fixture
def bad_adapter(toil_sapporo, http):
    return WesService(_config(toil_sapporo, str(DATA / "wes" / "count.cwl")), http, SecretStr("not-a-jwt"))


@pytest.fixture
def job_inputs(tmp_path):
    return [write_vcf(tmp_path / "c.vcf.gz", sites=30)], SubmitOptions(panel="toy-1", build="hg19")


@pytest.fixture
def slow_job_inputs(adapter, toil_sapporo, tmp_path):
    adapter.config = _config(toil_sapporo, str(DATA / "wes-sleep" / "sleep.cwl"))
    adapter.settings = adapter.parse_settings(adapter.config.settings)
    return [write_vcf(tmp_path / "c.vcf.gz")], SubmitOptions(panel="toy-1", build="hg19")


@pytest.fixture
def missing_id():
    return str(uuid.UUID(int=0))


class TestToilWesContract(AdapterContract):
    finish_timeout = 180.0


# -- Toil-specific behaviour -----------------------------------------------------------------------

def test_toil__service_info_names_only_the_engine_in_use(toil_sapporo, sapporo):
    def engines(server):
        return set(httpx.get(f"{server.url}/service-info").json()["workflow_engine_versions"])

    assert (engines(toil_sapporo), engines(sapporo)) == ({"toil"}, {"cwltool"})


async def test_toil__ci_fixture_like_cwltool(toil_sapporo, toil_tokens, sapporo, sapporo_tokens, ci_panel, http,
                                             tmp_path):
    """Same outputs, same accuracy, nothing of Toil's left in the run after a success."""
    toil_job, toil_s = await run_ci_fixture(local_adapter(toil_sapporo, http, toil_tokens["alice"]))
    async with httpx.AsyncClient(timeout=60) as client2:
        cwl_adapter = local_adapter(sapporo, client2, sapporo_tokens["alice"])
        cwl_job, cwl_s = await run_ci_fixture(cwl_adapter)
        cwl_files = await download_all(cwl_adapter, cwl_job, tmp_path / "cwltool")
    print(f"CI fixture: toil single_machine {toil_s:.1f} s, cwltool {cwl_s:.1f} s")
    assert toil_job.status is JobStatus.COMPLETED, (toil_job.remote_state, toil_job.error)
    assert cwl_job.status is JobStatus.COMPLETED, (cwl_job.remote_state, cwl_job.error)
    toil_files = await download_all(local_adapter(toil_sapporo, http, toil_tokens["alice"]), toil_job,
                                    tmp_path / "toil")
    assert toil_files == cwl_files and {"chr20.dose.vcf.gz", "chr20.info.gz", "qc_report.txt"} <= toil_files
    assert_same_quality(tmp_path / "toil" / "chr20.dose.vcf.gz", tmp_path / "cwltool" / "chr20.dose.vcf.gz")
    run_dir = toil_sapporo.run_dir(toil_job.remote_id)
    assert not (run_dir / "toil").exists() and not (run_dir / "toil-logs").exists()  # cleaned after success


async def test_toil__failed_step_keeps_job_store_and_names_step_and_log(toil_sapporo, toil_tokens, ci_panel, http):
    job, _ = await run_ci_fixture(local_adapter(toil_sapporo, http, toil_tokens["alice"]), phasing="no_phasing")
    assert job.status is JobStatus.FAILED, job.remote_state
    assert job.error and "EXECUTOR_ERROR" in job.error
    # the job's error is the summary line: the step as Toil names it, its own last words, its log
    assert "fedimpute: step " in job.error and "Your input data is unphased" in job.error, job.error
    log = Path(job.error.rsplit("(log: ", 1)[1].rstrip(")"))
    run_dir = toil_sapporo.run_dir(job.remote_id)
    assert log.is_file() and log.parent == run_dir / "toil-logs" and log.name.startswith("failed_")
    assert "Your input data is unphased" in log.read_text()
    assert (run_dir / "toil" / "jobstore").is_dir()  # kept for inspection (or `toil debug-job`)


async def test_toil__cancel_stops_the_leader_and_its_workers(toil_sapporo, toil_tokens, http):
    """single_machine starts each worker in its own session: none may outlive the cancel."""
    adapter = WesService(_config(toil_sapporo, str(DATA / "wes-sleep" / "sleep.cwl")), http,
                         SecretStr(toil_tokens["alice"]))
    remote_id = await adapter.submit([write_vcf(toil_sapporo.workdir / "s.vcf.gz")],
                                     SubmitOptions(panel="toy-1"), job_name="toil-cancel")
    run_dir = toil_sapporo.run_dir(remote_id)
    # the step itself (`sleep 300`, working in the run's Toil work folder) has started
    wait_for(lambda: any(" sleep 300" in f" {p.split(': ', 1)[1]}" for p in processes_in(run_dir)), 90,
               "the sleep step to start")
    await adapter.cancel(remote_id)
    job = await poll_until(adapter, remote_id, lambda j: j.status.is_terminal, timeout=90)
    assert job.status is JobStatus.CANCELLED, job.remote_state
    wait_for(lambda: not processes_in(run_dir), 10, f"the run's processes to end: {processes_in(run_dir)}")


def test_toil__wrong_runner_settings_refused_before_start(tmp_path):
    for kwargs, message in (({"runner": "cromwell"}, "unknown runner 'cromwell'; choose one of cwltool, toil"),
                            ({"runner": "toil", "batch_system": "pbs"}, "unknown Toil batch system 'pbs'"),
                            ({"runner": "toil", "max_cores": 0}, "--max-cores must be a positive number")):
        with pytest.raises(FedImputeError, match=re.escape(message)):
            SapporoServer(tmp_path, **kwargs).start()
    assert not (tmp_path / "runs").exists()  # nothing was started


def test_toil__failure_line_without_a_failed_step_names_the_leader_log(tmp_path):
    """Toil can stop before any step ran (e.g. an input it cannot import): the line says so."""
    stderr = "[2026-12-05T04:52:01+0000] [MainThread] [E] [toil.cwl.cwltoil] Got exception 'No such file'\n"
    assert toil_failure_line(stderr, tmp_path, "1") == (
        f"fedimpute: Toil stopped (exit 1) before any step failed; see {tmp_path / 'toil.log'}")
