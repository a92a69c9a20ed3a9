"""The submission form's state: choices, pre-flight gate, uploads and the recorded owner."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from fedimpute.catalogue import make_service
from fedimpute.hub import Hub
from fedimpute.models import Job, JobStatus
from fedimpute.services.cloudgene_schema import AppSchema
from fedimpute.ui.options import _from_schema, default_choices, merge_choices
from fedimpute.ui.state import HubState, SubmissionState

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "engine" / "array.vcf.gz"


class RecordingHub(Hub):
    """A Hub whose submissions are recorded (queued) without any service."""

    calls: ClassVar[list] = []

    async def submit(self, files, service, options, *, owner, check=True, reports=None, progress=None) -> Job:
        assert check and reports and reports[service].ok  # the form hands over the check it showed
        self.calls.append((files, service, options, owner))
        if progress:
            progress(50, 100)
        job = self.store.add_job(Job(service=service, owner=owner, name=options.name, panel=options.panel))
        return self.store.update_job(job.job_id, status=JobStatus.QUEUED, remote_id="r-1")


@pytest.fixture
def submission(store) -> SubmissionState:
    hub = RecordingHub(store)
    RecordingHub.calls = []
    return SubmissionState(hub_state=HubState.from_home(store.home, user="alice", hub=hub))


def upload(submission: SubmissionState, name: str = "array.vcf.gz") -> list[Path]:
    return submission.add_uploads({name: FIXTURE.read_bytes()})


def test_submission__choosing_a_service_offers_its_panels_and_options(submission):
    submission.services = ["local"]
    assert submission.panel == "sim-ci" and submission.build == "hg38"  # the panel's build
    assert "beagle" in submission.param.phasing.objects.values()
    assert set(submission.param.population.objects.values()) == {"", "all"}
    submission.panel = "sim-eur"
    assert set(submission.param.population.objects.values()) == {"", "eur"}


def test_submission__fan_out_offers_panels_of_every_service(submission, store):
    submission.services = ["local", "michigan"]  # michigan has no cached panels
    assert submission.panel is None and submission.panel_ids == []
    assert "choose a reference panel" in submission.blockers


def test_submission__uploads_go_under_the_users_folder(submission):
    paths = upload(submission, name="../../etc/evil name.vcf.gz")
    assert paths[0].name == "evil_name.vcf.gz"
    assert paths[0].parent.parent == submission.hub_state.store.home / "uploads" / "alice"
    assert submission.files == paths


async def test_submission__submit_waits_for_a_passing_preflight(submission):
    submission.services = ["local"]
    upload(submission)
    assert "run the pre-flight check" in submission.blockers
    await submission.run_preflight()
    assert submission.blockers == [] and set(submission.checks["status"]) == {"pass"}
    assert set(submission.checks["service"]) == {"local"}


async def test_submission__changing_inputs_drops_the_report(submission):
    submission.services = ["local"]
    upload(submission)
    await submission.run_preflight()
    submission.phasing = "beagle"
    assert submission.reports == {} and "run the pre-flight check" in submission.blockers


async def test_submission__report_for_inputs_changed_meanwhile_is_dropped(submission):
    submission.services = ["local"]
    upload(submission)
    check = submission._check

    def check_then_change(service):
        report = check(service)
        submission.phasing = "beagle"  # the user changed an option while the check ran
        return report

    submission._check = check_then_change
    await submission.run_preflight()
    assert submission.reports == {} and "run the pre-flight check" in submission.blockers


async def test_submission__failing_check_blocks_submit(submission, tmp_path):
    submission.services = ["local"]
    submission.add_uploads({"broken.vcf.gz": b"this is not a vcf"})
    await submission.run_preflight()
    assert "fail" in set(submission.checks["status"])
    assert "fix the failing pre-flight checks" in submission.blockers
    assert await submission.submit() == [] and RecordingHub.calls == []


async def test_submission__records_the_signed_in_user_as_owner(submission, monkeypatch):
    submission.param.update(services=["local"], job_name="my <b>job</b>")
    upload(submission)
    await submission.run_preflight()
    jobs = await submission.submit()
    assert [j.owner for j in jobs] == ["alice"] and RecordingHub.calls[0][3] == "alice"
    options = RecordingHub.calls[0][2]
    assert (options.panel, options.build, options.phasing, options.name) == ("sim-ci", "hg38", None, "my <b>job</b>")
    assert submission.hub_state.selected_job_id == jobs[0].job_id and submission.upload_progress == 100


def test_options__from_a_cloudgene_schema(store):
    service = store.get_service("michigan")
    schema = AppSchema({"id": "imputationserver2", "params": [
        {"id": "phasing", "values": [{"key": "eagle"}, {"key": "no_phasing"}]},
        {"id": "r2Filter", "values": [{"key": "0"}, {"key": "0.3"}]},
        {"id": "build", "values": [{"key": "hg19"}]}, {"id": "mode", "values": [{"key": "imputation"}]}]})
    choices = _from_schema(schema, service)
    assert choices == {"build": ["hg19"], "phasing": ["eagle", "no_phasing"], "r2_filter": ["0", "0.3"],
                       "mode": ["imputation", "qc-only"]}
    merged = merge_choices([choices, default_choices(service)])
    assert merged["phasing"] == ["eagle", "no_phasing"] and merged["build"] == ["hg19"]


def test_submission__service_list_follows_the_catalogue(submission, store):
    assert "local" in submission.param.services.objects and "lab-wes" not in submission.param.services.objects
    store.add_service(make_service("lab-wes", "wes", "http://127.0.0.1:10", settings=["workflow=impute"]))
    submission.hub_state.refresh_catalogue(fresh=True)
    assert "lab-wes" in submission.param.services.objects
