"""Another process holding the store: ``python -c`` opens the DuckDB file read-write and keeps it.

DuckDB locks the whole file per process, so while the holder has it open every other process's
open is refused, exactly as while a CLI command, a notebook or a second server is using the store.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["HOLDER", "store_locked"]

HOLDER = """
import sys, time, duckdb
path, ready, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + 60
while True:
    try:
        con = duckdb.connect(path)  # read-write: every other process is locked out of the file
        break
    except duckdb.IOException:  # someone has it open for a moment
        if time.monotonic() > deadline:
            raise
        time.sleep(0.02)
open(ready, "w").write("locked")
time.sleep(seconds)
con.close()
"""


@contextmanager
def store_locked(db: Path, ready: Path, seconds: float) -> Iterator[subprocess.Popen]:
    """A second process holding ``db`` for ``seconds``; yields once it has the lock (``ready`` written)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(ready), str(seconds)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if holder.poll() is not None:
                raise RuntimeError(f"the lock holder exited with {holder.returncode} before taking the lock")
            if time.monotonic() > deadline:
                raise RuntimeError("the lock holder did not get the lock within 60 s")
            time.sleep(0.02)
        yield holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(30)
