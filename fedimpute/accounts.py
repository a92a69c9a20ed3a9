"""The served dashboard's user accounts: ``HOME/users.json``, owner-only, hashes only.

A lab server's passwords are kept as argon2id hashes (``argon2-cffi``: memory-hard, salted,
compared in constant time), never in plaintext, never in DuckDB.  The file is small and read on
every sign-in and whenever the server checks an open session, so it is plain JSON, written
whole through an owner-only temporary file and a rename, under a lock file so that
``fedimpute users add`` and a running server's "last sign-in" stamp never lose each other's write.

Each account carries a ``stamp`` that changes with its password: a server ends every session
whose stamp no longer matches (password changed) or whose account is gone (user removed).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict

from fedimpute.exceptions import UsageError
from fedimpute.models import utcnow
from fedimpute.paths import home_dir, write_private

__all__ = ["USERS_FILENAME", "Account", "Accounts", "check_password", "check_user_name"]

USERS_FILENAME = "users.json"
Record = dict[str, Any]
MIN_PASSWORD = 10
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# argon2id at OWASP's first recommended setting (46 MiB, one pass, one lane): memory-hard enough to
# make guessing expensive, and about 0.05 s of CPU per sign-in, so twenty colleagues signing in at
# nine o'clock do not stall a two-core server.  Older hashes keep verifying (they carry their own
# parameters) and are re-hashed at the next sign-in.
_HASHER = PasswordHasher(time_cost=1, memory_cost=47_104, parallelism=1)
# Verified against when the name is unknown, so a wrong name costs what a wrong password does.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class Account(BaseModel):
    """What may be shown of an account (``users list``, the admin page): never the hash."""

    model_config = ConfigDict(frozen=True)

    name: str
    admin: bool = False
    created_at: datetime
    last_sign_in: datetime | None = None


def check_user_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise UsageError(f"{name!r} is not a valid user name: use 1-64 letters, digits and . _ @ - "
                         "(starting with a letter or digit)")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is too short: use at least {MIN_PASSWORD} characters "
                         "(a passphrase of several words is easiest to remember)")
    return password


class Accounts:
    """The accounts of one home.  Reads are cheap (re-parsed only when the file changed)."""

    def __init__(self, home: str | os.PathLike[str] | None = None) -> None:
        self.home = home_dir(home)
        self.path = self.home / USERS_FILENAME
        self._lock_path = self.home / ".users.lock"
        self._cache: tuple[tuple[int, int, int], dict[str, Record]] | None = None

    # -- reading ------------------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the home has any account (then the served dashboard requires sign-in)."""
        return bool(self._records())

    def check_private(self) -> None:
        """Fail closed on a users file others could read or replace, or one that cannot be read."""
        try:
            info = self.path.lstat()
        except FileNotFoundError:
            raise UsageError(f"no accounts in {self.home}: add one with "
                             "`fedimpute users add NAME --admin --password-stdin`") from None
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077 or info.st_uid != os.getuid():
            raise UsageError(f"{self.path} must be a regular file of yours with mode 600 "
                             f"(it is {stat.filemode(info.st_mode)}); run `chmod 600 {self.path}`")
        self._records()

    def list(self) -> list[Account]:
        return [self._account(name, record) for name, record in sorted(self._records().items())]

    def get(self, name: str) -> Account | None:
        record = self._records().get(name)
        return None if record is None else self._account(name, record)

    def stamp(self, name: str) -> str | None:
        """A value that changes whenever ``name``'s password does; None once the account is gone."""
        record = self._records().get(name)
        return None if record is None else str(record["stamp"])

    def verify(self, name: str, password: str) -> Account | None:
        """The account when ``password`` is right; None otherwise.  Slow on purpose (argon2):
        call it from a worker thread in a server."""
        record = self._records().get(name)
        try:
            _HASHER.verify(record["hash"] if record else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if record is None:  # pragma: no cover - the dummy's password is random
            return None
        if _HASHER.check_needs_rehash(record["hash"]):
            self._rehash(name, record["hash"], password)
        return self._account(name, record)

    def _rehash(self, name: str, old_hash: str, password: str) -> None:
        """The same password under the current parameters (the stamp stays: sessions go on)."""
        with self._editing() as records:
            if name in records and records[name]["hash"] == old_hash:
                records[name]["hash"] = _HASHER.hash(password)

    # -- writing ------------------------------------------------------------------------------

    def add(self, name: str, password: str, *, admin: bool = False) -> Account:
        check_user_name(name)
        check_password(password)
        with self._editing() as records:
            if name in records:
                raise UsageError(f"user {name} exists; change the password with `fedimpute users passwd {name} "
                                 "--password-stdin`")
            records[name] = {"hash": _HASHER.hash(password), "admin": admin, "created_at": utcnow().isoformat(),
                             "last_sign_in": None, "stamp": secrets.token_hex(8)}
            return self._account(name, records[name])

    def set_password(self, name: str, password: str) -> None:
        """New hash and new stamp: every session of ``name`` ends."""
        check_password(password)
        with self._editing() as records:
            record = self._known(records, name)
            record.update(hash=_HASHER.hash(password), stamp=secrets.token_hex(8))

    def set_admin(self, name: str, admin: bool) -> None:
        with self._editing() as records:
            self._known(records, name)["admin"] = admin

    def remove(self, name: str) -> None:
        with self._editing() as records:
            self._known(records, name)
            del records[name]

    def record_sign_in(self, name: str) -> None:
        with self._editing() as records:
            if name in records:
                records[name]["last_sign_in"] = utcnow().isoformat()

    # -- internals ----------------------------------------------------------------------------

    @staticmethod
    def _known(records: dict[str, Record], name: str) -> Record:
        if name not in records:
            raise UsageError(f"no user {name}; `fedimpute users list` shows the accounts")
        return records[name]

    @staticmethod
    def _account(name: str, record: Record) -> Account:
        return Account(name=name, admin=bool(record.get("admin")), created_at=record["created_at"],
                       last_sign_in=record.get("last_sign_in"))

    def _records(self) -> dict[str, Record]:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return {}
        key = (info.st_mtime_ns, info.st_size, info.st_ino)
        if self._cache is None or self._cache[0] != key:
            try:
                records = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise UsageError(f"cannot read the accounts in {self.path} ({exc}); restore it from a backup "
                                 "or move it away and add the users again") from None
            self._cache = (key, records)
        return self._cache[1]

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, Record]]:
        """Read, change and write the file under an exclusive lock (other processes wait)."""
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._cache = None
            records = {name: dict(record) for name, record in self._records().items()}
            yield records
            write_private(self.path, json.dumps(records, indent=1, sort_keys=True))
            self._cache = None
        finally:
            os.close(fd)  # closing releases the lock
