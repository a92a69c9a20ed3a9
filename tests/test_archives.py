"""Result archives: both encryptions decrypt; unsafe members are refused before anything is written."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from pathlib import Path

import pytest
import pyzipper

from fedimpute.archives import extract_archive, verify_md5_sidecar
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
