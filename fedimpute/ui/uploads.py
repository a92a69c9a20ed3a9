"""The files a submission form may send: browser uploads staged on disk, and an admin's data folders.

Browser uploads arrive in chunks (:class:`~fedimpute.ui.components.uploader.StreamingDropper`)
and each chunk is written as it arrives to ``HOME/uploads/<user>/<batch>/`` (folders 0700, files
0600), so an upload is never held whole in memory and each file is written once (a hidden
``.part`` file, renamed when its last chunk is in).  The limits (:class:`UploadLimits`: per file,
per submission, per user; files and bytes) are checked by the server before every chunk is
written: the browser is not trusted with them.  A refused upload keeps nothing.

A batch is released after its jobs are submitted and when the page's session ends: deleted at
once unless a pending job still needs its files (a job waiting for a free slot is sent later from
them), else handed over (a marker the monitor's upkeep reads: :mod:`fedimpute.upkeep`), which
also removes anything a day old.

With ``serve --data-root DIR`` each user may also pick files of ``DIR/<user>`` (:class:`DataFolder`):
relative paths only, never ``..``, and symlinks whose target lies outside the folder are refused,
when listed, when picked and again at submission (:meth:`InputFiles.problem`).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from fedimpute.exceptions import FedImputeError, UsageError
from fedimpute.ui.settings import MIB, UploadLimits
from fedimpute.upkeep import HANDED_OVER, batches_in_use, staging_dir

if TYPE_CHECKING:
    from fedimpute.store import Store

__all__ = ["DataFolder", "InputFiles", "UploadBatch", "UploadRefusedError", "safe_name"]

LISTING_LIMIT = 5000  # files a data-folder listing offers at most
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class UploadRefusedError(UsageError):
    """An upload over a limit: the message names the file, the limit and its setting."""


def safe_name(text: str) -> str:
    """A file or folder name with nothing but letters, digits and ``._-`` (never hidden, never empty)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text).strip("._") or "x"


def _user_lock(user: str) -> threading.Lock:
    """One lock per user and process: two pages of one user cannot both pass a check, then both write."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(user, threading.Lock())


def _usage(folder: Path) -> tuple[int, int]:
    """(files, bytes) below ``folder`` (batches are flat; markers do not count)."""
    files = size = 0
    if not folder.is_dir():
        return 0, 0
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            more = _usage(Path(entry.path))
            files, size = files + more[0], size + more[1]
        elif entry.name != HANDED_OVER:
            files, size = files + 1, size + entry.stat(follow_symlinks=False).st_size
    return files, size


def _mib(n: int) -> str:
    return f"{n / MIB:,.0f} MiB" if n >= MIB else f"{n:,} bytes"


@dataclass
class _Incoming:
    target: Path
    part: Path
    handle: BinaryIO
    written: int = 0


class UploadBatch:
    """One form's uploads in ``HOME/uploads/<user>/<batch>/``, written chunk by chunk, within limits."""

    def __init__(self, home: Path, user: str, limits: UploadLimits) -> None:
        self.user_dir = staging_dir(home) / safe_name(user)
        self.folder = self.user_dir / secrets.token_hex(8)
        self.limits = limits
        self._lock = _user_lock(str(self.user_dir))
        self._incoming: dict[str, _Incoming] = {}

    @property
    def files(self) -> list[Path]:
        """The completed uploads (sorted by name)."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if not p.name.startswith("."))

    @property
    def in_flight(self) -> list[str]:
        return list(self._incoming)

    def holds(self, path: Path) -> bool:
        """Whether ``path`` is a completed upload of this batch (a regular file, not a link)."""
        return (path.parent.resolve() == self.folder.resolve() and not path.name.startswith(".")
                and path.is_file() and not path.is_symlink())

    def receive(self, name: str, index: int, total: int, data: bytes, chunk_size: int) -> Path | None:
        """Chunk ``index`` (1-based) of ``total`` of the browser's file ``name``; the file's path once
        its last chunk is written.  The rest of a refused (or removed) file is ignored: the browser does
        not wait for the server between chunks, so some may still arrive."""
        if index == 1:
            # the browser cuts ceil((size + 1) / chunk_size) chunks: the size is at least this
            self._start(name, len(data) if total == 1 else (total - 1) * chunk_size)
        elif name not in self._incoming:  # refused, removed or cleared meanwhile
            return None
        self._write(name, data)
        return self._finish(name) if index >= total else None

    def write_whole(self, name: str, data: bytes) -> Path:
        """A whole file at once (notebooks and tests); the same limits."""
        path = self.receive(name, 1, 1, data, max(len(data), 1))
        assert path is not None
        return path

    def _start(self, name: str, least: int) -> None:
        self.abort(name)
        with self._lock:
            self._check(name, least, new_file=True)
            for folder in (self.user_dir.parent, self.user_dir, self.folder):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            target = self.folder / safe_name(PurePosixPath(name.replace("\\", "/")).name)
            part = self.folder / f".{target.name}.{secrets.token_hex(4)}.part"
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._incoming[name] = _Incoming(target, part, os.fdopen(fd, "wb"))

    def _write(self, name: str, data: bytes) -> None:
        incoming = self._incoming[name]
        with self._lock:
            try:
                self._check(name, len(data), so_far=incoming.written)
            except UploadRefusedError:
                self.abort(name)
                raise
            incoming.handle.write(data)
            incoming.written += len(data)

    def _finish(self, name: str) -> Path:
        incoming = self._incoming.pop(name)
        incoming.handle.close()
        os.replace(incoming.part, incoming.target)  # a second upload of one name replaces the first
        return incoming.target

    def _check(self, name: str, extra: int, *, so_far: int = 0, new_file: bool = False) -> None:
        """Refuse ``extra`` more bytes (and a new file) past any limit; the message names the limit."""
        lim, new = self.limits, int(new_file)
        if so_far + extra > lim.file_bytes:
            self._refuse(name, f"it is larger than the limit per file, {_mib(lim.file_bytes)}",
                         "FEDIMPUTE_MAX_UPLOAD_MB")
        files, size = _usage(self.folder)
        if files + new > lim.submission_files:
            self._refuse(name, f"a submission takes at most {lim.submission_files} uploaded files",
                         "FEDIMPUTE_MAX_SUBMISSION_FILES")
        if size + extra > lim.submission_bytes:
            self._refuse(name, f"a submission's uploads may take at most {_mib(lim.submission_bytes)}",
                         "FEDIMPUTE_MAX_SUBMISSION_MB")
        files, size = _usage(self.user_dir)
        if files + new > lim.user_files:
            self._refuse(name, f"one user keeps at most {lim.user_files} uploaded files at once (these go once "
                         "their jobs are submitted)", "FEDIMPUTE_MAX_USER_UPLOAD_FILES")
        if size + extra > lim.user_bytes:
            self._refuse(name, f"one user's uploads may take at most {_mib(lim.user_bytes)} at once (they go "
                         "once their jobs are submitted)", "FEDIMPUTE_MAX_USER_UPLOAD_MB")

    @staticmethod
    def _refuse(name: str, why: str, setting: str) -> None:
        raise UploadRefusedError(f"upload of {name} refused: {why} (the server's {setting}); nothing of it "
                                 "was kept. Ask the server's admin to raise the limit, or split the file by "
                                 "chromosome")

    def abort(self, name: str) -> None:
        """Drop the unfinished upload ``name`` (its partial file goes)."""
        incoming = self._incoming.pop(name, None)
        if incoming is not None:
            incoming.handle.close()
            incoming.part.unlink(missing_ok=True)
        self._remove_if_empty()

    def remove(self, name: str) -> Path | None:
        """Delete the upload ``name`` (finished or not); the path it had, if finished."""
        self.abort(name)
        target = self.folder / safe_name(PurePosixPath(name.replace("\\", "/")).name)
        if target.is_file():
            target.unlink()
            self._remove_if_empty()
            return target
        return None

    def _remove_if_empty(self) -> None:
        if self.folder.is_dir() and not any(self.folder.iterdir()):
            self.folder.rmdir()

    def discard(self) -> None:
        """Delete the whole batch (unfinished uploads too)."""
        for name in list(self._incoming):
            self.abort(name)
        shutil.rmtree(self.folder, ignore_errors=True)

    def hand_over(self) -> None:
        """Leave the batch to its pending jobs: the monitor deletes it once none of them needs it."""
        if self.folder.is_dir():
            (self.folder / HANDED_OVER).touch(mode=0o600)


class DataFolder:
    """``ROOT/<user>``: files already on the server that ``user`` may submit, by relative path."""

    def __init__(self, root: Path, user: str) -> None:
        self.folder = Path(root) / user if user and safe_name(user) == user else None

    @property
    def available(self) -> bool:
        return self.folder is not None and self.folder.is_dir()

    def resolve(self, relative: str) -> Path:
        """The file ``relative`` names, resolved; UsageError for a path that leaves the folder."""
        if not self.available or self.folder is None:
            raise UsageError("you have no data folder on this server: ask its admin (serve --data-root)")
        rel = PurePosixPath(relative.replace("\\", "/"))
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise UsageError(f"{relative!r} is not a path inside your data folder: give it relative to the "
                             "folder, without '..'")
        base = self.folder.resolve(strict=True)
        try:
            target = (self.folder / rel).resolve(strict=True)
        except (OSError, RuntimeError):
            raise UsageError(f"{relative} is not in your data folder (any more)") from None
        if not target.is_relative_to(base):
            raise UsageError(f"{relative} points outside your data folder (a symbolic link?): copy the file "
                             "into the folder instead")
        if not target.is_file():
            raise UsageError(f"{relative} is not a regular file")
        return target

    def contains(self, path: Path) -> bool:
        """Whether ``path`` is (still) a file inside the folder once every link is followed."""
        if not self.available or self.folder is None:
            return False
        try:
            return Path(path).resolve(strict=True).is_relative_to(self.folder.resolve()) and Path(path).is_file()
        except (OSError, RuntimeError):
            return False

    def listing(self, limit: int = LISTING_LIMIT) -> list[str]:
        """Relative paths of the files that :meth:`resolve` accepts (hidden ones and links out left out)."""
        if not self.available or self.folder is None:
            return []
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.folder):  # symlinked folders are not entered
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(f for f in filenames if not f.startswith(".")):
                relative = (Path(dirpath) / name).relative_to(self.folder).as_posix()
                try:
                    self.resolve(relative)
                except UsageError:
                    continue
                found.append(relative)
                if len(found) >= limit:
                    return found
        return found


class InputFiles:
    """What one form may submit: its own uploads (a batch, new after each hand-over) and a data folder."""

    def __init__(self, home: Path, user: str, limits: UploadLimits, data_root: Path | None) -> None:
        self.home, self.user, self.limits = Path(home), user, limits
        self.data = DataFolder(data_root, user) if data_root else None
        self.batch = UploadBatch(self.home, user, limits)

    def problem(self, path: Path) -> str | None:
        """Why ``path`` may not be submitted from this form (None: it may)."""
        if self.batch.holds(Path(path)) or (self.data is not None and self.data.contains(Path(path))):
            return None
        return (f"{Path(path).name} is neither one of this form's uploads nor a file of your data folder "
                "(it may have been removed after a day): add it again")

    def release(self, in_use: set[Path] | None) -> None:
        """After a submission or at the session's end: delete the batch, or hand it over to the pending
        jobs that need it (``in_use``: batch folders of pending jobs; None: not known, so hand over);
        later uploads start a new batch."""
        if in_use is None or self.batch.folder.resolve() in in_use:
            self.batch.hand_over()
        else:
            self.batch.discard()
        self.batch = UploadBatch(self.home, self.user, self.limits)

    def release_checked(self, store: Store, *, sending: bool = False) -> None:
        """:meth:`release` with the pending jobs read from ``store`` (a busy store, or a submission
        still ``sending`` the files, leaves the batch to the monitor)."""
        in_use = None
        if not sending:
            try:
                in_use = batches_in_use(store)
            except FedImputeError:
                in_use = None
        self.release(in_use)
