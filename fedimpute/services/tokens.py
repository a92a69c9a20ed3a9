"""The three answers a token check can give, shared by the adapters that send bearer tokens.

A check either saw the service accept the token (valid), saw it refuse the token with HTTP 401
or 403 (not valid; the message names the status code), or could not ask at all: a network
failure, maintenance, or a URL that is not the service.  The last one is *unknown*
(``valid=None``) with the reason, never "invalid": a lab must not throw a good token away
because its Wi-Fi dropped.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from fedimpute.exceptions import ServiceError
from fedimpute.services.base import TokenInfo

__all__ = ["REFUSED_STATUS", "jwt_claims", "jwt_expiry", "jwt_user", "token_check_failed"]

#: HTTP status codes that mean "this token is not accepted" (as opposed to "could not tell"), and why.
REFUSED_STATUS = {401: "the token is missing, invalid or expired",
                  403: "the token is not allowed in (revoked, replaced, or without access to this service)"}


def jwt_claims(token: SecretStr | None) -> dict[str, Any]:
    """The unverified claims of a JWT access token; {} for anything that is not a JWT.

    Only read after the service accepted the token, to say whose it is and when it expires.
    """
    parts = token.get_secret_value().split(".") if token else []
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def jwt_user(token: SecretStr | None) -> str | None:
    """Whose token it is, from its JWT claims (``preferred_username``, ``email``, then ``sub``)."""
    claims = jwt_claims(token)
    return next((str(claims[k]) for k in ("preferred_username", "email", "sub") if claims.get(k)), None)


def jwt_expiry(token: SecretStr | None) -> datetime | None:
    """When the token expires, from its JWT ``exp`` claim; None when it has none."""
    exp = jwt_claims(token).get("exp")
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None


def token_check_failed(exc: ServiceError) -> TokenInfo:
    """A failed token check: refused (401/403, naming the status) or unknown (anything else, with why)."""
    if exc.status_code in REFUSED_STATUS:
        return TokenInfo(valid=False, message=f"HTTP {exc.status_code}: {REFUSED_STATUS[exc.status_code]}")
    status = f" (HTTP {exc.status_code})" if exc.status_code else ""
    return TokenInfo(valid=None, message=f"could not check the token{status}: {exc.detail}")
