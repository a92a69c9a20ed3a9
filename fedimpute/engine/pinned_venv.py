"""A virtual environment holding pinned tools that bring their own pins (sapporo, Toil).

Both pin libraries fedimpute also uses (FastAPI, pydantic, cwltool), so each lives in a venv of its
own under the user's cache, shared by every FEDIMPUTE_HOME (it holds code, not data).  A marker file
naming the requirements is written last: an interrupted install is redone, never half used.
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

from fedimpute.exceptions import FedImputeError

__all__ = ["ensure_pinned_venv"]


def _ready(path: Path, marker: str, wanted: str, needs: list[str]) -> bool:
    mark = path / marker
    return (mark.is_file() and mark.read_text().strip() == wanted
            and all((path / "bin" / name).exists() for name in needs))


def ensure_pinned_venv(path: Path, requirements: list[str], *, marker: str, needs: list[str], what: str,
                       module: str, env_var: str, quiet: bool = True) -> Path:
    """Create (once) the venv at ``path`` with ``requirements``; return its path.

    ``needs``: programs its ``bin/`` must have afterwards; ``what``, ``module`` and ``env_var`` name the
    tool, the command that makes the venv again and the variable that moves it, for the error's fix."""
    wanted = " ".join(requirements)
    if _ready(path, marker, wanted, needs):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        venv.create(path, with_pip=True, clear=path.exists())
    except (OSError, subprocess.CalledProcessError) as exc:
        raise FedImputeError(f"could not create the virtual environment for {what} in {path} ({exc}); install "
                             f"python3-venv or set {env_var} to a writable folder, then run "
                             f"`python -m {module}`") from exc
    cmd = [str(path / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           *(["-q"] if quiet else []), *requirements]
    proc = subprocess.run(cmd, capture_output=quiet, text=True)
    if proc.returncode or not all((path / "bin" / name).exists() for name in needs):
        tail = (proc.stderr or "")[-800:] if quiet else ""
        raise FedImputeError(f"installing {what} ({wanted}) into {path} failed; check network access to PyPI and "
                             f"run `python -m {module}` again\n{tail}")
    (path / marker).write_text(wanted + "\n")
    return path
