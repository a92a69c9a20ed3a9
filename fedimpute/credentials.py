"""Tokens and result passwords: the OS keyring, environment overrides, or a 0600 file.

Lookup order for a service token: ``FEDIMPUTE_TOKEN_<NAME>`` (the contract's name
rule), then the secret store.  The secret store is the OS keyring when a real
backend exists; on a headless server without one it is ``FEDIMPUTE_HOME/secrets.json``,
created with mode 0600.  Nothing here ever touches DuckDB, and every secret read or
written is registered with :mod:`fedimpute.redaction` so logs mask it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from fedimpute.exceptions import CredentialError
from fedimpute.paths import home_dir
from fedimpute.redaction import register_secret

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["Credentials", "env_name", "password_env_name", "token_env_name"]

log = logging.getLogger(__name__)

SECRETS_FILENAME = "secrets.json"


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


class _FileSecrets:
    """A JSON file readable by its owner only: the fallback where no keyring backend exists."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        mode = self.path.stat().st_mode & 0o777
        if mode & 0o077:
            raise CredentialError(
                f"{self.path} is readable by other users (mode {mode:o}); run `chmod 600 {self.path}`"
            )
        try:
            data: dict[str, str] = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CredentialError(f"{self.path} is not valid JSON ({exc}); fix or delete it and log in again") from exc
        return data

    def _save(self, data: dict[str, str]) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def set(self, key: str, value: str) -> None:
        data = self._load()
        data[key] = value
        self._save(data)

    def delete(self, key: str) -> None:
        data = self._load()
        if data.pop(key, None) is not None:
            self._save(data)


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


class Credentials:
    """Service tokens and per-job result passwords for one ``FEDIMPUTE_HOME``."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = home_dir(home)
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

    def token(self, service: str) -> SecretStr | None:
        """The token for ``service`` from the environment or the secret store, if any."""
        value = os.environ.get(token_env_name(service)) or self._secrets.get(f"token/{service}")
        register_secret(value)
        return SecretStr(value) if value else None

    def token_source(self, service: str) -> str | None:
        if os.environ.get(token_env_name(service)):
            return f"environment ({token_env_name(service)})"
        if self._secrets.get(f"token/{service}"):
            return self.backend_name
        return None

    def set_token(self, service: str, token: SecretStr | str) -> None:
        value = token.get_secret_value() if isinstance(token, SecretStr) else token
        value = value.strip()
        if not value:
            raise CredentialError("the token is empty; paste the API token from the service's profile page")
        register_secret(value)
        self._secrets.set(f"token/{service}", value)
        log.info("stored the token for service %s in the %s", service, self.backend_name)

    def delete_token(self, service: str) -> None:
        self._secrets.delete(f"token/{service}")

    # result passwords -----------------------------------------------------------------

    def password(self, job_id: str) -> SecretStr | None:
        value = os.environ.get(password_env_name(job_id)) or self._secrets.get(f"password/{job_id}")
        register_secret(value)
        return SecretStr(value) if value else None

    def set_password(self, job_id: str, password: SecretStr | str) -> None:
        value = password.get_secret_value() if isinstance(password, SecretStr) else password
        register_secret(value)
        self._secrets.set(f"password/{job_id}", value)
