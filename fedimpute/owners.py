"""Whose job is it: the owner recorded for jobs submitted from this process.

The contract's rule, shared by the CLI, the Python API and the dashboard (where a signed-in
user's name replaces it): ``--owner``, else ``FEDIMPUTE_USER``, else the OS login name.
"""

from __future__ import annotations

import getpass
import os

__all__ = ["default_owner"]


def default_owner(owner: str | None = None) -> str:
    """``owner`` when given, else ``FEDIMPUTE_USER``, else the OS login name (``unknown`` without one)."""
    if owner:
        return owner
    if os.environ.get("FEDIMPUTE_USER"):
        return os.environ["FEDIMPUTE_USER"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
