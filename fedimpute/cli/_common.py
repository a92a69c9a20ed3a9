"""Shared plumbing for CLI commands: the store, output, and the default owner."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from fedimpute.credentials import Credentials
from fedimpute.owners import default_owner
from fedimpute.store import Store

__all__ = ["credentials", "default_owner", "emit_json", "err", "out", "store"]

#: Human output goes to stdout; logs, warnings and progress bars go to stderr.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def store() -> Store:
    return Store()


def credentials() -> Credentials:
    return Credentials()


def emit_json(document: Any) -> None:
    """Write exactly one JSON document to stdout and nothing else."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    sys.stdout.flush()
