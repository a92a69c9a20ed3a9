"""Toil's own virtual environment (``toil[cwl]``, pinned), beside the WES server's.

Toil pins its own cwltool and many cloud libraries, so it gets a venv of its own rather
than sharing sapporo's. Like the WES venv it holds code, not data, and is shared by every
FEDIMPUTE_HOME of the user: ``$FEDIMPUTE_TOIL_VENV``, else
``$XDG_CACHE_HOME/fedimpute/toil-venv-<version>``.  Slurm jobs start Toil's workers as
``_toil_worker``, so the run script puts this venv's ``bin/`` first on ``PATH``.
``python -m fedimpute.engine.toilenv`` creates it (the set-up script does).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from fedimpute.engine.pinned_venv import ensure_pinned_venv

__all__ = ["TOIL_VERSION", "ensure_toil_venv", "toil_venv_path"]

TOIL_VERSION = "9.6.0"
_MARKER = ".fedimpute-toil-venv"


def toil_venv_path() -> Path:
    if os.environ.get("FEDIMPUTE_TOIL_VENV"):
        return Path(os.environ["FEDIMPUTE_TOIL_VENV"]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fedimpute" / f"toil-venv-{TOIL_VERSION}"


def ensure_toil_venv(*, quiet: bool = True) -> Path:
    """Create (once) the venv with the pinned Toil and its CWL runner; return its path."""
    return ensure_pinned_venv(toil_venv_path(), [f"toil[cwl]=={TOIL_VERSION}"], marker=_MARKER,
                              needs=["toil-cwl-runner", "_toil_worker"], what="Toil",
                              module="fedimpute.engine.toilenv", env_var="FEDIMPUTE_TOIL_VENV", quiet=quiet)


if __name__ == "__main__":
    print(ensure_toil_venv(quiet=False))
    sys.exit(0)
