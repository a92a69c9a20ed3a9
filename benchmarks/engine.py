"""Orchestration overhead of the local engine: the same phasing + imputation run directly and
through fedimpute (submit -> WES -> completed -> results downloaded), in one run.

    python benchmarks/engine.py [--home DIR]

The demo data set (2,000 reference / 200 targets / 5 Mb) is simulated once into the home
(default benchmarks/data/engine-home, reused by later runs).  Prints wall times of alternating repeats and
the ratio of the medians fedimpute / direct (acceptance: at most 1.3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_direct(demo: dict, panel_dir: Path, work: Path) -> float:
    """eagle then minimac4 with the panel's prebuilt .msav and maps, as the workflow calls them."""
    target = work / "target.vcf.gz"
    subprocess.run(["bcftools", "view", "-Oz", "-o", str(target), str(demo["target"])], check=True)
    subprocess.run(["tabix", "-p", "vcf", str(target)], check=True)
    t = time.perf_counter()
    subprocess.run(["bio-eagle", "--vcfRef", str(panel_dir / "panel.vcf.gz"), "--vcfTarget", str(target),
                    "--geneticMapFile", str(panel_dir / "map.eagle.txt.gz"), "--outPrefix", str(work / "phased"),
                    "--numThreads", "2"], check=True, capture_output=True)
    subprocess.run(["tabix", "-p", "vcf", str(work / "phased.vcf.gz")], check=True)
    subprocess.run(["minimac4", "--map", str(panel_dir / "map.minimac.txt"), str(panel_dir / "panel.msav"),
                    str(work / "phased.vcf.gz"), "-o", str(work / "chr20.dose.vcf.gz"), "-f", "GT,DS", "-t", "2"],
                   check=True, capture_output=True)
    return time.perf_counter() - t


async def run_fedimpute(demo: dict, out: Path) -> float:
    from fedimpute.hub import Hub
    from fedimpute.services.base import SubmitOptions

    hub = Hub()
    t = time.perf_counter()
    job = await hub.submit([demo["target"]], "local", SubmitOptions(panel=demo["panel"], build="hg38",
                                                                      name="benchmark"), owner="benchmark")
    job = await hub.wait(job.job_id)
    if job.status.value != "completed":
        raise RuntimeError(f"the fedimpute run ended {job.status.value}: {job.error}")
    await hub.download_results(job.job_id, out)
    return time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=ROOT / "benchmarks" / "data" / "engine-home")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each; medians compared")
    args = parser.parse_args()
    os.environ["FEDIMPUTE_HOME"] = str(args.home)
    from fedimpute.engine.demo import prepare_demo
    from fedimpute.engine.panels import panels_dir
    from fedimpute.engine.server import engine_stop

    t = time.perf_counter()
    demo = prepare_demo(args.home)
    print(f"demo data, panel and engine ready in {time.perf_counter() - t:.1f} s ({demo['data']})")
    directs, vias = [], []
    try:
        for i in range(args.repeats):  # alternate, so that a burst of other load hits both sides
            with tempfile.TemporaryDirectory() as tmp:
                directs.append(run_direct(demo, panels_dir(args.home) / demo["panel"], Path(tmp)))
                vias.append(asyncio.run(run_fedimpute(demo, Path(tmp) / "fedimpute-results")))
            print(f"run {i + 1}: direct {directs[-1]:.2f} s, fedimpute {vias[-1]:.2f} s", flush=True)
    finally:
        engine_stop(args.home)
    direct, via = statistics.median(directs), statistics.median(vias)
    print(f"direct tools (eagle + minimac4), median of {args.repeats}:        {direct:6.2f} s wall")
    print(f"fedimpute (submit, WES, wait, download), median of {args.repeats}: {via:6.2f} s wall")
    print(f"ratio fedimpute / direct: {via / direct:.2f} (acceptance: at most 1.3)")
    return 0 if via / direct <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
