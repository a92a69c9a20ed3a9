"""A guided tour of what fedimpute does today, in a throw-away FEDIMPUTE_HOME.

Each step runs the real ``fedimpute`` command and shows its output.  Later
releases replace this with ``fedimpute demo`` (local engine and dashboard).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

STEPS = [
    ("The catalogue starts with the three public Cloudgene services",
     ["services", "list"]),
    ("Add your own GA4GH WES service (settings are validated per protocol)",
     ["services", "add", "lab-wes", "--protocol", "wes", "--url", "https://wes.example.org/ga4gh/wes/v1",
      "--location", "Our institute", "--set", "workflow=impute", "--set", "engine=cwltool"]),
    ("Adding the same name again is refused with a clear message (exit 2)",
     ["services", "add", "lab-wes", "--protocol", "wes", "--url", "https://wes.example.org"]),
    ("Store an API token: the OS keyring, or a 0600 file where there is none",
     ["login", "michigan", "--token", "demo-token-not-real-0000"]),
    ("Everything is also available as JSON for scripts",
     ["services", "list", "--json"]),
    ("Jobs are recorded in DuckDB (none yet in this fresh home)",
     ["jobs", "list"]),
    ("Capabilities still being built say so instead of pretending (exit 1)",
     ["submit", "cohort.chr20.vcf.gz", "--service", "michigan", "--panel", "hapmap-2"]),
]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="fedimpute-demo-") as tmp:
        env = {**os.environ, "FEDIMPUTE_HOME": tmp, "FEDIMPUTE_SECRETS": "file"}
        for title, args in STEPS:
            print(f"\n\033[1m# {title}\033[0m\n$ fedimpute {shlex.join(args)}", flush=True)
            proc = subprocess.run([sys.executable, "-m", "fedimpute", *args], env=env)
            print(f"(exit {proc.returncode})", flush=True)
        db = Path(tmp) / "fedimpute.duckdb"
        leaked = b"demo-token-not-real-0000" in db.read_bytes()
        print(f"\n# The token is {'IN' if leaked else 'not in'} the DuckDB file {db.name} "
              f"({db.stat().st_size:,} bytes); secrets live in {sorted(p.name for p in Path(tmp).iterdir())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
