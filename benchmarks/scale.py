"""Scaling the local engine: one chromosome whole, in chunks on 2 slots, and on Toil + Slurm, in one run.

    python benchmarks/scale.py [--home DIR] [--chunk-mb 1] [--flank-kb 250] [--no-slurm]

On the demo data (2,000 reference / 200 target diploids over 5 Mb, simulated once into the home;
default benchmarks/data/engine-home, shared with benchmarks/engine.py) it times, each once:

- **tools direct**: eagle then minimac4 on the whole region (2 threads), no workflow: the baseline;
- **cwltool whole**: the shipped workflow with one chunk (chunk size above the region), 2 threads;
- **cwltool chunked**: the same workflow in ``--chunk-mb`` chunks, ``cwltool --parallel``, one thread
  per chunk, so two chunks run at once on the two cores;
- **toil + slurm**: the chunked workflow by ``toil-cwl-runner --batchSystem slurm`` on the single-node
  cluster of ``scripts/slurm-local.sh`` (started and stopped here when run as root), two slots.

It prints wall times and ratios to the whole-chromosome cwltool run, the peak memory of each chunk
(the largest process of each chunk, measured by running the chunk's tools directly), and a projection
for a 30 M-site panel and 50,000 targets from the measured cost per panel site per target sample
(a linear model: phasing and imputation both grow about linearly in sites and in targets for a fixed
panel; larger panels cost more per site, so read it as a lower bound).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SLURM = ROOT / "scripts" / "slurm-local.sh"
TOOLS = ROOT / "fedimpute" / "engine" / "workflow" / "tools"


def prepare(home: Path) -> dict:
    """The demo data set and its registered panel (simulated once; reused by later runs)."""
    os.environ["FEDIMPUTE_HOME"] = str(home)
    from fedimpute.engine.demo import DEMO_PANEL, DEMO_SPEC
    from fedimpute.engine.panels import add_panel, panels_dir
    from fedimpute.engine.simulate import simulate_dataset

    data = home / "demo"
    if not (data / "simulation.json").exists():
        simulate_dataset(data, DEMO_SPEC)
    if not (panels_dir(home) / DEMO_PANEL / "manifest.json").exists():
        add_panel(data / "ref.vcf.gz", panel_id=DEMO_PANEL, name="Simulated demo panel", build="hg38",
                  populations=["all"], genetic_map=data / "map.plink", fasta=data / "ref.fa", home=home)
    sim = json.loads((data / "simulation.json").read_text())
    return {"data": data, "panel": DEMO_PANEL, "panel_dir": panels_dir(home) / DEMO_PANEL, "sim": sim,
            "target": data / "array.vcf.gz", "length": DEMO_SPEC.length}


def job_file(demo: dict, work: Path, *, chunk: int, flank: int, threads: int) -> Path:
    from fedimpute.engine.panels import panel_workflow_params

    params = {"vcfs": [{"class": "File", "path": str(demo["target"])}], "panel": demo["panel"],
              **panel_workflow_params(demo["panel"]), "chunk_size": chunk, "chunk_flank": flank,
              "threads": threads, "java_heap": "1g"}
    path = work / "job.json"
    path.write_text(json.dumps(params))
    return path


def timed(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t


def peak_rss_mib(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MiB of the largest process) of ``cmd``, measured in a fresh child."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, check=True, cwd=cwd)
    seconds, kib = out.stdout.split()
    return float(seconds), int(kib) / 1024


def tools_direct(demo: dict, work: Path, threads: int = 2) -> tuple[float, float]:
    """eagle then minimac4 alone on the whole target (the panel's prebuilt .msav and maps), no QC, no
    workflow; returns (seconds, peak MiB of the larger of the two)."""
    p = demo["panel_dir"]
    target = work / "target.vcf.gz"
    subprocess.run(["bcftools", "view", "-Oz", "-o", str(target), str(demo["target"])], check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(target)], check=True)
    eagle = shutil.which("bio-eagle") or "eagle"
    t1, m1 = peak_rss_mib([eagle, "--vcfRef", str(p / "panel.vcf.gz"), "--vcfTarget", str(target),
                           "--geneticMapFile", str(p / "map.eagle.txt.gz"), "--outPrefix", str(work / "phased"),
                           "--numThreads", str(threads)], work)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(work / "phased.vcf.gz")], check=True)
    t2, m2 = peak_rss_mib(["minimac4", "--map", str(p / "map.minimac.txt"), str(p / "panel.msav"),
                           str(work / "phased.vcf.gz"), "-o", str(work / "dose.vcf.gz"), "-f", "GT,DS",
                           "-t", str(threads)], work)
    return t1 + t2, max(m1, m2)


def cwltool(demo: dict, work: Path, *, chunk: int, flank: int, threads: int, parallel: bool) -> float:
    from fedimpute.engine.wesenv import ensure_wes_venv
    from fedimpute.engine.workflow import workflow_path

    runner = str(ensure_wes_venv() / "bin" / "cwltool")
    job = job_file(demo, work, chunk=chunk, flank=flank, threads=threads)
    return timed([runner, *(["--parallel"] if parallel else []), "--outdir", str(work / "out"),
                  str(workflow_path()), str(job)], cwd=work)


def toil_slurm(demo: dict, work: Path, *, chunk: int, flank: int) -> tuple[float, int]:
    """(seconds, Slurm jobs the run submitted), counted by the comment every job of the run carries."""
    from fedimpute.engine.toilenv import ensure_toil_venv
    from fedimpute.engine.workflow import workflow_path

    venv = ensure_toil_venv()
    job = job_file(demo, work, chunk=chunk, flank=flank, threads=1)
    comment = f"fedimpute-scale-{os.getpid()}-{time.time_ns()}"
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "TOIL_SLURM_ARGS": f"--comment={comment}"}
    seconds = timed([str(venv / "bin" / "toil-cwl-runner"), "--batchSystem", "slurm", "--jobStore",
                     str(work / "jobstore"), "--workDir", str(work), "--outdir", str(work / "out"),
                     "--disableCaching", "--defaultMemory", "500Mi", "--defaultCores", "1", "--defaultDisk", "1Gi",
                     str(workflow_path()), str(job)], env=env, cwd=work)
    shown = subprocess.run(["scontrol", "show", "job", "--oneliner"], capture_output=True, text=True).stdout
    return seconds, sum(1 for line in shown.splitlines() if f"Comment={comment}" in line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=ROOT / "benchmarks" / "data" / "engine-home")
    parser.add_argument("--chunk-mb", type=float, default=1.0)
    parser.add_argument("--flank-kb", type=int, default=250)
    parser.add_argument("--no-slurm", action="store_true", help="skip the Toil + Slurm run")
    args = parser.parse_args()
    demo = prepare(args.home.resolve())
    chunk, flank = int(args.chunk_mb * 1_000_000), args.flank_kb * 1000
    sites, targets = demo["sim"]["panel_sites"], demo["sim"]["n_targets"]
    print(f"demo data: {sites:,} panel sites, {targets} targets over {demo['length'] / 1e6:g} Mb; "
          f"chunks of {chunk / 1e6:g} Mb with {flank / 1e3:g} kb flanks")
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for name in ("direct", "whole", "chunked", "toil", "chunks"):
            (base / name).mkdir()
        times["tools direct (eagle + minimac4, 2 threads)"], _ = tools_direct(demo, base / "direct")
        times["cwltool, whole chromosome, 2 threads"] = cwltool(demo, base / "whole", chunk=100_000_000, flank=flank,
                                                                 threads=2, parallel=False)
        times["cwltool, chunked, 2 parallel jobs"] = cwltool(demo, base / "chunked", chunk=chunk, flank=flank,
                                                             threads=1, parallel=True)
        slurm_jobs = None
        if not args.no_slurm:
            slurm_jobs = _with_slurm(lambda: toil_slurm(demo, base / "toil", chunk=chunk, flank=flank), times)
        peaks = chunk_peaks(demo, base / "chunks", chunk, flank)
    report(times, peaks, slurm_jobs, sites, targets)
    return 0


def _with_slurm(run, times: dict[str, float]) -> int | None:
    if os.geteuid() != 0 or not shutil.which("sbatch"):
        print("toil + slurm: skipped (needs root and slurm-wlm; scripts/setup.sh installs it as root)")
        return None
    started = subprocess.run(["bash", str(SLURM), "status"], capture_output=True).returncode != 0
    if started:
        subprocess.run(["bash", str(SLURM), "start"], check=True)
    try:
        seconds, jobs = run()
    finally:
        if started:
            subprocess.run(["bash", str(SLURM), "stop"], check=True)
    times["toil on the local slurm, 2 slots"] = seconds
    return jobs


def chunk_peaks(demo: dict, work: Path, chunk: int, flank: int) -> list[tuple[str, float, float]]:
    """Each chunk job of the workflow (``impute-chunk.sh``: eagle then minimac4 on the chunk and its
    flanks, 1 thread) run directly: (chunk, seconds, peak MiB of its largest process)."""
    p = demo["panel_dir"]
    target = work / "target.vcf.gz"
    shutil.copy(demo["target"], target)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(target)], check=True)
    first, last = 100_001, 100_000 + demo["length"]
    rows = []
    for lo in range((first - 1) // chunk * chunk + 1, last + 1, chunk):  # the workflow's fixed grid
        hi = lo + chunk - 1
        folder = work / str(lo)
        folder.mkdir()
        (folder / "plan.txt").write_text(f"chr20 {lo} {hi}\n")
        seconds, peak = peak_rss_mib(["bash", str(TOOLS / "impute-chunk.sh"), "--target", str(target), "--plan",
                                      "plan.txt", "--flank", str(flank), "--panel-vcf", str(p / "panel.vcf.gz"),
                                      "--panel-msav", str(p / "panel.msav"), "--map-eagle",
                                      str(p / "map.eagle.txt.gz"), "--map-minimac", str(p / "map.minimac.txt"),
                                      "--phasing", "eagle", "--imputer", "minimac4", "--threads", "1"], folder)
        rows.append((f"chr20:{lo:,}-{hi:,}", seconds, peak))
    return rows


def report(times: dict[str, float], peaks: list[tuple[str, float, float]], slurm_jobs: int | None,
           sites: int, targets: int) -> None:
    whole = times["cwltool, whole chromosome, 2 threads"]
    print("\nwall time                                    seconds   / cwltool whole")
    for name, seconds in times.items():
        print(f"  {name:<42} {seconds:8.1f}   {seconds / whole:6.2f}")
    chunked = times["cwltool, chunked, 2 parallel jobs"]
    print(f"chunked with 2 slots vs whole on 2 cores: {whole / chunked:.2f}x "
          f"({'faster' if chunked < whole else 'NOT faster'})")
    if slurm_jobs is not None:
        print(f"toil on slurm submitted {slurm_jobs} Slurm jobs")
    print("\npeak memory per chunk (the workflow's chunk job run directly, 1 thread)")
    for region, seconds, peak in peaks:
        print(f"  {region:<28} {seconds:6.1f} s  {peak:7.1f} MiB")
    direct = times["tools direct (eagle + minimac4, 2 threads)"]
    cost = direct * 2 / (sites * targets)  # core-seconds per panel site per target sample
    projected = cost * 30e6 * 50_000
    print(f"\ncost: {cost * 1e9:.1f} core-ns per panel site per target sample (tools direct, 2 cores)")
    print(f"projection, 30 M panel sites x 50,000 targets: {projected / 3600:,.0f} core-hours; "
          f"{projected / 3600 / 2:,.0f} h on this 2-core machine, {projected / 3600 / 200:,.1f} h on 200 cores "
          "(linear model, a lower bound for panels larger than the demo's)")


if __name__ == "__main__":
    sys.exit(main())
