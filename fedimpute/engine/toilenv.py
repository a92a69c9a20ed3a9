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
import subprocess
import sys
import venv
from pathlib import Path

from fedimpute.exceptions import FedImputeError

__all__ = ["TOIL_VERSION", "ensure_toil_venv", "toil_venv_path"]

TOIL_VERSION = "9.6.0"
_MARKER = ".fedimpute-toil-venv"


def toil_venv_path() -> Path:
    if os.environ.get("FEDIMPUTE_TOIL_VENV"):
        return Path(os.environ["FEDIMPUTE_TOIL_VENV"]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fedimpute" / f"toil-venv-{TOIL_VERSION}"


def _wanted() -> str:
    return f"toil[cwl]=={TOIL_VERSION}"


def _ready(path: Path) -> bool:
    marker = path / _MARKER
    return (marker.is_file() and marker.read_text().strip() == _wanted()
            and (path / "bin" / "toil-cwl-runner").exists() and (path / "bin" / "_toil_worker").exists())


def ensure_toil_venv(*, quiet: bool = True) -> Path:
    """Create (once) the venv with the pinned Toil and its CWL runner; return its path.

    The marker is written last, so an interrupted install is redone rather than half used.
    """
    path = toil_venv_path()
    if _ready(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        venv.create(path, with_pip=True, clear=path.exists())
    except (OSError, subprocess.CalledProcessError) as exc:
        raise FedImputeError(f"could not create Toil's virtual environment in {path} ({exc}); install python3-venv "
                             f"or set FEDIMPUTE_TOIL_VENV to a writable folder, then run "
                             f"`python -m fedimpute.engine.toilenv`") from exc
    cmd = [str(path / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           *(["-q"] if quiet else []), _wanted()]
    proc = subprocess.run(cmd, capture_output=quiet, text=True)
    if proc.returncode or not (path / "bin" / "toil-cwl-runner").exists():
        tail = (proc.stderr or "")[-800:] if quiet else ""
        raise FedImputeError(f"installing Toil ({_wanted()}) into {path} failed; check network access to PyPI and "
                             f"run `python -m fedimpute.engine.toilenv` again\n{tail}")
    (path / _MARKER).write_text(_wanted() + "\n")
    return path


if __name__ == "__main__":
    print(ensure_toil_venv(quiet=False))
    sys.exit(0)
