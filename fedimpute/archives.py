"""Opening encrypted result archives safely.

Cloudgene encrypts each ``chr_N.zip`` with ZipCrypto, or WinZip AES-256 when the job
asked for ``aesEncryption``; pyzipper reads both.  Every member name is checked before
anything is written: absolute names, ``..`` components, drive letters and symbolic
links are refused, so an archive can never write outside the job's folder.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

import pyzipper

from fedimpute.downloads import safe_join
from fedimpute.exceptions import ArchiveError, IntegrityError, UsageError

__all__ = ["check_members", "extract_archive", "verify_md5_sidecar"]


def check_members(archive: zipfile.ZipFile, dest: Path) -> list[tuple[zipfile.ZipInfo, Path]]:
    """Map each member to its target under ``dest``; raise on the first unsafe one."""
    plan = []
    for info in archive.infolist():
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveError(f"refusing archive member {info.filename!r}: symbolic links are not extracted")
        try:
            target = safe_join(dest, info.filename)
        except UsageError as exc:
            raise ArchiveError(f"refusing the archive: member {info.filename!r} would be written outside "
                               f"{dest}") from exc
        plan.append((info, target))
    return plan


def extract_archive(path: Path, dest: Path, password: str | None) -> list[Path]:
    """Decrypt and extract ``path`` into ``dest``; return the files written."""
    try:
        archive = pyzipper.AESZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"{path.name} is not a readable zip archive ({exc}); download it again") from exc
    with archive:
        plan = check_members(archive, dest)
        encrypted = any(info.flag_bits & 0x1 for info, _ in plan)
        if encrypted and not password:
            raise ArchiveError(f"{path.name} is encrypted and no password is known; give --password, or set "
                               "FEDIMPUTE_PASSWORD_<JOBID>")
        if password:
            archive.setpassword(password.encode())
        written = []
        for info, target in plan:
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out, 1024 * 1024)
            except RuntimeError as exc:  # pyzipper/zipfile: "Bad password for file"
                target.unlink(missing_ok=True)
                raise ArchiveError(f"wrong password for {path.name}; give the right one with --password "
                                   "or FEDIMPUTE_PASSWORD_<JOBID>") from exc
            except zipfile.BadZipFile as exc:
                target.unlink(missing_ok=True)
                raise ArchiveError(f"{path.name} is corrupt ({exc}); download it again") from exc
            written.append(target)
    return written


def verify_md5_sidecar(data_md5: str, sidecar: Path, data_name: str) -> None:
    """Compare a downloaded file's MD5 with its ``.md5`` sidecar (``<hex>  <name>``)."""
    text = sidecar.read_text(encoding="utf-8", errors="replace").strip()
    expected = text.split()[0].lower() if text else ""
    if len(expected) != 32 or any(c not in "0123456789abcdef" for c in expected):
        raise ArchiveError(f"{sidecar.name} does not hold an MD5 checksum; download it again")
    if expected != data_md5:
        raise IntegrityError(f"{data_name}: MD5 {data_md5} does not match {sidecar.name} ({expected}); "
                             "the file is damaged, download it again")
