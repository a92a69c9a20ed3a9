"""Shared plumbing for CLI commands: the store, output, and the default owner."""

from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Any

from rich.console import Console

from fedimpute.credentials import Credentials
from fedimpute.store import Store

__all__ = ["credentials", "default_owner", "emit_json", "err", "out", "store"]

#: Human output goes to stdout; logs, warnings and progress bars go to stderr.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def store() -> Store:
    return Store()


def credentials() -> Credentials:
    return Credentials()


def default_owner(owner: str | None = None) -> str:
    """The contract's owner rule: ``--owner``, else ``FEDIMPUTE_USER``, else the OS login name."""
    if owner:
        return owner
    if os.environ.get("FEDIMPUTE_USER"):
        return os.environ["FEDIMPUTE_USER"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def emit_json(document: Any) -> None:
    """Write exactly one JSON document to stdout and nothing else."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    sys.stdout.flush()
