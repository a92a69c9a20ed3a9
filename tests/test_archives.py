"""Result archives: both encryptions decrypt; unsafe, colliding or oversized archives are refused, leaving the
folder as it was."""

from __future__ import annotations

import hashlib
import os
import stat
import time
import warnings
import zipfile
from pathlib import Path

import pytest
import pyzipper

from fedimpute.archives import ExtractLimits, extract_archive, verify_md5_sidecar
from fedimpute.downloads import safe_join
from fedimpute.exceptions import ArchiveError, IntegrityError, UsageError
from tests.cloudgene_server.zipcrypto import ZipCryptoFile

PW = "r3sult-Password"


def _zip(path: Path, members: dict[str, bytes], *, aes: bool, password: str | None = PW) -> Path:
    kwargs = {"encryption": pyzipper.WZ_AES} if aes else {}
    with pyzipper.AESZipFile(path, "w", compression=pyzipper.ZIP_DEFLATED, **kwargs) as zf:
        if password and aes:
            zf.setpassword(password.encode())
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _zipcrypto(path: Path, members: dict[str, bytes]) -> Path:
    """ZipCrypto (the Cloudgene default), written by the simulator's own encrypter."""
    with ZipCryptoFile(path, "w", compression=pyzipper.ZIP_DEFLATED, password=PW.encode()) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("aes", [False, True], ids=["zipcrypto", "aes256"])
def test_extract__decrypts(tmp_path, aes):
    src = tmp_path / "chr_20.zip"
    if aes:
        _zip(src, {"chr20.dose.vcf.gz": b"dose", "chr20.info.gz": b"info"}, aes=True)
    else:
        _zipcrypto(src, {"chr20.dose.vcf.gz": b"dose", "chr20.info.gz": b"info"})
    with zipfile.ZipFile(src) as zf:
        assert all(i.flag_bits & 1 for i in zf.infolist())  # really encrypted
    out = tmp_path / "out"
    files = extract_archive(src, out, PW)
    assert sorted(p.name for p in files) == ["chr20.dose.vcf.gz", "chr20.info.gz"]
    assert (out / "chr20.dose.vcf.gz").read_bytes() == b"dose"


def test_extract__wrong_or_missing_password(tmp_path):
    src = _zip(tmp_path / "chr_20.zip", {"a.txt": b"x"}, aes=True)
    with pytest.raises(ArchiveError, match="wrong password for chr_20.zip"):
        extract_archive(src, tmp_path / "out", "nope")
    with pytest.raises(ArchiveError, match="encrypted and no password is known"):
        extract_archive(src, tmp_path / "out", None)


@pytest.mark.parametrize("evil", ["../evil", "/tmp/fedimpute-evil-abs", "a/../../evil", "..\\evil"])
def test_extract__member_escaping_the_folder_is_refused(tmp_path, evil):
    src = tmp_path / "chr_20.zip"
    with zipfile.ZipFile(src, "w") as zf:  # zipfile would sanitise on extract; we write raw names
        zf.writestr("chr20.info.gz", b"fine")
        zf.writestr(zipfile.ZipInfo(evil), b"evil")
    job = tmp_path / "results" / "job"
    job.mkdir(parents=True)
    before = set(tmp_path.rglob("*"))
    with pytest.raises(ArchiveError, match="outside"):
        extract_archive(src, job, None)
    assert set(tmp_path.rglob("*")) == before  # nothing written, not even the safe member
    assert not Path("/tmp/fedimpute-evil-abs").exists()


def test_extract__symlink_member_refused(tmp_path):
    src = tmp_path / "l.zip"
    info = zipfile.ZipInfo("link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ArchiveError, match="symbolic links"):
        extract_archive(src, tmp_path / "out", None)


def test_safe_join__subfolders_allowed_escapes_refused(tmp_path):
    expected = tmp_path.resolve() / "statistics" / "snps-excluded.txt"
    assert safe_join(tmp_path, "statistics/snps-excluded.txt") == expected
    for bad in ("../x", "/abs", "C:\\x", ""):
        with pytest.raises(UsageError):
            safe_join(tmp_path, bad)


def test_md5_sidecar(tmp_path):
    data = b"payload"
    side = tmp_path / "chr_20.zip.md5"
    side.write_text(f"{hashlib.md5(data).hexdigest()}  chr_20.zip\n")
    verify_md5_sidecar(hashlib.md5(data).hexdigest(), side, "chr_20.zip")
    with pytest.raises(IntegrityError, match="does not match"):
        verify_md5_sidecar(hashlib.md5(b"other").hexdigest(), side, "chr_20.zip")


# -- limits, collisions, and a folder left as it was ------------------------------------------


def _snapshot(folder: Path) -> dict[str, tuple[int, str] | None]:
    """Every path under ``folder``: (size, sha256) for files, None for folders."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest()) if p.is_file()
        else None
        for p in sorted(folder.rglob("*"))
    }


def _bomb(path: Path, *, mb: int = 1, aes: bool = False, extra: dict[str, bytes] | None = None) -> Path:
    """``mb`` MB of zeros deflated into about a kilobyte per MB (a real, if small, zip bomb)."""
    members = {**(extra or {}), "chr20.dose.vcf": b"\0" * (mb * 1_000_000)}
    if aes:
        return _zip(path, members, aes=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def job_dir(tmp_path) -> Path:
    """A job's folder holding two downloaded result files and a file from an earlier extraction."""
    folder = tmp_path / "results" / "fi-job"
    folder.mkdir(parents=True)
    (folder / "chr_1.zip").write_bytes(b"PK downloaded chr_1")
    (folder / "qc_report.txt").write_text("Remaining sites: 7,735\n")
    (folder / "chr20.info.gz").write_bytes(b"from an earlier extraction")
    return folder


@pytest.mark.parametrize("aes", [False, True], ids=["plain", "aes256"])
def test_extract__zip_bomb_refused_by_ratio_before_a_byte_is_written(job_dir, aes):
    src = _bomb(job_dir / "chr_20.zip", aes=aes, extra={"chr20.info.gz": b"new info"})
    assert src.stat().st_size < 10_000
    before = _snapshot(job_dir)
    with pytest.raises(ArchiveError, match=r"refusing chr_20.zip: member 'chr20.dose.vcf' expands more than "
                                           r"200:1 \(the limit FEDIMPUTE_MAX_EXTRACT_RATIO=200"):
        extract_archive(src, job_dir, PW if aes else None, protected=[job_dir / "chr_1.zip"])
    assert _snapshot(job_dir) == before  # the earlier chr20.info.gz was not replaced, no staging folder left


def test_extract__raising_the_named_limit_lets_a_trusted_archive_through(job_dir, monkeypatch):
    src = _bomb(job_dir / "chr_20.zip")
    monkeypatch.setenv("FEDIMPUTE_MAX_EXTRACT_RATIO", "5000")
    (out,) = extract_archive(src, job_dir, None)
    assert out == job_dir / "chr20.dose.vcf" and out.stat().st_size == 1_000_000
    assert sorted(p.name for p in job_dir.iterdir()) == [
        "chr20.dose.vcf", "chr20.info.gz", "chr_1.zip", "chr_20.zip", "qc_report.txt"]


def test_extract__total_size_capped_by_env_gb(job_dir, monkeypatch):
    src = _bomb(job_dir / "chr_20.zip", mb=2)
    monkeypatch.setenv("FEDIMPUTE_MAX_EXTRACT_RATIO", "100000")
    monkeypatch.setenv("FEDIMPUTE_MAX_EXTRACT_GB", "0.0005")  # 500 kB
    before = _snapshot(job_dir)
    with pytest.raises(ArchiveError, match=r"expands past 500.0 kB \(the limit of FEDIMPUTE_MAX_EXTRACT_GB=0.0005 GB"):
        extract_archive(src, job_dir, None)
    assert _snapshot(job_dir) == before
    monkeypatch.setenv("FEDIMPUTE_MAX_EXTRACT_GB", "lots")
    with pytest.raises(UsageError, match="FEDIMPUTE_MAX_EXTRACT_GB='lots' is not a positive number"):
        extract_archive(src, job_dir, None)


def test_extract__total_size_capped_at_20x_the_archive(tmp_path):
    src = _bomb(tmp_path / "chr_20.zip", mb=2)
    limits = ExtractLimits(max_ratio=1e9, total_floor=0)
    assert limits.max_bytes(src.stat().st_size) == 20 * src.stat().st_size
    with pytest.raises(ArchiveError, match=r"past .* kB \(20x the archive's .*FEDIMPUTE_MAX_EXTRACT_EXPANSION=20;"):
        extract_archive(src, tmp_path / "out", None, limits=limits)
    assert not (tmp_path / "out").exists()  # the folder it would have created is gone again


def test_extract__streaming_stops_at_the_budget_whatever_the_headers_say(tmp_path):
    """The bytes actually decompressed are charged before each write (a header may lie): with a budget
    below the member's size, decompression stops once the budget is spent."""
    from fedimpute.archives import _Budget, _decompress_all

    src = _bomb(tmp_path / "b.zip", mb=3)
    staging = tmp_path / "staging"
    staging.mkdir()
    limits = ExtractLimits(max_ratio=1e9, max_gb=0.0015, total_floor=0, expansion=1e9)
    with pyzipper.AESZipFile(src) as zf, pytest.raises(ArchiveError, match="expands past 1.5 MB"):
        _decompress_all(zf, "b.zip", [(i, tmp_path / i.filename) for i in zf.infolist()], staging,
                        _Budget("b.zip", limits, src.stat().st_size))
    (staged,) = staging.iterdir()
    assert 0 < staged.stat().st_size <= 1_500_000  # stopped at the budget, not at 3 MB


def test_extract__too_many_members(tmp_path, monkeypatch):
    src = _zip(tmp_path / "many.zip", {f"part{i}.txt": b"x" for i in range(12)}, aes=False, password=None)
    monkeypatch.setenv("FEDIMPUTE_MAX_EXTRACT_MEMBERS", "10")
    with pytest.raises(ArchiveError, match=r"it holds 12 members, more than the limit of 10 "
                                           r"\(FEDIMPUTE_MAX_EXTRACT_MEMBERS"):
        extract_archive(src, tmp_path / "out", None)
    assert not (tmp_path / "out").exists()
    assert ExtractLimits().max_members == 10_000
    monkeypatch.delenv("FEDIMPUTE_MAX_EXTRACT_MEMBERS")
    assert len(extract_archive(src, tmp_path / "out", None)) == 12


@pytest.mark.parametrize("member", ["chr_1.zip", "CHR_1.ZIP", "qc_report.txt", "chr_1.zip/inner"])
def test_extract__member_named_like_a_downloaded_file_is_refused(job_dir, member):
    src = _zip(job_dir / "chr_2.zip", {"chr2.dose.vcf.gz": b"dose", member: b"overwrite"}, aes=True)
    before = _snapshot(job_dir)
    with pytest.raises(ArchiveError, match=r"refusing chr_2.zip: member .* would overwrite the downloaded result"):
        extract_archive(src, job_dir, PW, protected=[job_dir / "chr_1.zip", job_dir / "qc_report.txt"])
    assert _snapshot(job_dir) == before


def test_extract__member_named_like_the_archive_itself_is_refused(job_dir):
    src = _zip(job_dir / "chr_2.zip", {"chr_2.zip": b"overwrite"}, aes=False, password=None)
    with pytest.raises(ArchiveError, match="would overwrite the downloaded result file 'chr_2.zip'"):
        extract_archive(src, job_dir, None)


@pytest.mark.parametrize("names", [("a.txt", "A.TXT"), ("a.txt", "a.txt"), ("sub", "sub/b.txt"),
                                   ("Sub/b.txt", "sub"), ("sub/", "SUB")])
def test_extract__members_colliding_with_each_other_are_refused(job_dir, names):
    src = job_dir / "chr_2.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(src, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name we write on purpose
        for name in names:
            zf.writestr(name, b"" if name.endswith("/") else b"data")
    before = _snapshot(job_dir)
    with pytest.raises(ArchiveError, match=rf"members '{names[0]}' and '{names[1]}' collide"):
        extract_archive(src, job_dir, None)
    assert _snapshot(job_dir) == before


def test_extract__member_needing_a_folder_where_a_file_is_refused(job_dir):
    src = _zip(job_dir / "chr_2.zip", {"chr20.info.gz/x": b"x"}, aes=False, password=None)
    with pytest.raises(ArchiveError, match="needs a folder where the file"):
        extract_archive(src, job_dir, None)


def test_extract__wrong_password_leaves_the_folder_as_it_was(job_dir):
    src = _zip(job_dir / "chr_20.zip", {"chr20.info.gz": b"new", "chr20.dose.vcf.gz": b"dose"}, aes=True)
    before = _snapshot(job_dir)
    with pytest.raises(ArchiveError, match="wrong password"):
        extract_archive(src, job_dir, "nope")
    assert _snapshot(job_dir) == before


def test_extract__replaces_an_earlier_extraction(job_dir):
    src = _zipcrypto(job_dir / "chr_20.zip", {"chr20.info.gz": b"new info", "sub/chr20.dose.vcf.gz": b"d"})
    files = extract_archive(src, job_dir, PW, protected=[job_dir / "chr_1.zip"])
    assert files == [job_dir / "chr20.info.gz", job_dir / "sub" / "chr20.dose.vcf.gz"]
    assert (job_dir / "chr20.info.gz").read_bytes() == b"new info"
    assert not [p for p in job_dir.iterdir() if p.name.startswith(".")]  # no staging folder left


async def test_results__refused_archive_stays_verified_and_is_not_fetched_again(home, cloudgene_url,
                                                                                cloudgene_sim, tmp_path):
    """The issue's case: a member named like another result file.  The download flow refuses it, the
    folder keeps exactly the downloaded files, and asking again re-uses them without a request."""
    from fedimpute.catalogue import make_service
    from fedimpute.hub import Hub
    from fedimpute.results import sha256_of
    from fedimpute.services.base import SubmitOptions
    from tests.cloudgene_server.fixtures import ALICE_TOKEN
    from tests.vcfgen import write_vcf

    hub = Hub()
    hub.store.add_service(make_service("sim", "cloudgene", cloudgene_url, settings=["poll_interval=0.05"]))
    hub.credentials.set_token("sim", ALICE_TOKEN)
    vcf = write_vcf(tmp_path / "cohort.chr20.vcf.gz", samples=25, sites=30)
    job = await hub.submit([vcf], "sim", SubmitOptions(panel="hapmap-2", build="hg19"), owner="t")
    await hub.wait(job.job_id, timeout=60)
    (zip_file,) = [f for f in cloudgene_sim.jobs[job.remote_id].files if f.name == "chr_20.zip"]
    password = hub.credentials.password(job.job_id).get_secret_value()
    _zipcrypto_with(zip_file.path, {"chr20.info.gz": b"info", "qc_report.txt": b"forged report"}, password)
    zip_file.size = zip_file.path.stat().st_size
    dest = tmp_path / "jobs" / job.job_id
    with pytest.raises(ArchiveError, match="member 'qc_report.txt' would overwrite the downloaded result file"):
        await hub.download_results(job.job_id, dest)
    records = hub.store.result_files(job.job_id)
    assert sorted(k for k, v in _snapshot(dest).items() if v) == sorted(r.name for r in records)  # no extraction
    assert all(sha256_of(Path(r.path)) == r.sha256 for r in records)  # every download still verified
    before, gets = _snapshot(dest), len(cloudgene_sim.requests)
    with pytest.raises(ArchiveError, match="would overwrite"):
        await hub.download_results(job.job_id, dest)
    assert len(cloudgene_sim.requests) == gets and dict(cloudgene_sim.download_gets) == {
        r.name: 1 for r in records}  # fetched once, never again
    assert _snapshot(dest) == before


def _zipcrypto_with(path: Path, members: dict[str, bytes], password: str) -> None:
    with ZipCryptoFile(path, "w", compression=pyzipper.ZIP_DEFLATED, password=password.encode()) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_extract__an_interrupted_runs_hidden_folder_is_removed_later(tmp_path):
    """A killed process leaves its hidden extraction folder; the next extraction there removes it once
    it is an hour old, and leaves a fresh one (another extraction may be using it)."""
    dest = tmp_path / "job"
    dest.mkdir()
    stale, fresh = dest / ".fedimpute-extract-old", dest / ".fedimpute-extract-new"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "chr1.dose.vcf.gz").write_bytes(b"half written")
    hour_ago = time.time() - 3700
    os.utime(stale, (hour_ago, hour_ago))
    extract_archive(_zip(tmp_path / "r.zip", {"chr1.txt": b"x"}, aes=False), dest, PW)
    assert not stale.exists() and fresh.exists() and (dest / "chr1.txt").read_bytes() == b"x"
