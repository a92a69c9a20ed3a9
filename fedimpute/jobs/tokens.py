"""Which token a job's requests send, and the monitor's groups of jobs by service and token.

Each user of a lab submits under their own account (the services' terms are per person), and a
service lists only the jobs of the account whose token asks.  So the monitor lists and polls
once per service *and token*: each group holds the jobs whose owners' requests send the same
token (their own, or the lab's shared one).  Tokens are told apart by a digest kept in memory
only; a job whose owner has no token (and the lab none) forms a group of its own that is
reported, never sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from fedimpute.credentials import Credentials, MissingTokenError, TokenOrigin

__all__ = ["GroupKey", "TokenGroup", "group_by_token", "group_key"]

#: (service, which token): a digest of the token, ``none:<owner>`` for an owner without one,
#: or ``""`` where the protocol needs no token and none is kept.
GroupKey = tuple[str, str]


@dataclass
class TokenGroup:
    """The due jobs of one service whose requests send one token."""

    service: str
    token: SecretStr | None
    origin: TokenOrigin | None
    owners: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    missing: MissingTokenError | None = None  # no token at all, where the protocol needs one

    @property
    def whose(self) -> str:
        """Whose token it is, for messages: ``alice's token``, ``the shared token`` ..."""
        if self.origin == "own":
            return f"{', '.join(self.owners)}'s token"
        return "the token from the environment" if self.origin == "environment" else "the shared token"


def _digest(token: SecretStr) -> str:
    return hashlib.sha256(token.get_secret_value().encode()).hexdigest()[:16]


def group_key(credentials: Credentials, service: str, owner: str | None) -> GroupKey:
    """The group a job of ``owner`` on ``service`` falls in now (it changes with the owner's token)."""
    token = credentials.token(service, owner)
    return (service, _digest(token)) if token is not None else (service, f"none:{owner}")


def group_by_token(rows: list[dict[str, Any]], credentials: Credentials,
                   needs_token: Callable[[str], bool]) -> dict[GroupKey, TokenGroup]:
    """``rows`` (each with ``service`` and ``owner``) by service and by the token their owner's
    requests send; ``needs_token(service)`` says whether a job without one is stuck."""
    chosen: dict[tuple[str, str], GroupKey] = {}
    groups: dict[GroupKey, TokenGroup] = {}
    for row in rows:
        service, owner = row["service"], row["owner"]
        key = chosen.get((service, owner))
        if key is None:
            choice = credentials.choose_token(service, owner)
            if choice is not None:
                key = (service, _digest(choice.value))
                group = TokenGroup(service, choice.value, choice.origin)
            elif needs_token(service):
                key = (service, f"none:{owner}")
                group = TokenGroup(service, None, None, missing=MissingTokenError(service, owner))
            else:
                key, group = (service, ""), TokenGroup(service, None, None)
            groups.setdefault(key, group)
            chosen[(service, owner)] = key
        group = groups[key]
        if owner not in group.owners:
            group.owners.append(owner)
        group.rows.append(row)
    return groups
