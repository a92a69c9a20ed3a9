"""The server's cookie secret: ``FEDIMPUTE_COOKIE_SECRET``, else ``HOME/cookie_secret`` (mode 600).

Never a command-line flag: every local user can read another process's arguments.  The first
``fedimpute serve`` writes 32 random bytes (base64, owner-only); a secret shorter than 32
characters, or a file others can read, stops the server.  Bokeh's session tokens are signed with
a key derived from it, so one secret protects both and they still differ.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from fedimpute.exceptions import UsageError
from fedimpute.paths import home_dir, write_private

__all__ = ["COOKIE_SECRET_ENV", "COOKIE_SECRET_FILE", "cookie_secret", "session_key"]

COOKIE_SECRET_ENV = "FEDIMPUTE_COOKIE_SECRET"
COOKIE_SECRET_FILE = "cookie_secret"
MIN_LENGTH = 32


def _checked(secret: str, where: str) -> str:
    secret = secret.strip()
    if len(secret) < MIN_LENGTH:
        raise UsageError(f"the cookie secret in {where} is too short ({len(secret)} characters; at least "
                         f"{MIN_LENGTH}): make one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
    return secret


def cookie_secret(home: Path, *, create: bool) -> str:
    """The secret, from the environment or the home's file (created when ``create``)."""
    if os.environ.get(COOKIE_SECRET_ENV):
        return _checked(os.environ[COOKIE_SECRET_ENV], COOKIE_SECRET_ENV)
    path = home_dir(home) / COOKIE_SECRET_FILE
    try:
        info = path.lstat()
    except FileNotFoundError:
        if not create:
            raise UsageError(f"no cookie secret: set {COOKIE_SECRET_ENV} (32+ random characters) or run "
                             f"`fedimpute serve` once, which writes {path} (mode 600)") from None
        write_private(path, secrets.token_urlsafe(32) + "\n")
        info = path.lstat()
    if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077 or info.st_uid != os.getuid():
        raise UsageError(f"{path} must be a regular file of yours with mode 600 (it is "
                         f"{stat.filemode(info.st_mode)}): run `chmod 600 {path}`, or delete it to make a new one")
    return _checked(path.read_text(encoding="utf-8"), str(path))


def session_key(secret: str) -> bytes:
    """The key that signs Bokeh's session ids and tokens (derived, so it never equals the cookie secret)."""
    return hmac.new(secret.encode(), b"fedimpute bokeh sessions", hashlib.sha256).hexdigest().encode()
