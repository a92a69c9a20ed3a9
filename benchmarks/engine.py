"""Orchestration overhead of the local engine: the same work run directly and through fedimpute
(submit -> WES server -> cwltool -> completed -> results downloaded), in one run.

    python benchmarks/engine.py [--home DIR] [--repeats 3]

"Direct" runs the workflow's own tool scripts (``impute-chromosome.sh`` then ``summarise.sh``)
with the arguments the workflow gives them: the same QC filters, eagle, minimac4 and info file,
with no WES server, no cwltool and no fedimpute.  The ratio of the medians fedimpute / direct is
the orchestration overhead (acceptance: at most 1.3).  Bare eagle + minimac4 (no QC, no info
file) is timed too, for scale.  The demo data set (2,000 reference / 200 targets / 5 Mb) is
simulated once into the home (default benchmarks/data/engine-home, reused by later runs).
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


TOOLS = ROOT / "fedimpute" / "engine" / "workflow" / "tools"


def run_scripts(demo: dict, panel_dir: Path, work: Path) -> float:
    """The workflow's two steps, run by bash in ``work`` with the workflow's arguments."""
    p = panel_dir
    t = time.perf_counter()
    subprocess.run(["bash", str(TOOLS / "impute-chromosome.sh"), "--vcf", str(demo["target"]),
                    "--panel-vcf", str(p / "panel.vcf.gz"), "--panel-sites", str(p / "panel.sites.vcf.gz"),
                    "--panel-msav", str(p / "panel.msav"), "--map-eagle", str(p / "map.eagle.txt.gz"),
                    "--map-plink", str(p / "map.plink"), "--map-minimac", str(p / "map.minimac.txt"),
                    "--fasta", str(p / "reference.fa"), "--phasing", "eagle", "--imputer", "minimac4",
                    "--mode", "imputation", "--threads", "2"], cwd=work, check=True, capture_output=True)
    subprocess.run(["bash", str(TOOLS / "summarise.sh"), "--panel", demo["panel"], "--build", "hg38",
                    "--phasing", "eagle", "--imputer", "minimac4", "--mode", "imputation",
                    "--reports", "report.part.txt", "--excluded", "snps-excluded.part.txt",
                    "--chunks", "chunks-excluded.part.txt"], cwd=work, check=True, capture_output=True)
    return time.perf_counter() - t


def run_bare_tools(demo: dict, panel_dir: Path, work: Path) -> float:
    """eagle then minimac4 alone with the panel's prebuilt .msav and maps (no QC, no info file)."""
    target = work / "target.vcf.gz"  # the bare tools need an indexed target
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
    panel_dir = panels_dir(args.home) / demo["panel"]
    bares, directs, vias = [], [], []
    try:
        for i in range(args.repeats):  # alternate, so that a burst of other load hits every side
            with tempfile.TemporaryDirectory() as tmp:
                (Path(tmp) / "bare").mkdir()
                (Path(tmp) / "direct").mkdir()
                bares.append(run_bare_tools(demo, panel_dir, Path(tmp) / "bare"))
                directs.append(run_scripts(demo, panel_dir, Path(tmp) / "direct"))
                vias.append(asyncio.run(run_fedimpute(demo, Path(tmp) / "fedimpute-results")))
            print(f"run {i + 1}: eagle + minimac4 {bares[-1]:.2f} s, workflow scripts direct {directs[-1]:.2f} s, "
                  f"fedimpute {vias[-1]:.2f} s", flush=True)
    finally:
        engine_stop(args.home)
    bare, direct, via = (statistics.median(x) for x in (bares, directs, vias))
    n = args.repeats
    print(f"eagle + minimac4 alone, median of {n}:                         {bare:6.2f} s wall")
    print(f"the workflow's scripts run directly (QC, phasing, imputation), median of {n}: {direct:6.2f} s wall")
    print(f"fedimpute (submit, WES, cwltool, wait, download), median of {n}:  {via:6.2f} s wall")
    print(f"QC and info file on top of the bare tools: {direct / bare:.2f}x")
    print(f"orchestration overhead, fedimpute / direct: {via / direct:.2f} (acceptance: at most 1.3)")
    return 0 if via / direct <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
