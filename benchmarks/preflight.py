"""Speed and memory of the pre-flight check against ``bcftools stats`` on the same file.

Generates (once; cached under ``benchmarks/data/``, which is git-ignored) an unphased array-like
VCF.gz of 1,000,000 variants x 500 samples (about 2 GB of text), then times, each in its own
process, ``bcftools stats`` and ``fedimpute.preflight.check_files`` on it, and prints both wall
times, their ratio and the peak RSS of each.  The acceptance figures are: the check takes at most
1.5x the time of ``bcftools stats``, with a peak RSS under 300 MiB.

    python benchmarks/preflight.py [--variants 1000000] [--samples 500] [--repeat 3] [--variants-too]

Exit code 0 when both acceptance figures hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
MAX_RATIO = 1.5
MAX_RSS_MIB = 300

CHECK = r"""
import json, sys
from fedimpute.preflight import check_files
report = check_files([sys.argv[1]])
f = report.files[0]
print(json.dumps({"ok": report.ok, "variants": f.variants, "samples": f.samples,
                  "checks": {c.id: c.status for c in f.checks}}))
"""


def _genotype_block(rng: np.random.Generator, rows: int, samples: int, missing: float) -> np.ndarray:
    """(rows, samples*4) bytes of ``a/b\\t`` genotypes under Hardy-Weinberg, with some ``./.``."""
    table = np.frombuffer(b"0/0\t0/1\t1/1\t./.\t", dtype=np.uint8).reshape(4, 4)
    freq = rng.uniform(0.02, 0.5, size=(rows, 1))
    code = (rng.random((rows, samples)) < freq).astype(np.uint8)
    code += rng.random((rows, samples)) < freq
    code[rng.random((rows, samples)) < missing] = 3
    block = table[code].reshape(rows, samples * 4)
    block[:, -1] = ord("\n")
    return block


def generate(path: Path, variants: int, samples: int, *, missing: float = 0.005, seed: int = 7) -> None:
    """Write the benchmark file through ``bgzip -@2``: numpy builds the genotype text in blocks."""
    rng = np.random.default_rng(seed)
    header = ["##fileformat=VCFv4.2", "##contig=<ID=20,length=63025520>", "##reference=GRCh37",
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
                        + [f"S{i:05d}" for i in range(samples)])]
    step = max(1, 60_000_000 // variants)
    bases = np.array(list("ACGT"))
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        bgzip = subprocess.Popen(["bgzip", "-@2", "-c"], stdin=subprocess.PIPE, stdout=fh)
        bgzip.stdin.write(("\n".join(header) + "\n").encode())
        pos = 60_000
        for start in range(0, variants, 20_000):
            rows = min(20_000, variants - start)
            positions = pos + np.cumsum(rng.integers(1, 2 * step, size=rows))
            pos = int(positions[-1])
            ref_i = rng.integers(0, 4, size=rows)
            alt_i = (ref_i + rng.integers(1, 4, size=rows)) % 4
            gts = _genotype_block(rng, rows, samples, missing)
            out = bytearray()
            for i in range(rows):
                out += (f"20\t{positions[i]}\trs{start + i + 1}\t{bases[ref_i[i]]}\t{bases[alt_i[i]]}"
                        f"\t.\tPASS\t.\tGT\t").encode()
                out += gts[i].tobytes()
            bgzip.stdin.write(out)
        bgzip.stdin.close()
        if bgzip.wait():
            raise RuntimeError("bgzip failed while writing the benchmark file")
    tmp.rename(path)


def _timed(argv: list[str], **kwargs) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS (MiB) of the process and its children, stdout, and CPU seconds."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    stdout = proc.stdout.read()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {stderr.decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout.decode(), usage.ru_utime + usage.ru_stime


def measure(path: Path, repeat: int) -> dict:
    """Best-of-``repeat`` wall times and peak RSS of both tools on ``path``."""
    stats, checks = [], []
    for _ in range(repeat):  # interleaved, so that both see the same load on a shared machine
        stats.append(_timed(["bcftools", "stats", str(path)]))
        checks.append(_timed([sys.executable, "-c", CHECK, str(path)], cwd=ROOT))
    best_stats, best_check = min(stats), min(checks)
    return {"file": str(path), "gz_mib": path.stat().st_size / 2**20,
            "bcftools_stats_s": best_stats[0], "bcftools_stats_rss_mib": max(s[1] for s in stats),
            "bcftools_stats_cpu_s": min(s[3] for s in stats), "check_cpu_s": min(c[3] for c in checks),
            "check_s": best_check[0], "check_rss_mib": max(c[1] for c in checks),
            "ratio": best_check[0] / best_stats[0], "check_result": json.loads(best_check[2]),
            "all_stats_s": [round(s[0], 2) for s in stats], "all_check_s": [round(c[0], 2) for c in checks]}


def variants(path: Path) -> list[tuple[str, float, float]]:
    """Once each, for the record: one process only, and each slower decoder."""
    runs = []
    for label, env in (("one process (FEDIMPUTE_PREFLIGHT_WORKERS=1)", {"FEDIMPUTE_PREFLIGHT_WORKERS": "1"}),
                       ("htslib reader, one process", {"FEDIMPUTE_PREFLIGHT_READER": "hts"}),
                       ("bgzip -dc -@2 pipe, one process", {"FEDIMPUTE_PREFLIGHT_READER": "bgzip"})):
        seconds, rss, _, _ = _timed([sys.executable, "-c", CHECK, str(path)], cwd=ROOT, env={**os.environ, **env})
        runs.append((label, seconds, rss))
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variants-too", action="store_true", help="Also time one process and the slower "
                        "decoders, once each.")
    args = parser.parse_args()
    for tool in ("bgzip", "bcftools"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: apt-get install bcftools tabix (or conda install -c bioconda "
                  "bcftools htslib)", file=sys.stderr)
            return 1
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"preflight-{args.variants}x{args.samples}-hg19.vcf.gz"
    if args.generate_only:
        generate(path, args.variants, args.samples)
        return 0
    if not path.exists():  # in a child process: a large parent would inflate the children's peak RSS
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate-only", "--variants", str(args.variants),
                        "--samples", str(args.samples)], check=True)
        print(f"generated {path.name} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.0f} s")
    r = measure(path, args.repeat)
    print(f"file: {path.name}, {r['gz_mib']:.0f} MiB compressed, {args.variants:,} variants x {args.samples} samples")
    print(f"bcftools stats:       {r['bcftools_stats_s']:6.2f} s  peak RSS {r['bcftools_stats_rss_mib']:6.1f} MiB"
          f"  (runs {r['all_stats_s']})")
    print(f"fedimpute preflight:  {r['check_s']:6.2f} s  peak RSS {r['check_rss_mib']:6.1f} MiB"
          f"  (runs {r['all_check_s']})")
    print(f"ratio check/stats:    {r['ratio']:6.2f}  (limit {MAX_RATIO}); RSS limit {MAX_RSS_MIB} MiB")
    print(f"CPU seconds (user+sys, least of the runs): bcftools stats {r['bcftools_stats_cpu_s']:.2f}, "
          f"check {r['check_cpu_s']:.2f} (ratio {r['check_cpu_s'] / r['bcftools_stats_cpu_s']:.2f}); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"check verdicts: {json.dumps(r['check_result']['checks'])}")
    if args.variants_too:
        for label, seconds, rss in variants(path):
            print(f"  {label}: {seconds:.2f} s ({seconds / r['bcftools_stats_s']:.2f}x), peak RSS {rss:.1f} MiB")
    ok = r["ratio"] <= MAX_RATIO and r["check_rss_mib"] < MAX_RSS_MIB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
