"""Write a WES run's ``outputs.json`` as sapporo's ``dump-outputs`` does, in milliseconds.

sapporo's ``run.sh`` lists a finished run's output files with ``sapporo-cli dump-outputs``,
which imports the whole server (1.3 s here) to list a handful of files; on the local engine
that is a second added to every job.  The engine's ``run.sh`` runs this file instead with the
WES venv's interpreter (``python -I``: standard library only, never fedimpute itself).
Symlinks are followed only to targets inside the run directory, as sapporo does.

    python -I list_outputs.py RUN_DIR
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import quote


def output_names(run_dir: Path) -> list[str]:
    """Paths of the files under ``outputs/``, relative to it, sorted."""
    outputs = run_dir / "outputs"
    names = []
    for current, dirs, files in os.walk(outputs, followlinks=True):
        here = Path(current)
        dirs[:] = [d for d in dirs if (here / d).resolve().is_relative_to(run_dir)]
        names += [str((here / f).relative_to(outputs)) for f in files
                  if (here / f).resolve().is_relative_to(run_dir) and (here / f).is_file()]
    return sorted(names)


def write_outputs_json(run_dir: str | os.PathLike[str]) -> Path:
    """``outputs.json``: ``[{"file_name", "file_url"}]``, URLs that round-trip any file name."""
    run_dir = Path(run_dir).resolve()
    info = json.loads((run_dir / "runtime_info.json").read_text())
    run_id, base = info.get("run_id", run_dir.name), info["base_url"]
    doc = [{"file_name": n, "file_url": f"{base}/runs/{run_id}/outputs/{quote(n)}"} for n in output_names(run_dir)]
    target, tmp = run_dir / "outputs.json", run_dir / "outputs.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2))
    os.replace(tmp, target)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: list_outputs.py RUN_DIR")
    write_outputs_json(sys.argv[1])
