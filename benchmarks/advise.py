"""Speed and memory of the panel advisor against bcftools doing the comparable work on the same files.

Generates once (cached under ``benchmarks/data/advise/``, which git ignores) a panel sites file of
5,000,000 SNPs (VCF.gz with AF, indexed) and an unphased cohort of 1,000,000 of those SNPs x 500
samples (about 2 GB of text; 1% of its SNPs strand-flipped and 1% allele-switched), then times, each
in its own process and interleaved:

- ``bcftools isec -n=2 -w1`` on the two files plus one ``bcftools +fill-tags -t AF`` pass over the cohort
  (output as uncompressed BCF to /dev/null, the cheapest bcftools can write): what it takes to find the
  shared sites and the cohort's allele frequencies with bcftools;
- ``fedimpute.advise.advise`` on the cohort with the panel registered (``panels add-sites``, done once
  and timed on its own): overlap per chunk, allele classes, frequency concordance and the ranking.

It prints both wall times, their ratio and the peak RSS of each.  The acceptance figures: the advice
takes at most 2x the bcftools time, with a peak RSS under 500 MiB.

    python benchmarks/advise.py [--variants 1000000] [--samples 500] [--panel-sites 5000000] [--repeat 2]

Exit code 0 when both figures hold, 1 otherwise.
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
DATA = ROOT / "benchmarks" / "data" / "advise"
MAX_RATIO = 2.0
MAX_RSS_MIB = 500
CHROM_LENGTH = 63_025_520  # chromosome 20 (hg19)
BASES = np.frombuffer(b"ACGT", np.uint8)

REGISTER = r"""
import json, sys
from pathlib import Path
from fedimpute.advise import register_sites
from fedimpute.store import Store
table = register_sites(Store().get_service("bench"), "panel", Path(sys.argv[1]))
print(json.dumps({"sites": table.manifest["sites"]}))
"""
ADVISE = r"""
import json, sys
from fedimpute.advise import advise
advice = advise([sys.argv[1]], services=["bench"])
row = advice.ranking[0]
print(json.dumps({"typed": advice.typed, "overlap": row.overlap, "strand_flips": row.strand_flips,
                  "allele_switches": row.allele_switches, "af_correlation": row.af_correlation,
                  "expected_r2": row.expected_r2}))
"""


def _bgzip(path: Path) -> subprocess.Popen:
    return subprocess.Popen(["bgzip", "-@2", "-c"], stdin=subprocess.PIPE, stdout=path.open("wb"))


def _finish(proc: subprocess.Popen, tmp: Path, path: Path) -> None:
    proc.stdin.close()
    if proc.wait():
        raise RuntimeError(f"bgzip failed while writing {path.name}")
    tmp.rename(path)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)


def _panel_arrays(sites: int, seed: int = 11) -> dict[str, np.ndarray]:
    """``sites`` sorted positions over chromosome 20, REF/ALT codes (0-3 for A, C, G, T) and AF."""
    rng = np.random.default_rng(seed)
    step = (CHROM_LENGTH - 100_000) // sites
    pos = 60_000 + np.cumsum(rng.integers(1, 2 * step, size=sites))
    ref = rng.integers(0, 4, size=sites)
    return {"pos": pos, "ref": ref, "alt": (ref + rng.integers(1, 4, size=sites)) % 4,
            "af": rng.beta(0.4, 1.2, size=sites).clip(0.0005, 0.9995)}


def generate_panel(path: Path, panel: dict[str, np.ndarray]) -> None:
    """The panel's sites VCF (``20 POS . REF ALT . PASS AF=...``), bgzipped and indexed."""
    tmp = path.with_suffix(".tmp")
    bgzip = _bgzip(tmp)
    header = ["##fileformat=VCFv4.2", f"##contig=<ID=20,length={CHROM_LENGTH}>",
              '##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency">',
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    bgzip.stdin.write(("\n".join(header) + "\n").encode())
    for start in range(0, len(panel["pos"]), 500_000):
        part = {k: v[start:start + 500_000].tolist() for k, v in panel.items()}
        lines = [f"20\t{p}\t.\t{'ACGT'[r]}\t{'ACGT'[a]}\t.\tPASS\tAF={f:.4f}\n"
                 for p, r, a, f in zip(part["pos"], part["ref"], part["alt"], part["af"], strict=True)]
        bgzip.stdin.write("".join(lines).encode())
    _finish(bgzip, tmp, path)


def generate_cohort(path: Path, panel: dict[str, np.ndarray], variants: int, samples: int, seed: int = 7) -> None:
    """Evenly spaced panel SNPs, genotypes drawn from the panel's AF (Hardy-Weinberg), 0.5% missing calls;
    1% of the SNPs strand-flipped and 1% allele-switched (their REF/ALT columns rewritten)."""
    rng = np.random.default_rng(seed)
    keep = np.linspace(0, len(panel["pos"]) - 1, variants).astype(np.int64)
    tmp = path.with_suffix(".tmp")
    bgzip = _bgzip(tmp)
    header = ["##fileformat=VCFv4.2", f"##contig=<ID=20,length={CHROM_LENGTH}>", "##reference=GRCh37",
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
                        + [f"S{i:05d}" for i in range(samples)])]
    bgzip.stdin.write(("\n".join(header) + "\n").encode())
    calls = np.frombuffer(b"0/0\t0/1\t1/1\t./.\t", dtype=np.uint8).reshape(4, 4)
    for start in range(0, variants, 10_000):
        rows = keep[start:start + 10_000]
        freq = panel["af"][rows][:, None]
        code = (rng.random((len(rows), samples)) < freq).astype(np.uint8)
        code += rng.random((len(rows), samples)) < freq
        code[rng.random((len(rows), samples)) < 0.005] = 3
        block = calls[code].reshape(len(rows), samples * 4)
        block[:, -1] = ord("\n")
        ref, alt = panel["ref"][rows].copy(), panel["alt"][rows].copy()
        plant = rng.random(len(rows))
        flip, switch = plant < 0.01, (plant >= 0.01) & (plant < 0.02)
        ref[flip], alt[flip] = 3 - ref[flip], 3 - alt[flip]  # A<->T, C<->G with codes 0-3
        ref[switch], alt[switch] = alt[switch], ref[switch].copy()
        out = bytearray()
        for i, (p, r, a) in enumerate(zip(panel["pos"][rows].tolist(), ref.tolist(), alt.tolist(), strict=True)):
            out += f"20\t{p}\t.\t{'ACGT'[r]}\t{'ACGT'[a]}\t.\tPASS\t.\tGT\t".encode()
            out += block[i].tobytes()
        bgzip.stdin.write(bytes(out))
    _finish(bgzip, tmp, path)


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one command in its own process."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    stdout = proc.stdout.read()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{argv[0]} failed: {stderr.decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout.decode()


def prepare(variants: int, samples: int, panel_sites: int) -> tuple[Path, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    panel = DATA / f"panel-{panel_sites}.sites.vcf.gz"
    cohort = DATA / f"cohort-{variants}x{samples}-of-{panel_sites}.vcf.gz"
    if not panel.exists() or not cohort.exists():
        t = time.perf_counter()
        arrays = _panel_arrays(panel_sites)
        if not panel.exists():
            generate_panel(panel, arrays)
        generate_cohort(cohort, arrays, variants, samples)
        print(f"generated {panel.name} ({panel.stat().st_size / 2**20:.0f} MiB) and {cohort.name} "
              f"({cohort.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.0f} s")
    return panel, cohort


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--panel-sites", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for tool in ("bgzip", "tabix", "bcftools"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: apt-get install bcftools tabix", file=sys.stderr)
            return 1
    if args.generate_only:
        prepare(args.variants, args.samples, args.panel_sites)
        return 0
    # the data is made in a child process: a large parent would inflate the measured children's peak RSS
    subprocess.run([sys.executable, __file__, "--generate-only", "--variants", str(args.variants), "--samples",
                    str(args.samples), "--panel-sites", str(args.panel_sites)], check=True)
    panel, cohort = prepare(args.variants, args.samples, args.panel_sites)
    home = DATA / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "FEDIMPUTE_HOME": str(home), "FEDIMPUTE_SECRETS": "file"}
    subprocess.run([sys.executable, "-m", "fedimpute", "services", "add", "bench", "--protocol", "wes", "--url",
                    "http://127.0.0.1:9"], check=True, cwd=ROOT, env=env, capture_output=True)
    reg_s, reg_rss, _ = _run([sys.executable, "-c", REGISTER, str(panel)], env)
    bcf, mine = [], []
    for _ in range(args.repeat):  # interleaved: both see the same load on a shared machine
        isec = _run(["bcftools", "isec", "-n=2", "-w1", "-Ou", "-o", "/dev/null", str(cohort), str(panel)])
        fill = _run(["bcftools", "+fill-tags", str(cohort), "-Ou", "-o", "/dev/null", "--", "-t", "AF"])
        bcf.append((isec[0] + fill[0], max(isec[1], fill[1]), isec[0], fill[0]))
        mine.append(_run([sys.executable, "-c", ADVISE, str(cohort)], env))
    best_bcf, best_mine = min(bcf), min(mine)
    ratio = best_mine[0] / best_bcf[0]
    rss = max(m[1] for m in mine)
    result = json.loads(best_mine[2])
    print(f"cohort {cohort.name} ({cohort.stat().st_size / 2**20:.0f} MiB), panel {panel.name} "
          f"({panel.stat().st_size / 2**20:.0f} MiB); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"bcftools isec + fill-tags: {best_bcf[0]:6.2f} s (isec {best_bcf[2]:.2f} s, fill-tags {best_bcf[3]:.2f} s)"
          f"  peak RSS {max(b[1] for b in bcf):6.1f} MiB  (runs {[round(b[0], 2) for b in bcf]})")
    print(f"fedimpute advise:          {best_mine[0]:6.2f} s  peak RSS {rss:6.1f} MiB  "
          f"(runs {[round(m[0], 2) for m in mine]})")
    print(f"ratio advise / bcftools:   {ratio:6.2f}  (limit {MAX_RATIO}); RSS limit {MAX_RSS_MIB} MiB")
    print(f"one-off registration (panels add-sites, 5 M sites to Parquet): {reg_s:.2f} s, peak RSS {reg_rss:.1f} MiB")
    print(f"advice: {json.dumps(result)}")
    ok = ratio <= MAX_RATIO and rss < MAX_RSS_MIB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
