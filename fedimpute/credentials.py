"""Tokens and result passwords: the OS keyring, environment overrides, or a 0600 file.

The services' terms are per person, so each user of a lab keeps a token of their own; a lab may
also keep one shared token.  Lookup order for a request made for a user:
``FEDIMPUTE_TOKEN_<NAME>`` (the contract's name rule; the CLI's override, ignored by a served
dashboard), then the user's own token, then the lab's shared one.  The secret store is the OS
keyring when a real backend exists; on a headless server without one it is
``FEDIMPUTE_HOME/secrets.json``, mode 0600, written through an exclusive 0600 temporary file.
Nothing here ever touches DuckDB, and every secret read or written is registered with
:mod:`fedimpute.redaction` so logs mask it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr

from fedimpute.exceptions import CredentialError, UsageError
from fedimpute.paths import home_dir, write_private
from fedimpute.redaction import register_secret

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["Credentials", "MissingTokenError", "TokenChoice", "TokenOrigin", "env_name", "password_env_name",
           "token_env_name"]

log = logging.getLogger(__name__)

SECRETS_FILENAME = "secrets.json"
_KEYRING_EDITS = threading.Lock()

#: Whose token a request sends: the environment's, the user's own, or the lab's shared one.
TokenOrigin = Literal["environment", "own", "shared"]


def env_name(prefix: str, name: str) -> str:
    """``prefix`` + ``name`` upper-cased with every character outside A-Z0-9 turned into ``_``."""
    return prefix + re.sub(r"[^A-Z0-9]", "_", name.upper())


def token_env_name(service: str) -> str:
    """>>> token_env_name("my-wes.1")
    'FEDIMPUTE_TOKEN_MY_WES_1'
    """
    return env_name("FEDIMPUTE_TOKEN_", service)


def password_env_name(job_id: str) -> str:
    """>>> password_env_name("fi-20260101-000000-abc123")
    'FEDIMPUTE_PASSWORD_FI_20260101_000000_ABC123'
    """
    return env_name("FEDIMPUTE_PASSWORD_", job_id)


def _token_key(service: str, user: str | None = None) -> str:
    """Where a token is kept: ``token/{service}`` is the lab's shared token (the only kind older
    versions kept, so their homes keep working), ``token/{service}/user/{user}`` a user's own."""
    return f"token/{service}/user/{user}" if user else f"token/{service}"


def _user_list(raw: str | None) -> list[str]:
    try:
        users = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        return []
    return sorted(u for u in users if isinstance(u, str)) if isinstance(users, list) else []


class _FileSecrets:
    """A JSON file readable by its owner only: the fallback where no keyring backend exists.

    Every change is read, modified and written under an exclusive lock file (two users saving
    their tokens from the dashboard at once must not lose one), through :func:`write_private`."""

    LEGACY_TMP = "secrets.tmp"  # what older versions wrote through: maybe 0644, maybe with tokens

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(f".{path.name}.lock")
        self._cache: tuple[tuple[int, int, int], dict[str, str]] | None = None
        self._remove_legacy_tmp()

    def _remove_legacy_tmp(self) -> None:
        """An older version wrote through ``secrets.tmp`` with the umask's mode and reused it; one left by a
        crash may hold tokens, readable by others.  It is never read: it is deleted."""
        stale = self.path.with_name(self.LEGACY_TMP)
        try:
            stale.unlink()
        except FileNotFoundError:
            return
        log.warning("removed %s, a temporary copy of the secrets left by an older fedimpute", stale)

    def _load(self) -> dict[str, str]:
        """The secrets (do not change the dict returned: it is cached until the file changes, so a monitor
        looking up each user's token every sweep reads the file once per change, not once per lookup)."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return {}
        mode = info.st_mode & 0o777
        if mode & 0o077:
            raise CredentialError(
                f"{self.path} is readable by other users (mode {mode:o}); run `chmod 600 {self.path}`"
            )
        key = (info.st_mtime_ns, info.st_size, info.st_ino)
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            data: dict[str, str] = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CredentialError(f"{self.path} is not valid JSON ({exc}); fix or delete it and log in again") from exc
        self._cache = (key, data)
        return data

    def _save(self, data: dict[str, str]) -> None:
        self._remove_legacy_tmp()
        write_private(self.path, json.dumps(data, indent=1, sort_keys=True))

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, str]]:
        """The secrets to change, written back when the block ends; other writers wait meanwhile."""
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            before = self._load()
            data = dict(before)
            yield data
            if data != before:
                self._save(data)
        finally:
            os.close(fd)  # closing releases the lock

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def set(self, key: str, value: str) -> None:
        with self._editing() as data:
            data[key] = value

    def delete(self, key: str) -> None:
        with self._editing() as data:
            data.pop(key, None)

    def update(self, key: str, change: Callable[[str | None], str | None]) -> None:
        """Replace the value of ``key`` by ``change(value)`` (None deletes it), with no writer in between."""
        with self._editing() as data:
            value = change(data.get(key))
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value


class _KeyringSecrets:
    def __init__(self, backend: KeyringBackend, service_name: str) -> None:
        self.backend, self.service_name = backend, service_name

    def get(self, key: str) -> str | None:
        return self.backend.get_password(self.service_name, key)

    def set(self, key: str, value: str) -> None:
        self.backend.set_password(self.service_name, key, value)

    def delete(self, key: str) -> None:
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            self.backend.delete_password(self.service_name, key)

    def update(self, key: str, change: Callable[[str | None], str | None]) -> None:
        """As :meth:`_FileSecrets.update`; a keyring has no transactions, so writers of this process wait
        for each other (the keyring is one person's: other processes rarely write at the same moment)."""
        with _KEYRING_EDITS:
            value = change(self.get(key))
            if value is None:
                self.delete(key)
            else:
                self.set(key, value)


def _usable_keyring() -> KeyringBackend | None:
    """The OS keyring backend, or None on machines that have none (headless Linux)."""
    if os.environ.get("FEDIMPUTE_SECRETS", "").lower() == "file":
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:  # pragma: no cover - keyring is a core dependency
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    if type(backend).__name__ == "ChainerBackend" and not getattr(backend, "backends", None):
        return None
    return backend


class MissingTokenError(CredentialError, UsageError):
    """A job's owner has no token for its service and the lab has no shared one (exit 2: nothing was sent)."""

    def __init__(self, service: str, user: str | None) -> None:
        if user:
            super().__init__(f"no token for {user} on {service}: set it in Settings or "
                             f"`fedimpute login {service} --user {user}`")
        else:
            super().__init__(f"no token for {service}: run `fedimpute login {service}` (or `fedimpute login "
                             f"{service} --shared` for the whole lab)")
        self.service, self.user = service, user


@dataclass(frozen=True)
class TokenChoice:
    """A token and where it came from: ``environment``, ``own`` (the user's) or ``shared`` (the lab's)."""

    value: SecretStr
    origin: TokenOrigin


class Credentials:
    """Service tokens and per-job result passwords for one ``FEDIMPUTE_HOME``.

    ``environment=False`` ignores ``FEDIMPUTE_TOKEN_<NAME>``: a served dashboard acts for many users,
    and a token in the server's environment must not become every user's token."""

    def __init__(self, home: str | Path | None = None, *, environment: bool = True) -> None:
        self.home = home_dir(home)
        self.environment = environment
        backend = _usable_keyring()
        if backend is None:
            self._secrets: _FileSecrets | _KeyringSecrets = _FileSecrets(self.home / SECRETS_FILENAME)
            self.backend_name = f"file {self.home / SECRETS_FILENAME}"
        else:
            default_home = Path("~/.fedimpute").expanduser().resolve()
            name = "fedimpute" if self.home == default_home else f"fedimpute:{self.home}"
            self._secrets = _KeyringSecrets(backend, name)
            self.backend_name = f"keyring {type(backend).__name__}"

    def __repr__(self) -> str:
        return f"Credentials(backend={self.backend_name!r})"

    # tokens ---------------------------------------------------------------------------

    def choose_token(self, service: str, user: str | None = None) -> TokenChoice | None:
        """The token a request for ``user`` (None: nobody in particular) sends to ``service``:
        ``FEDIMPUTE_TOKEN_<NAME>`` (when this object reads the environment), else the user's own,
        else the lab's shared one."""
        if self.environment and (value := os.environ.get(token_env_name(service))):
            origin: TokenOrigin = "environment"
        elif user and (value := self._secrets.get(_token_key(service, user)) or ""):
            origin = "own"
        elif value := self._secrets.get(_token_key(service)) or "":
            origin = "shared"
        else:
            return None
        register_secret(value)
        return TokenChoice(SecretStr(value), origin)

    def token(self, service: str, user: str | None = None) -> SecretStr | None:
        """The token for ``service`` as :meth:`choose_token` picks it, if any."""
        choice = self.choose_token(service, user)
        return choice.value if choice else None

    def require_token(self, service: str, user: str | None) -> SecretStr:
        """:meth:`token`, or a :class:`MissingTokenError` that tells ``user`` how to set one."""
        token = self.token(service, user)
        if token is None:
            raise MissingTokenError(service, user)
        return token

    def token_owner(self, service: str, user: str | None = None) -> TokenOrigin | None:
        """Whose token :meth:`token` gives: ``environment``, ``own``, ``shared``, or None (no token)."""
        choice = self.choose_token(service, user)
        return choice.origin if choice else None

    def token_source(self, service: str, user: str | None = None) -> str | None:
        """Where :meth:`token` finds it, for people to read (never the token)."""
        origin = self.token_owner(service, user)
        if origin == "environment":
            return f"environment ({token_env_name(service)})"
        if origin == "own":
            return f"{user}'s own token in the {self.backend_name}"
        if origin == "shared":
            return f"the lab's shared token in the {self.backend_name}"
        return None

    def has_own_token(self, service: str, user: str) -> bool:
        """Whether ``user`` stored a token of their own (the environment and the shared token aside)."""
        return bool(self._secrets.get(_token_key(service, user)))

    def secret(self, key: str) -> str | None:
        """Another kind of secret kept in the same store under ``key`` (a user's notification channels)."""
        return self._secrets.get(key)

    def update_secret(self, key: str, change: Callable[[str | None], str | None]) -> None:
        """Replace the secret ``key`` with ``change(old)`` atomically (None deletes it)."""
        self._secrets.update(key, change)

    def set_token(self, service: str, token: SecretStr | str, *, user: str | None = None) -> None:
        """Keep ``user``'s own token for ``service`` (``user=None``: the lab's shared token)."""
        value = token.get_secret_value() if isinstance(token, SecretStr) else token
        value = value.strip()
        if not value:
            raise CredentialError("the token is empty; paste the API token from the service's profile page")
        register_secret(value)
        self._secrets.set(_token_key(service, user), value)
        if user:
            self._index(service, add=user)
        log.info("stored the token for service %s (%s) in the %s", service, f"user {user}" if user else "shared",
                 self.backend_name)

    def delete_token(self, service: str, *, user: str | None = None) -> None:
        """Forget ``user``'s own token (``user=None``: the shared one); the others stay."""
        self._secrets.delete(_token_key(service, user))
        if user:
            self._index(service, remove=user)

    def token_users(self, service: str) -> list[str]:
        """Users with a token of their own for ``service`` (kept in the secret store, since a keyring
        cannot list its entries)."""
        return _user_list(self._secrets.get(f"token-users/{service}"))

    def stored_tokens(self, service: str) -> list[SecretStr]:
        """Every token kept for ``service``: the shared one and each user's (to mask them in reports)."""
        values = [self._secrets.get(_token_key(service))]
        values += [self._secrets.get(_token_key(service, u)) for u in self.token_users(service)]
        return [SecretStr(v) for v in dict.fromkeys(values) if v]

    def _index(self, service: str, *, add: str | None = None, remove: str | None = None) -> None:
        def change(raw: str | None) -> str | None:
            users = set(_user_list(raw)) | ({add} if add else set())
            users.discard(remove or "")
            return json.dumps(sorted(users)) if users else None

        self._secrets.update(f"token-users/{service}", change)

    # result passwords -----------------------------------------------------------------

    def password(self, job_id: str) -> SecretStr | None:
        value = os.environ.get(password_env_name(job_id)) or self._secrets.get(f"password/{job_id}")
        register_secret(value)
        return SecretStr(value) if value else None

    def set_password(self, job_id: str, password: SecretStr | str) -> None:
        value = password.get_secret_value() if isinstance(password, SecretStr) else password
        register_secret(value)
        self._secrets.set(f"password/{job_id}", value)
