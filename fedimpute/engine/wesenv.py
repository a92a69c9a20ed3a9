"""The WES server's own virtual environment (sapporo + cwltool, pinned).

sapporo pins its own FastAPI and pydantic versions, so it lives in a separate venv,
shared by every FEDIMPUTE_HOME of the user (it holds code, not data):
``$FEDIMPUTE_WES_VENV``, else ``$XDG_CACHE_HOME/fedimpute/wes-venv-<versions>``.
``python -m fedimpute.engine.wesenv`` creates it (the set-up script does).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

from fedimpute.exceptions import FedImputeError

__all__ = ["SAPPORO_VERSION", "CWLTOOL_VERSION", "ensure_wes_venv", "wes_venv_path"]

SAPPORO_VERSION = "2.4.0"
CWLTOOL_VERSION = "3.3.20260925135507"
_MARKER = ".fedimpute-wes-venv"


def wes_venv_path() -> Path:
    if os.environ.get("FEDIMPUTE_WES_VENV"):
        return Path(os.environ["FEDIMPUTE_WES_VENV"]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fedimpute" / f"wes-venv-sapporo-{SAPPORO_VERSION}"


def _wanted() -> str:
    return f"sapporo=={SAPPORO_VERSION} cwltool=={CWLTOOL_VERSION}"


def ensure_wes_venv(*, quiet: bool = True) -> Path:
    """Create (once) the venv with the pinned sapporo and cwltool; return its path."""
    path = wes_venv_path()
    marker = path / _MARKER
    if marker.is_file() and marker.read_text().strip() == _wanted() and (path / "bin" / "sapporo").exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    venv.create(path, with_pip=True, clear=path.exists())
    cmd = [str(path / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           *(["-q"] if quiet else []), f"sapporo=={SAPPORO_VERSION}", f"cwltool=={CWLTOOL_VERSION}"]
    proc = subprocess.run(cmd, capture_output=quiet, text=True)
    if proc.returncode:
        tail = (proc.stderr or "")[-800:] if quiet else ""
        raise FedImputeError(f"installing the WES server (sapporo {SAPPORO_VERSION}, cwltool) into {path} failed; "
                             f"check network access to PyPI and run `python -m fedimpute.engine.wesenv` again\n{tail}")
    marker.write_text(_wanted() + "\n")
    return path


if __name__ == "__main__":
    print(ensure_wes_venv(quiet=False))
    sys.exit(0)
