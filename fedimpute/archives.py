"""Opening encrypted result archives safely.

Cloudgene encrypts each ``chr_N.zip`` with ZipCrypto, or WinZip AES-256 when the job
asked for ``aesEncryption``; pyzipper reads both.  Every member is checked before
anything is written:

* absolute names, ``..`` components, drive letters and symbolic links are refused, so an
  archive can never write outside the job's folder;
* a member may not replace another downloaded file of the job (``protected``: an overwritten
  ``chr_1.zip`` would fail its hash check and be fetched again, spending the service's
  download quota), nor collide with another member, also when only the case differs (one
  file on macOS and Windows);
* the member count, the bytes written in all (``expansion`` times the archive's size, at most
  ``FEDIMPUTE_MAX_EXTRACT_GB``) and each member's compression ratio are bounded, on the sizes
  the headers declare and again on the bytes actually decompressed, so a zip bomb stops early.

Members are decompressed into a hidden staging folder inside ``dest`` and moved into place
only when the whole archive passed, so a refusal (or a crash) leaves the folder as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyzipper

from fedimpute.downloads import safe_join
from fedimpute.exceptions import ArchiveError, IntegrityError, UsageError

__all__ = ["ExtractLimits", "check_members", "extract_archive", "verify_md5_sidecar"]

_CHUNK = 1024 * 1024
_STAGING_PREFIX = ".fedimpute-extract-"
STALE_STAGING_SECONDS = 3600.0
_HOW = "raise it only for an archive you trust"


@dataclass(frozen=True)
class ExtractLimits:
    """How far one archive may expand.  Each limit has an environment variable that raises it, named in
    the error that refuses an archive."""

    expansion: float = 20.0  #: bytes written in all, times the archive's size (FEDIMPUTE_MAX_EXTRACT_EXPANSION)
    max_gb: float = 50.0  #: and never more than this many GB, 10^9 bytes (FEDIMPUTE_MAX_EXTRACT_GB)
    max_members: int = 10_000  #: members, directories included (FEDIMPUTE_MAX_EXTRACT_MEMBERS)
    max_ratio: float = 200.0  #: one member's bytes per compressed byte (FEDIMPUTE_MAX_EXTRACT_RATIO) ...
    ratio_floor: int = 64 * 1024  #: ... judged once it is larger than this
    total_floor: int = 1024 * 1024  #: a tiny archive may still expand to this much

    @classmethod
    def from_env(cls) -> ExtractLimits:
        """The defaults, with any ``FEDIMPUTE_MAX_EXTRACT_*`` variable that is set."""
        return cls(
            expansion=_env_number("FEDIMPUTE_MAX_EXTRACT_EXPANSION", cls.expansion),
            max_gb=_env_number("FEDIMPUTE_MAX_EXTRACT_GB", cls.max_gb),
            max_members=int(_env_number("FEDIMPUTE_MAX_EXTRACT_MEMBERS", cls.max_members)),
            max_ratio=_env_number("FEDIMPUTE_MAX_EXTRACT_RATIO", cls.max_ratio),
        )

    def max_bytes(self, archive_size: int) -> int:
        """Bytes an archive of ``archive_size`` bytes may write in all."""
        return int(min(max(self.expansion * archive_size, self.total_floor), self.max_gb * 1e9))

    def total_error(self, name: str, archive_size: int) -> ArchiveError:
        limit = self.max_bytes(archive_size)
        if limit >= int(self.max_gb * 1e9):
            why = f"the limit of FEDIMPUTE_MAX_EXTRACT_GB={self.max_gb:g} GB"
        else:
            floor = f", at least {_size(self.total_floor)}" if limit == self.total_floor else ""
            why = (f"{self.expansion:g}x the archive's {_size(archive_size)}{floor}, the limit set by "
                   f"FEDIMPUTE_MAX_EXTRACT_EXPANSION={self.expansion:g}")
        return ArchiveError(f"refusing {name}: it expands past {_size(limit)} ({why}; {_HOW}); nothing was "
                            "extracted")

    def ratio_error(self, name: str, member: str) -> ArchiveError:
        return ArchiveError(f"refusing {name}: member {member!r} expands more than {self.max_ratio:g}:1 (the "
                            f"limit FEDIMPUTE_MAX_EXTRACT_RATIO={self.max_ratio:g}; {_HOW}); nothing was "
                            "extracted")


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise UsageError(f"{name}={raw!r} is not a positive number; set it to one, or unset it for the "
                         f"default ({default:g})")
    return value


def _size(n: float) -> str:
    units, i = ("bytes", "kB", "MB", "GB"), 0
    while n >= 1000 and i < len(units) - 1:
        n, i = n / 1000, i + 1
    return f"{n:,.0f} bytes" if i == 0 else f"{n:,.1f} {units[i]}"


def _key(path: Path) -> str:
    """How a file system that ignores case would name ``path``."""
    return str(path).casefold()


def check_members(archive: zipfile.ZipFile, dest: Path, protected: Iterable[Path] = ()
                  ) -> list[tuple[zipfile.ZipInfo, Path]]:
    """Map each member to its target under ``dest``; raise on the first unsafe or colliding one."""
    name = Path(archive.filename or "the archive").name
    guarded = {_key(Path(p).resolve()): Path(p).name for p in protected}
    if archive.filename:
        guarded[_key(Path(archive.filename).resolve())] = name
    root = dest.resolve()
    plan = []
    files: dict[str, str] = {}  # case-folded target -> the member written there
    folders: dict[str, str] = {}  # case-folded folder -> a member that needs it
    for info in archive.infolist():
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveError(f"refusing archive member {info.filename!r}: symbolic links are not extracted")
        try:
            target = safe_join(dest, info.filename)
        except UsageError as exc:
            raise ArchiveError(f"refusing the archive: member {info.filename!r} would be written outside "
                               f"{dest}") from exc
        _refuse_protected(name, info.filename, target, guarded)
        key = _key(target)
        clash = files.get(key) or (None if info.is_dir() else folders.get(key))
        for parent in target.relative_to(root).parents[:-1]:
            clash = clash or files.get(_key(root / parent))
            folders.setdefault(_key(root / parent), info.filename)
        if clash:
            raise ArchiveError(f"refusing {name}: members {clash!r} and {info.filename!r} collide (they would be "
                               "written to the same place; names differing only in case count as the same); "
                               "nothing was extracted")
        (folders if info.is_dir() else files).setdefault(key, info.filename)
        _refuse_existing(name, info, target, root)
        plan.append((info, target))
    return plan


def _refuse_protected(name: str, member: str, target: Path, guarded: dict[str, str]) -> None:
    """A member may not be (or be inside) a downloaded file of the job."""
    for path in (target, *target.parents):
        if _key(path) in guarded:
            raise ArchiveError(f"refusing {name}: member {member!r} would overwrite the downloaded result file "
                               f"{guarded[_key(path)]!r}; nothing was extracted (the archive was left as it is)")


def _refuse_existing(name: str, info: zipfile.ZipInfo, target: Path, dest: Path) -> None:
    """What is already on disk must fit: no file where a folder is needed, no folder where a file goes."""
    for parent in target.parents:
        if parent == dest or not parent.is_relative_to(dest):
            break
        if parent.exists() and not parent.is_dir():
            raise ArchiveError(f"refusing {name}: member {info.filename!r} needs a folder where the file "
                               f"{parent} is; nothing was extracted")
    if not info.is_dir() and target.is_dir():
        raise ArchiveError(f"refusing {name}: member {info.filename!r} would replace the folder {target}; "
                           "nothing was extracted")


def _check_declared(name: str, members: list[zipfile.ZipInfo], limits: ExtractLimits, archive_size: int) -> None:
    """Refuse on what the headers declare, before a byte is decompressed (the sizes are checked again
    while streaming: a header may lie)."""
    if len(members) > limits.max_members:
        raise ArchiveError(f"refusing {name}: it holds {len(members):,} members, more than the limit of "
                           f"{limits.max_members:,} (FEDIMPUTE_MAX_EXTRACT_MEMBERS; {_HOW}); nothing was extracted")
    if sum(info.file_size for info in members) > limits.max_bytes(archive_size):
        raise limits.total_error(name, archive_size)
    for info in members:
        _check_ratio(name, info, info.file_size, limits)


def _check_ratio(name: str, info: zipfile.ZipInfo, size: int, limits: ExtractLimits) -> None:
    if size > limits.ratio_floor and size > limits.max_ratio * max(info.compress_size, 1):
        raise limits.ratio_error(name, info.filename)


class _Budget:
    """Bytes actually written so far, against the limits."""

    def __init__(self, name: str, limits: ExtractLimits, archive_size: int) -> None:
        self.name, self.limits, self.archive_size = name, limits, archive_size
        self.left = limits.max_bytes(archive_size)

    def charge(self, info: zipfile.ZipInfo, member_written: int, chunk: int) -> None:
        self.left -= chunk
        if self.left < 0:
            raise self.limits.total_error(self.name, self.archive_size)
        _check_ratio(self.name, info, member_written, self.limits)


def _stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo, staged: Path, budget: _Budget) -> None:
    """Decompress one member into ``staged``, charging every chunk before it is written."""
    written = 0
    with archive.open(info) as src, staged.open("wb") as out:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            budget.charge(info, written, len(chunk))
            out.write(chunk)


def _open(path: Path) -> pyzipper.AESZipFile:
    try:
        return pyzipper.AESZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"{path.name} is not a readable zip archive ({exc}); download it again") from exc


def extract_archive(path: Path, dest: Path, password: str | None, *, protected: Iterable[Path] = (),
                    limits: ExtractLimits | None = None) -> list[Path]:
    """Decrypt and extract ``path`` into ``dest``; return the files written.

    ``protected`` are files no member may replace (the job's other downloads); ``limits`` default to
    :meth:`ExtractLimits.from_env`.  On any refusal nothing of this archive is left in ``dest``."""
    limits = limits or ExtractLimits.from_env()
    with _open(path) as archive:
        size = path.stat().st_size
        _check_declared(path.name, archive.infolist(), limits, size)
        plan = check_members(archive, dest, protected)
        encrypted = any(info.flag_bits & 0x1 for info, _ in plan)
        if encrypted and not password:
            raise ArchiveError(f"{path.name} is encrypted and no password is known; give --password, or set "
                               "FEDIMPUTE_PASSWORD_<JOBID>")
        if password:
            archive.setpassword(password.encode())
        created = _first_missing(dest)
        dest.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(dest)
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=dest))
        try:
            staged = _decompress_all(archive, path.name, plan, staging, _Budget(path.name, limits, size))
        except BaseException:
            shutil.rmtree(created or staging, ignore_errors=True)
            raise
        try:
            return _move_into_place(plan, staged)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _remove_stale_staging(dest: Path, *, older_than: float = STALE_STAGING_SECONDS) -> None:
    """Hidden extraction folders an interrupted run left behind (a killed process cannot clean up);
    an hour's age keeps a concurrent extraction's folder safe."""
    cutoff = time.time() - older_than
    for folder in dest.glob(_STAGING_PREFIX + "*"):
        with contextlib.suppress(OSError):
            if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


def _first_missing(dest: Path) -> Path | None:
    """The outermost folder of ``dest`` that does not exist yet (removed again on a refusal)."""
    missing = None
    for folder in (dest, *dest.parents):
        if folder.exists():
            break
        missing = folder
    return missing


def _decompress_all(archive: zipfile.ZipFile, name: str, plan: list[tuple[zipfile.ZipInfo, Path]],
                    staging: Path, budget: _Budget) -> dict[int, Path]:
    """Every file member into ``staging`` (as ``<index>``); errors become :class:`ArchiveError`."""
    staged = {}
    for index, (info, _) in enumerate(plan):
        if info.is_dir():
            continue
        staged[index] = staging / str(index)
        try:
            _stream(archive, info, staged[index], budget)
        except RuntimeError as exc:  # pyzipper/zipfile: "Bad password for file"
            raise ArchiveError(f"wrong password for {name}; give the right one with --password "
                               "or FEDIMPUTE_PASSWORD_<JOBID>") from exc
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            maybe = " or the password is wrong" if info.flag_bits & 0x1 else ""
            raise ArchiveError(f"{name} is corrupt{maybe} ({exc}); download it again") from exc
        except NotImplementedError as exc:
            raise ArchiveError(f"{name} uses a compression fedimpute cannot read ({exc}); unpack it by hand "
                               "(e.g. `7z x`, with the job's password) into the job's results folder") from exc
    return staged


def _move_into_place(plan: list[tuple[zipfile.ZipInfo, Path]], staged: dict[int, Path]) -> list[Path]:
    """Rename the staged files to their targets (same file system: no copy)."""
    written = []
    for index, (info, target) in enumerate(plan):
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged[index], target)
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
