"""The job detail's provenance download: built off the event loop, for whoever may see the job."""

from __future__ import annotations

import io
import zipfile

import pytest

from fedimpute.exceptions import JobNotFoundError
from fedimpute.hub import Hub
from fedimpute.models import SubmitOptions
from fedimpute.provenance.export import provenance_zip
from fedimpute.ui.components.job_detail import JobDetail
from fedimpute.ui.state import HubState, JobDetailState
from tests.provenance.conftest import entity, read_crate, sha256
from tests.vcfgen import write_vcf

# bokeh 3.9 on pandas 3 warns on every table update (its own reset_index call); not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index:Warning")


@pytest.fixture
def alices_job(home, tmp_path):
    hub = Hub()
    hub.credentials.set_token("michigan", "michigan-token-0123456789")
    vcf = write_vcf(tmp_path / "alice.vcf.gz", samples=21)
    job = hub.record_job([vcf], "michigan", SubmitOptions(panel="hapmap-2", build="hg19"), owner="alice")
    return job.job_id, vcf


async def test_detail__provenance_zip_for_the_shown_job(alices_job, home, tmp_path):
    job_id, vcf = alices_job
    state = HubState.from_home(home, user="alice")
    detail = JobDetailState(hub_state=state)
    view = JobDetail(detail=detail)
    state.selected_job_id = job_id
    await detail.build_provenance()
    assert detail.provenance and "ready" in detail.message
    assert view._save_provenance.objects[0].filename == f"{job_id}-provenance.zip"
    assert view._provenance in view.__panel__().select(type(view._provenance))
    (tmp_path / "crate.zip").write_bytes(detail.provenance)
    assert entity(read_crate(tmp_path / "crate.zip"), "#input-1")["sha256"] == sha256(vcf)
    state.selected_job_id = None
    assert detail.provenance is None and view._save_provenance.objects == []


def test_served_crate__names_no_server_path_and_is_owner_scoped(alices_job, home):
    """A served page's crate has no localPath (pages never show server paths); another user cannot get one."""
    job_id, vcf = alices_job
    hub = Hub()
    with zipfile.ZipFile(io.BytesIO(provenance_zip(hub.store, hub.credentials, job_id))) as archive:
        text = archive.read("ro-crate-metadata.json").decode()
    assert "localPath" not in text and str(vcf.parent) not in text and sha256(vcf) in text
    bob = JobDetailState(hub_state=HubState.from_home(home, user="bob"))
    with pytest.raises(JobNotFoundError):
        bob._provenance_zip(job_id)
