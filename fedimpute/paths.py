"""Where fedimpute keeps its data: ``FEDIMPUTE_HOME`` (default ``~/.fedimpute``).

The home holds the DuckDB file, the fallback secrets file and downloaded results.
It is created on first use with mode 0700, because results are genotype data.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DB_FILENAME", "home_dir", "results_dir"]

DB_FILENAME = "fedimpute.duckdb"


def home_dir(home: str | os.PathLike[str] | None = None) -> Path:
    """Resolve and create the data folder (argument, then ``FEDIMPUTE_HOME``, then ``~/.fedimpute``)."""
    raw = home if home is not None else os.environ.get("FEDIMPUTE_HOME") or Path.home() / ".fedimpute"
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def results_dir(home: Path, job_id: str) -> Path:
    """Default folder for one job's results: ``HOME/results/<job_id>/``."""
    return home / "results" / job_id
