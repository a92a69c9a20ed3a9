"""Bearer tokens of the engine as a federated node: one per partner site, and the home's own.

A token is 32 random bytes (URL-safe text), shown once when made; the home keeps only its
SHA-256 in ``FEDIMPUTE_HOME/engine/tokens.json`` (0600, rewritten whole under a lock).  A fast
hash is the right one here: unlike a password, a token has 256 bits of entropy, so there is
nothing to guess offline, and the gateway checks it on every request.

The home's own fedimpute reaches the engine with the ``owner`` token, made on first use and
kept in the secret store as the lab-wide token of service ``local`` (never in DuckDB).  The
owner sees every run; a partner sees only the runs its token made.  While no partner token
exists the engine needs no token at all (a loopback-only engine, as before).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedimpute.exceptions import UsageError
from fedimpute.models import utcnow
from fedimpute.paths import home_dir, write_private

__all__ = ["OWNER", "Identity", "NodeTokens", "token_hash"]

#: The reserved name of the home's own token (a partner cannot take it).
OWNER = "owner"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Identity:
    """Who a request's token belongs to."""

    name: str

    @property
    def is_owner(self) -> bool:
        return self.name == OWNER


class NodeTokens:
    """The token file of one home's engine."""

    def __init__(self, home: Path | None = None) -> None:
        self.folder = home_dir(home) / "engine"
        self.path = self.folder / "tokens.json"
        self._lock = self.folder / ".tokens.lock"

    # -- reading --------------------------------------------------------------------------------

    def _entries(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"cannot read the engine's token file {self.path} ({exc}); restore it from a backup "
                             "or delete it and add the partner tokens again") from exc
        return dict(data.get("tokens") or {})

    def list(self) -> list[dict[str, Any]]:
        """Partners' tokens, without hashes: ``[{name, created_at}]`` (the owner's is not listed)."""
        return [{"name": name, "created_at": entry.get("created_at")}
                for name, entry in sorted(self._entries().items()) if name != OWNER]

    def has_partners(self) -> bool:
        return any(name != OWNER for name in self._entries())

    def identify(self, token: str) -> Identity | None:
        """The identity ``token`` belongs to, or None (compared in constant time per entry)."""
        digest = token_hash(token)
        found = None
        for name, entry in self._entries().items():
            if hmac.compare_digest(str(entry.get("sha256", "")), digest):
                found = Identity(name)
        return found

    def snapshot(self) -> tuple[dict[str, str], bool]:
        """``(hash -> name, any partner)``: what the gateway caches between changes of the file."""
        entries = self._entries()
        return ({str(e["sha256"]): name for name, e in entries.items() if e.get("sha256")},
                any(name != OWNER for name in entries))

    def mtime(self) -> float:
        try:
            return self.path.stat().st_mtime_ns / 1e9
        except FileNotFoundError:
            return 0.0

    # -- changing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, dict[str, Any]]]:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            entries = self._entries()
            yield entries
            write_private(self.path, json.dumps({"tokens": entries}, indent=1))
        finally:
            os.close(fd)

    def add(self, name: str) -> str:
        """A new partner token for ``name``; returned once, only its hash is kept."""
        if name == OWNER or not _NAME.match(name):
            raise UsageError(f"partner name {name!r} is not allowed: use letters, digits, '.', '_' or '-' (up to 64), "
                             f"and not {OWNER!r}")
        return self._put(name, refuse_existing=True)

    def _put(self, name: str, *, refuse_existing: bool) -> str:
        token = secrets.token_urlsafe(32)
        with self._editing() as entries:
            if refuse_existing and name in entries:
                raise UsageError(f"partner {name!r} already has a token; revoke it first with "
                                 f"`fedimpute engine tokens revoke {name}`")
            entries[name] = {"sha256": token_hash(token), "created_at": utcnow().isoformat()}
        return token

    def revoke(self, name: str) -> None:
        with self._editing() as entries:
            if name == OWNER or name not in entries:
                known = ", ".join(n for n in entries if n != OWNER) or "none"
                raise UsageError(f"no partner token named {name!r}; partners with tokens: {known}")
            del entries[name]

    def owner_token(self, stored: Callable[[], str | None], store: Callable[[str], None]) -> str:
        """The home's own token: the stored one while its hash is current, else a new one (kept with
        ``store``, its hash written here)."""
        current = stored()
        entry = self._entries().get(OWNER)
        if current and entry and hmac.compare_digest(str(entry.get("sha256")), token_hash(current)):
            return current
        token = self._put(OWNER, refuse_existing=False)
        store(token)
        return token
