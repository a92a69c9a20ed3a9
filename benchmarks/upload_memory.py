"""Peak memory of a large Cloudgene upload: does RSS grow with the file?

Starts the local Cloudgene simulator in its own process (uploads discarded), then, in a
fresh client process, submits a small file (baseline: imports, client, code paths warm)
and a large one (default 1 GiB) through fedimpute's adapter, and prints the peak RSS
after each and their difference.

    python benchmarks/upload_memory.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-0123456789"

CLIENT = r"""
import asyncio, json, resource, sys, time
from pathlib import Path
import httpx
from pydantic import SecretStr
from fedimpute.models import Protocol, ServiceConfig
from fedimpute.services.base import SubmitOptions
from fedimpute.services.cloudgene import CloudgeneService

url, token, small, large = sys.argv[1:5]

def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

async def submit(client, path):
    svc = CloudgeneService(ServiceConfig(name="bench", protocol=Protocol.CLOUDGENE, url=url), client,
                           SecretStr(token))
    sent = [0]
    def progress(done, total):
        sent[0] = done
    t = time.perf_counter()
    rid = await svc.submit([Path(path)], SubmitOptions(panel="hapmap-2"), job_name="bench", progress=progress)
    return rid, sent[0], time.perf_counter() - t

async def main():
    async with httpx.AsyncClient(timeout=600) as client:
        await submit(client, small)
        base = peak_mib()
        rid, sent, secs = await submit(client, large)
    print(json.dumps({"baseline_peak_mib": base, "after_peak_mib": peak_mib(), "bytes_sent": sent,
                      "seconds": secs, "remote_id": rid}))

asyncio.run(main())
"""


def _make_file(path: Path, size: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as fh:
        for _ in range(size // len(block)):
            fh.write(block)
        fh.write(block[: size % len(block)])


def measure(size_mib: int = 1024) -> dict:
    """Run the measurement; return the figures as a dict (also used by the test suite)."""
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small.vcf.gz", Path(tmp) / "large.vcf.gz"
        _make_file(small, 64 * 1024)
        _make_file(large, size_mib * 1024 * 1024)
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.cloudgene_server", "--port", "0", "--discard-uploads",
             "--token", TOKEN, "--user", "bench"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
        try:
            line = server.stdout.readline()
            if not line.startswith("READY "):
                raise RuntimeError(f"the simulator did not start: {line!r}")
            url = line.split()[1]
            proc = subprocess.run([sys.executable, "-c", CLIENT, url, TOKEN, str(small), str(large)],
                                  capture_output=True, text=True, cwd=ROOT, timeout=1800)
            if proc.returncode:
                raise RuntimeError(proc.stderr)
            result = json.loads(proc.stdout)
        finally:
            server.terminate()
            server.wait(10)
            if server.stdout is not None:
                server.stdout.close()
    result["size_mib"] = size_mib
    result["growth_mib"] = result["after_peak_mib"] - result["baseline_peak_mib"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    t = time.perf_counter()
    r = measure(args.size_mib)
    print(f"upload of {r['size_mib']} MiB ({r['bytes_sent']:,} bytes on the wire) in {r['seconds']:.1f} s "
          f"({r['size_mib'] / r['seconds']:.0f} MiB/s)")
    print(f"peak RSS after a 64 KiB upload (baseline): {r['baseline_peak_mib']:.1f} MiB")
    print(f"peak RSS after the {r['size_mib']} MiB upload:       {r['after_peak_mib']:.1f} MiB")
    ratio = r["after_peak_mib"] / r["baseline_peak_mib"]
    print(f"growth: {r['growth_mib']:.1f} MiB  (ratio peak/baseline {ratio:.2f}; "
          f"limit 100 MiB) [{time.perf_counter() - t:.0f} s in all]")
    return 0 if r["growth_mib"] < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
