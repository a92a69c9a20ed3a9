"""Browser uploads and result downloads on the served dashboard: server memory and throughput.

    python benchmarks/upload_browser.py [--size-mib 1024] [--rounds 3]

One ``fedimpute serve`` (sign-in on, one account) in a temporary home, driven by Debian's chromium:

- **upload**: the Submit form's drop area takes a 1 MiB file, then a ``--size-mib`` file (sparse:
  the bytes cost nothing to make, the server handles every one of them); the served process's RSS
  is sampled with psutil every 20 ms, and its peak growth during each upload is printed, the
  small one as the reference.  Goal: under 100 MiB for 1 GiB (Panel's own FileDropper would hold
  the whole file, and its copy);
- **download**: a completed job with one ``--size-mib`` result file (recorded as the monitor
  records them), fetched ``--rounds`` times through ``/results/{job}/{name}`` with the session
  cookie, alternating with the same file from a plain Tornado ``StaticFileHandler`` that this
  benchmark alone adds to the same server (``/bench-static/``).  Medians are compared.  Goal:
  results at least 0.8x the static file.

Everything lives in a temporary folder, deleted at the end.  Exit status 1 when a goal fails.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui.serving import (  # noqa: E402  (needs the checkout on sys.path)
    CHROMIUM_ARGS,
    add_accounts,
    dashboard_env,
    free_port,
    login,
    signed_in,
    stop_process_group,
    wait_until_up,
)

MIB = 1 << 20
USER, PASSWORD = "bench", "bench-password-0123"
GOAL_UPLOAD_MIB, GOAL_DOWNLOAD_RATIO = 100.0, 0.8
#: The served process: ``fedimpute serve``, plus a static route for this benchmark only.
SERVER = r"""
import sys
import panel as pn
from tornado.web import StaticFileHandler

port, static = int(sys.argv[1]), sys.argv[2]
serve = pn.serve

def with_static(*args, extra_patterns=(), **kwargs):
    route = (r"/bench-static/(.*)", StaticFileHandler, {"path": static})
    return serve(*args, extra_patterns=[*extra_patterns, route], **kwargs)

pn.serve = with_static
from fedimpute.cli.serve import serve as fedimpute_serve
fedimpute_serve(port=port)
"""


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def completed_job(home: Path, size: int) -> tuple[str, Path]:
    """A completed job of USER with one result file of ``size`` bytes, as the monitor records them."""
    from fedimpute.models import Job, JobStatus, ResultFile
    from fedimpute.paths import results_dir
    from fedimpute.store import Store

    store = Store(home)
    job = store.add_job(Job(service="local", owner=USER, name="benchmark", status=JobStatus.COMPLETED))
    folder = results_dir(home, job.job_id)
    folder.mkdir(parents=True)
    path = sparse(folder / "chr20.dose.vcf.gz", size)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(8 * MIB):
            digest.update(block)
    store.upsert_result_file(ResultFile(job_id=job.job_id, name=path.name, size=size, sha256=digest.hexdigest(),
                                        path=str(path)))
    return job.job_id, path


class PeakRss:
    """Peak RSS of a process since :meth:`reset`, sampled every 20 ms in a thread."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.base = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def reset(self) -> None:
        self.base = self.peak = self.process.memory_info().rss

    def growth_mib(self) -> float:
        return (self.peak - self.base) / MIB

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def wait_staged(home: Path, path: Path, timeout: float = 900) -> float:
    """Seconds until ``path`` sits whole in USER's staging folder."""
    from fedimpute.upkeep import staging_dir

    size, start = path.stat().st_size, time.perf_counter()
    folder = staging_dir(home) / USER
    while time.perf_counter() - start < timeout:
        if folder.exists() and any(p.name == path.name and p.stat().st_size == size for p in folder.rglob("*")):
            return time.perf_counter() - start
        time.sleep(0.05)
    raise RuntimeError(f"{path.name} was not staged within {timeout:.0f} s")


def measure_uploads(base: str, home: Path, pid: int, work: Path, size: int) -> dict:
    from playwright.sync_api import sync_playwright

    small, large = work / "small.vcf.gz", sparse(work / "large.vcf.gz", size)
    small.write_bytes(os.urandom(MIB))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                     args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)
            login(page, base, USER, PASSWORD)
            page.get_by_role("button", name="Submit", exact=True).first.click()
            page.get_by_text("files: none yet").wait_for()
            rss = PeakRss(pid)
            try:
                page.locator("input[type=file]").set_input_files(str(small))
                wait_staged(home, small)
                small_growth = rss.growth_mib()
                rss.reset()
                page.locator("input[type=file]").set_input_files(str(large))
                seconds = wait_staged(home, large)
                large_growth = rss.growth_mib()
            finally:
                rss.stop()
        finally:
            browser.close()
    return {"small_mib": small_growth, "large_mib": large_growth, "upload_s": seconds}


def fetch(client, url: str) -> tuple[int, float]:
    start, received = time.perf_counter(), 0
    with client.stream("GET", url) as answer:
        answer.raise_for_status()
        for block in answer.iter_raw(4 * MIB):
            received += len(block)
    return received, time.perf_counter() - start


def measure_downloads(base: str, job_id: str, path: Path, rounds: int) -> dict:
    import httpx

    results, static = [], []
    with signed_in(base, USER, PASSWORD, timeout=600) as session, httpx.Client(base_url=base, timeout=600) as plain:
        for _ in range(rounds):
            for client, url, times in ((session, f"/results/{job_id}/{path.name}", results),
                                       (plain, f"/bench-static/{path.name}", static)):
                received, seconds = fetch(client, url)
                if received != path.stat().st_size:
                    raise RuntimeError(f"{url}: {received:,} bytes, expected {path.stat().st_size:,}")
                times.append(received / MIB / seconds)
    return {"results_mibs": statistics.median(results), "static_mibs": statistics.median(static),
            "all_results": results, "all_static": static}


def run(size_mib: int, rounds: int) -> dict:
    """Start the server, measure both, stop it; every file goes with the temporary folder."""
    size = size_mib * MIB
    with tempfile.TemporaryDirectory(prefix="fedimpute-upload-bench-") as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir(mode=0o700)
        add_accounts(home, {USER: PASSWORD})
        job_id, result = completed_job(home, size)
        port, log = free_port(), work / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(result.parent)], cwd=ROOT,
                                    env=dashboard_env(home, FEDIMPUTE_MONITOR_PERIOD="0"), stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(proc, base, log, what="fedimpute serve")
            figures = measure_uploads(base, home, proc.pid, work, size)
            figures.update(measure_downloads(base, job_id, result, rounds))
        finally:
            stop_process_group(proc)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the large upload and the result")
    parser.add_argument("--rounds", type=int, default=3, help="downloads of each kind (medians compared)")
    args = parser.parse_args()
    start, load = time.perf_counter(), os.getloadavg()
    f = run(args.size_mib, args.rounds)
    upload_ok = f["large_mib"] < GOAL_UPLOAD_MIB
    ratio = f["results_mibs"] / f["static_mibs"]
    print("load average (1, 5, 15 min): before " + " ".join(f"{x:.2f}" for x in load) + ", after "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"upload {args.size_mib} MiB through chromium: {f['upload_s']:.1f} s "
          f"({args.size_mib / f['upload_s']:.0f} MiB/s)")
    print(f"  server peak RSS growth: {f['large_mib']:.1f} MiB for {args.size_mib} MiB, {f['small_mib']:.1f} MiB "
          f"for 1 MiB (difference {f['large_mib'] - f['small_mib']:.1f} MiB; goal < {GOAL_UPLOAD_MIB:.0f} MiB) "
          f"{'ok' if upload_ok else 'FAILED'}")
    print(f"download {args.size_mib} MiB, median of {args.rounds}: /results {f['results_mibs']:.0f} MiB/s, "
          f"static {f['static_mibs']:.0f} MiB/s (each: {', '.join(f'{x:.0f}' for x in f['all_results'])} / "
          f"{', '.join(f'{x:.0f}' for x in f['all_static'])})")
    print(f"  ratio results/static: {ratio:.2f} (goal >= {GOAL_DOWNLOAD_RATIO}) "
          f"{'ok' if ratio >= GOAL_DOWNLOAD_RATIO else 'FAILED'}  [{time.perf_counter() - start:.0f} s in all]")
    return 0 if upload_ok and ratio >= GOAL_DOWNLOAD_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
