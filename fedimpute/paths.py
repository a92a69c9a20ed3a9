"""Where fedimpute keeps its data: ``FEDIMPUTE_HOME`` (default ``~/.fedimpute``).

The home holds the DuckDB file, the fallback secrets file and downloaded results: genotype
data and service tokens.  So it is created with mode 0700, an existing home others can read is
warned about (once per process), a server refuses one others can write
(:func:`check_home_private`), and files with secrets are written through :func:`write_private`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
import threading
from pathlib import Path

from fedimpute.exceptions import UsageError

__all__ = ["DB_FILENAME", "check_home_private", "home_dir", "results_dir", "write_private"]

log = logging.getLogger(__name__)

DB_FILENAME = "fedimpute.duckdb"

_warned: set[Path] = set()
_warned_lock = threading.Lock()


def home_dir(home: str | os.PathLike[str] | None = None) -> Path:
    """Resolve and create the data folder (argument, then ``FEDIMPUTE_HOME``, then ``~/.fedimpute``).

    A new home is made 0700; an existing one that other users can enter or read is used as it
    is (it may be shared on purpose) but logged as a warning once per process."""
    raw = home if home is not None else os.environ.get("FEDIMPUTE_HOME") or Path.home() / ".fedimpute"
    path = Path(raw).expanduser().resolve()
    try:
        path.mkdir(parents=True, mode=0o700)
    except FileExistsError:
        if not path.is_dir():
            raise UsageError(f"the fedimpute home {path} is a file, not a folder; point FEDIMPUTE_HOME at a "
                             "folder") from None
        _warn_if_open(path)
    else:
        path.chmod(0o700)  # exactly 0700, whatever the umask took away
    return path


def _warn_if_open(path: Path) -> None:
    if path in _warned:
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if not mode & 0o077:
        return
    with _warned_lock:
        if path in _warned:
            return
        _warned.add(path)
    log.warning("the fedimpute home %s is open to other users (mode %o) although it holds genotype results and "
                "the job store; run `chmod 700 %s`", path, mode, path)


def check_home_private(path: str | os.PathLike[str]) -> None:
    """Refuse (UsageError) a home that another user could change: writable by its group or by
    others, or owned by someone else.  A server calls this before it starts, because whoever can
    write the home can swap the job store or the secrets file under it."""
    home = Path(path)
    try:
        info = home.stat()
    except FileNotFoundError:
        raise UsageError(f"the fedimpute home {home} does not exist; run any fedimpute command once to "
                         "create it, or point FEDIMPUTE_HOME at the right folder") from None
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"the fedimpute home {home} is not a folder; point FEDIMPUTE_HOME at a folder")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise UsageError(f"the fedimpute home {home} can be written by other users (mode {mode:o}), who could "
                         f"replace its job store or secrets; run `chmod 700 {home}` and start again")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise UsageError(f"the fedimpute home {home} belongs to another user (uid {info.st_uid}); run the "
                         "server as that user, or give it a home of its own (FEDIMPUTE_HOME)")


def write_private(path: str | os.PathLike[str], text: str | bytes) -> None:
    """Replace ``path`` with ``text``, readable by its owner only, all or nothing.

    The content goes to a new temporary file in the same folder, created exclusively (``O_EXCL``,
    never an existing file or link) with mode 0600, flushed to disk, then renamed over ``path``:
    readers see the old or the new file, never a half-written or group-readable one."""
    target = Path(path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), 0o600)  # exactly 0600, whatever the umask
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); where folders cannot be opened, skip it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def results_dir(home: Path, job_id: str) -> Path:
    """Default folder for one job's results: ``HOME/results/<job_id>/``."""
    return home / "results" / job_id
