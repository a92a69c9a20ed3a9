"""Uploads staged on disk within the server's limits, released after submission, cleaned by the
monitor; data folders that never let a path leave the user's folder."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from fedimpute.exceptions import UsageError
from fedimpute.hub import Hub
from fedimpute.models import Job, JobStatus, utcnow
from fedimpute.monitor import Monitor
from fedimpute.ui.settings import MIB, DashboardSettings, UploadLimits
from fedimpute.ui.state import HubState, SubmissionState
from fedimpute.ui.uploads import DataFolder, InputFiles, UploadBatch, UploadRefusedError
from fedimpute.upkeep import HANDED_OVER, staging_dir
from tests.ui.test_submission import FIXTURE, RecordingHub

CHUNK = 1000


def staged_files(home: Path) -> list[Path]:
    root = staging_dir(home)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def send(batch: UploadBatch, name: str, data: bytes, chunk: int = CHUNK) -> Path | None:
    """Chunks as the browser cuts them: ceil((size + 1) / chunk) of them."""
    total = (len(data) + 1 + chunk - 1) // chunk
    path = None
    for i in range(total):
        path = batch.receive(name, i + 1, total, data[i * chunk:(i + 1) * chunk], chunk)
    return path


def test_limits__from_the_environment_with_named_errors(monkeypatch):
    assert UploadLimits.from_env().file_bytes == 4096 * MIB  # 4 GiB by default
    monkeypatch.setenv("FEDIMPUTE_MAX_UPLOAD_MB", "2")
    monkeypatch.setenv("FEDIMPUTE_MAX_USER_UPLOAD_FILES", "7")
    limits = DashboardSettings.from_env().uploads
    assert (limits.file_bytes, limits.user_files) == (2 * MIB, 7)
    monkeypatch.setenv("FEDIMPUTE_MAX_SUBMISSION_MB", "lots")
    with pytest.raises(UsageError, match="FEDIMPUTE_MAX_SUBMISSION_MB='lots' is not a whole number"):
        UploadLimits.from_env()


def test_batch__chunks_are_written_once_into_a_private_folder(home):
    data = os.urandom(5 * CHUNK + 17)
    batch = UploadBatch(home, "alice", UploadLimits())
    path = send(batch, "../../etc/chr 20.vcf.gz", data)
    assert path is not None and path.read_bytes() == data and path.name == "chr_20.vcf.gz"
    assert path.parent == batch.folder and batch.folder.parent == staging_dir(home) / "alice"
    assert stat.S_IMODE(batch.folder.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert batch.files == [path] and batch.in_flight == [] and staged_files(home) == [path]  # no .part left


def test_batch__a_file_over_the_limit_is_refused_before_anything_is_stored(home):
    batch = UploadBatch(home, "alice", UploadLimits(file_bytes=3 * CHUNK))
    with pytest.raises(UploadRefusedError, match=r"big.vcf refused: it is larger than the limit per file, "
                                                 r"3,000 bytes \(the server's FEDIMPUTE_MAX_UPLOAD_MB\)"):
        batch.receive("big.vcf", 1, 10, b"x" * CHUNK, CHUNK)  # 10 chunks: at least 9,000 bytes
    assert not staging_dir(home).exists() or staged_files(home) == []
    assert batch.receive("big.vcf", 2, 10, b"x" * CHUNK, CHUNK) is None  # the rest is ignored
    assert staged_files(home) == []


def test_batch__a_refusal_mid_file_keeps_nothing_and_the_next_upload_works(home):
    batch = UploadBatch(home, "alice", UploadLimits(file_bytes=2 * CHUNK + 500))
    batch.receive("a.vcf", 1, 3, b"a" * CHUNK, CHUNK)  # 3 chunks: 2,000 bytes or more, maybe fine
    batch.receive("a.vcf", 2, 3, b"a" * CHUNK, CHUNK)
    with pytest.raises(UploadRefusedError, match="limit per file"):
        batch.receive("a.vcf", 3, 3, b"a" * CHUNK, CHUNK)
    assert staged_files(home) == [] and not batch.folder.exists()
    assert send(batch, "a.vcf", b"small") == batch.folder / "a.vcf"


@pytest.mark.parametrize(("limits", "setting"), [
    (UploadLimits(submission_files=2), "FEDIMPUTE_MAX_SUBMISSION_FILES"),
    (UploadLimits(submission_bytes=2500), "FEDIMPUTE_MAX_SUBMISSION_MB"),
])
def test_batch__per_submission_limits(home, limits, setting):
    batch = UploadBatch(home, "alice", limits)
    send(batch, "one.vcf", b"1" * 1200)
    send(batch, "two.vcf", b"2" * 1200)
    with pytest.raises(UploadRefusedError, match=setting):
        send(batch, "three.vcf", b"3" * 200)
    assert [p.name for p in staged_files(home)] == ["one.vcf", "two.vcf"]


@pytest.mark.parametrize(("limits", "setting"), [
    (UploadLimits(user_files=2), "FEDIMPUTE_MAX_USER_UPLOAD_FILES"),
    (UploadLimits(user_bytes=2500), "FEDIMPUTE_MAX_USER_UPLOAD_MB"),
])
def test_batch__per_user_limits_count_every_page_of_the_user(home, limits, setting):
    first, second = UploadBatch(home, "alice", limits), UploadBatch(home, "alice", limits)
    send(first, "one.vcf", b"1" * 1200)
    send(second, "two.vcf", b"2" * 1200)
    with pytest.raises(UploadRefusedError, match=setting):
        send(second, "three.vcf", b"3" * 200)
    assert send(UploadBatch(home, "bob", limits), "three.vcf", b"3" * 200) is not None  # bob is not alice


@pytest.fixture
def submission(store) -> SubmissionState:
    RecordingHub.calls = []
    return SubmissionState(hub_state=HubState.from_home(store.home, user="alice", hub=RecordingHub(store)),
                           restrict_inputs=True)


def test_submission__a_plain_text_vcf_upload_works(submission):
    text = FIXTURE.with_suffix("").name + "\n##fileformat=VCFv4.2\n"
    [path] = submission.add_uploads({"sample.vcf": text})  # Panel would have decoded text/* to str
    assert path.read_text() == text and submission.files == [path]


def test_submission__adding_a_file_again_writes_only_it(submission):
    first = submission.add_uploads({"a.vcf.gz": b"a"})[0]
    before = first.stat().st_ino
    submission.add_uploads({"b.vcf.gz": b"b"})
    assert first.stat().st_ino == before and [f.name for f in submission.files] == ["a.vcf.gz", "b.vcf.gz"]


async def test_submission__staging_is_deleted_after_the_job_is_sent(submission, home):
    submission.services = ["local"]
    submission.add_uploads({"array.vcf.gz": FIXTURE.read_bytes()})
    await submission.run_preflight()
    [job] = await submission.submit()
    assert job.status is JobStatus.QUEUED and staged_files(home) == [] and submission.files == []
    assert Path(RecordingHub.calls[0][0][0]).parent.parent == staging_dir(home) / "alice"


async def test_submission__a_file_from_elsewhere_is_refused_at_submission(submission):
    submission.services = ["local"]
    submission.add_uploads({"array.vcf.gz": FIXTURE.read_bytes()})
    await submission.run_preflight()
    submission.files = [FIXTURE]  # as a crafted page could send: a file the pre-flight check passes
    await submission.run_preflight()
    assert submission.blockers == [] and await submission.submit() == []
    assert "array.vcf.gz is neither one of this form's uploads nor a file of your data folder" in submission.message
    assert RecordingHub.calls == []


def test_session_end__deletes_the_batch_unless_a_pending_job_needs_it(submission, home, store):
    [path] = submission.add_uploads({"a.vcf.gz": b"a"})
    store.add_job(Job(service="local", owner="alice", inputs=[str(path.resolve())]))  # pending: not sent yet
    submission.release_staging()
    assert set(staged_files(home)) == {path, path.parent / HANDED_OVER}
    assert submission.inputs.batch.folder != path.parent  # later uploads start a new batch
    store.update_job(store.list_jobs()[0].job_id, status=JobStatus.QUEUED)
    other = SubmissionState(hub_state=submission.hub_state)
    other.add_uploads({"b.vcf.gz": b"b"})
    other.release_staging()
    assert set(staged_files(home)) == {path, path.parent / HANDED_OVER}  # the handed-over batch waits for the monitor


async def test_monitor__removes_handed_over_and_day_old_batches_no_pending_job_needs(home, store):
    limits = UploadLimits()
    handed, pending, fresh, old = (InputFiles(home, "alice", limits, None) for _ in range(4))
    for n, files in enumerate((handed, pending, fresh, old)):
        files.batch.write_whole(f"f{n}.vcf", b"x")
    job = store.add_job(Job(service="local", owner="alice", inputs=[str(pending.batch.files[0].resolve())]))
    handed.batch.hand_over()
    pending.batch.hand_over()
    day_ago = (utcnow() - timedelta(days=1, minutes=5)).timestamp()
    for p in (old.batch.folder, *old.batch.files):
        os.utime(p, (day_ago, day_ago))
    monitor = Monitor(Hub(store))
    await monitor.sweep()
    assert {p.parent for p in staged_files(home)} == {pending.batch.folder, fresh.batch.folder}
    store.update_job(job.job_id, status=JobStatus.QUEUED)  # sent: its inputs are no longer needed
    await monitor.sweep()
    assert {p.parent for p in staged_files(home)} == {pending.batch.folder, fresh.batch.folder}  # not due yet
    monitor.clock = lambda: utcnow() + timedelta(days=2)  # type: ignore[method-assign]
    await monitor.sweep()
    assert staged_files(home) == []


@pytest.fixture
def data_root(tmp_path) -> Path:
    root = tmp_path / "data"
    (root / "alice" / "cohort").mkdir(parents=True)
    (root / "bob").mkdir()
    (root / "alice" / "cohort" / "chr20.vcf.gz").write_bytes(FIXTURE.read_bytes())
    (root / "alice" / ".hidden.vcf").write_text("x")
    (root / "bob" / "secret.vcf.gz").write_text("bob's")
    (root / "alice" / "link-out.vcf.gz").symlink_to(root / "bob" / "secret.vcf.gz")
    (root / "alice" / "dir-out").symlink_to(root / "bob", target_is_directory=True)
    (root / "alice" / "link-in.vcf.gz").symlink_to(root / "alice" / "cohort" / "chr20.vcf.gz")
    return root


def test_data_folder__lists_only_what_stays_inside(data_root):
    folder = DataFolder(data_root, "alice")
    assert folder.listing() == ["link-in.vcf.gz", "cohort/chr20.vcf.gz"]
    assert folder.resolve("link-in.vcf.gz") == (data_root / "alice" / "cohort" / "chr20.vcf.gz").resolve()


@pytest.mark.parametrize(("relative", "why"), [
    ("../bob/secret.vcf.gz", "without '..'"),
    ("cohort/../../bob/secret.vcf.gz", "without '..'"),
    ("/etc/passwd", "without '..'"),
    ("link-out.vcf.gz", "points outside your data folder"),
    ("dir-out/secret.vcf.gz", "points outside your data folder"),
    ("cohort/none.vcf.gz", "is not in your data folder"),
    ("cohort", "is not a regular file"),
])
def test_data_folder__refuses_escapes(data_root, relative, why):
    with pytest.raises(UsageError, match=why):
        DataFolder(data_root, "alice").resolve(relative)


async def test_submission__data_files_are_checked_when_picked_and_at_submission(store, data_root, monkeypatch):
    monkeypatch.setenv("FEDIMPUTE_DATA_ROOT", str(data_root))
    state = HubState.from_home(store.home, user="alice", hub=RecordingHub(store))
    form = SubmissionState(hub_state=state, restrict_inputs=True)
    with pytest.raises(UsageError, match="without '..'"):
        form.add_data_files(["../bob/secret.vcf.gz"])
    with pytest.raises(UsageError, match="points outside"):
        form.add_data_files(["link-out.vcf.gz"])
    form.services = ["local"]
    [path] = form.add_data_files(["cohort/chr20.vcf.gz"])
    await form.run_preflight()
    real = data_root / "alice" / "cohort" / "chr20.vcf.gz"
    real.rename(real.with_name("moved.vcf.gz"))
    real.symlink_to(data_root / "bob" / "secret.vcf.gz")  # swapped for a link out after the check
    assert await form.submit() == [] and "chr20.vcf.gz is neither" in form.message
    real.unlink()
    real.with_name("moved.vcf.gz").rename(real)
    assert [j.status for j in await form.submit()] == [JobStatus.QUEUED]
    assert RecordingHub.calls[-1][0] == [path] and real.exists()  # a data file is never deleted


def test_submission__uploads_in_progress_block_submission_and_removing_one_drops_it(submission, home):
    submission.receive_chunk("a.vcf.gz", 1, 2, b"a" * CHUNK, CHUNK)
    assert submission.uploading == 1 and "wait for the uploads to finish" in submission.blockers
    submission.remove_upload("a.vcf.gz")  # the browser took it back mid-way
    assert submission.uploading == 0 and staged_files(home) == []
    assert submission.receive_chunk("a.vcf.gz", 2, 2, b"a", CHUNK) is None  # a late chunk is ignored
    submission.add_uploads({"b.vcf.gz": b"b"})
    submission.clear_files()
    assert submission.files == [] and staged_files(home) == []


def test_serve__a_missing_data_root_stops_the_server_with_what_to_do(cli, tmp_path, home):
    home.mkdir(mode=0o700, exist_ok=True)
    result = cli("serve", "--port", "0", "--data-root", str(tmp_path / "missing"))
    assert result.returncode == 2 and "no such folder; create it, with one folder per user" in result.stderr
