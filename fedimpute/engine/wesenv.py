"""The WES server's own virtual environment (sapporo + cwltool, pinned).

sapporo pins its own FastAPI and pydantic versions, so it lives in a separate venv,
shared by every FEDIMPUTE_HOME of the user (it holds code, not data):
``$FEDIMPUTE_WES_VENV``, else ``$XDG_CACHE_HOME/fedimpute/wes-venv-<versions>``.
``python -m fedimpute.engine.wesenv`` creates it (the set-up script does).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from fedimpute.engine.pinned_venv import ensure_pinned_venv

__all__ = ["SAPPORO_VERSION", "CWLTOOL_VERSION", "ensure_wes_venv", "wes_venv_path"]

SAPPORO_VERSION = "2.4.0"
CWLTOOL_VERSION = "3.3.20260925135507"
_MARKER = ".fedimpute-wes-venv"


def wes_venv_path() -> Path:
    if os.environ.get("FEDIMPUTE_WES_VENV"):
        return Path(os.environ["FEDIMPUTE_WES_VENV"]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fedimpute" / f"wes-venv-sapporo-{SAPPORO_VERSION}"


def ensure_wes_venv(*, quiet: bool = True) -> Path:
    """Create (once) the venv with the pinned sapporo and cwltool; return its path."""
    return ensure_pinned_venv(wes_venv_path(), [f"sapporo=={SAPPORO_VERSION}", f"cwltool=={CWLTOOL_VERSION}"],
                              marker=_MARKER, needs=["sapporo", "cwltool"], what="the WES server (sapporo, cwltool)",
                              module="fedimpute.engine.wesenv", env_var="FEDIMPUTE_WES_VENV", quiet=quiet)


if __name__ == "__main__":
    print(ensure_wes_venv(quiet=False))
    sys.exit(0)
