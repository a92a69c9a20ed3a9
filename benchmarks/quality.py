"""Quality summary speed: fedimpute (DuckDB) against a plain pandas implementation, in one run.

    python benchmarks/quality.py [--variants 10000000] [--repeats 1]

A minimac info file of ``--variants`` variants (the 13-column layout Michigan/TOPMed
deliver: SNP, REF(0), ALT(1), ALT_Frq, MAF, AvgCall, Rsq, Genotyped, LooRsq, EmpR, EmpRsq,
Dose0, Dose1; bgzipped) is generated once with numpy into benchmarks/data/ (gitignored) and
reused.  Both implementations produce the contract's ``quality`` numbers (bins, chromosomes)
and are checked to agree.  Prints wall and CPU seconds (children included: bgzip), variants
per second and the speed-up; acceptance is at least 5x on 10 M variants.
"""

from __future__ import annotations

import argparse
import math
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fedimpute.quality import MAF_BINS, summarize_info_files

DATA = ROOT / "benchmarks" / "data"
ACCEPT = 5.0


def generate(n: int, out: Path, seed: int = 7) -> Path:
    """Columns drawn with numpy, written as TSV by DuckDB, compressed with bgzip (gzip without it)."""
    import duckdb

    rng = np.random.default_rng(seed)
    pos = np.sort(rng.choice(np.arange(60_000, 60_000 + 8 * n, dtype=np.int64), n, replace=False))
    alt_frq = np.round(rng.beta(0.2, 2.0, n), 5)
    maf = np.round(np.minimum(alt_frq, 1 - alt_frq), 5)
    r2 = np.round(np.clip(rng.normal(0.55 + 0.9 * np.sqrt(maf), 0.25), 0, 1), 5)
    bases = np.array(list("ACGT"))
    ref_i = rng.integers(0, 4, n)
    cols = {
        "pos": pos,
        "ref": bases[ref_i],
        "alt": bases[(ref_i + rng.integers(1, 4, n)) % 4],
        "af": alt_frq,
        "maf": maf,
        "r2": r2,
        "typed": rng.random(n) < 0.02,
        "call": np.round(rng.uniform(0.9, 1, n), 5),
        "loo": np.round(rng.uniform(0, 1, n), 5),
    }
    loo = "CASE WHEN typed THEN loo::VARCHAR ELSE '-' END"
    plain = out.with_suffix("")  # .info
    con = duckdb.connect()
    con.register("cols", cols)
    con.execute(f"""
        COPY (SELECT 'chr20:' || pos || ':' || ref || ':' || alt AS SNP, ref AS "REF(0)", alt AS "ALT(1)",
              af AS ALT_Frq, maf AS MAF, call AS AvgCall, r2 AS Rsq,
              CASE WHEN typed THEN 'Genotyped' ELSE 'Imputed' END AS Genotyped,
              {loo} AS LooRsq, {loo} AS EmpR, {loo} AS EmpRsq, {loo} AS Dose0, {loo} AS Dose1 FROM cols)
        TO '{plain}' (DELIMITER '\t', HEADER, QUOTE '')""")
    con.close()
    tool = ["bgzip", "-f", "-@", "2"] if shutil.which("bgzip") else ["gzip", "-f"]
    subprocess.run([*tool, str(plain)], check=True)
    plain.with_name(plain.name + ".gz").rename(out)
    return out


def pandas_summary(path: Path) -> dict:
    """The same numbers the plain way: read_csv, cut into bins, groupby."""
    import pandas as pd

    df = pd.read_csv(path, sep="\t", usecols=["SNP", "MAF", "Rsq"], na_values=["-"])
    df = df[df["Rsq"].notna()]
    edges = [lo for lo, _ in MAF_BINS] + [np.nextafter(MAF_BINS[-1][1], 1)]  # last bin closed
    df["bin"] = pd.cut(df["MAF"], edges, right=False, labels=False)
    df["ge3"], df["ge8"] = df["Rsq"] >= 0.3, df["Rsq"] >= 0.8
    by_bin = df.groupby("bin").agg(
        n=("Rsq", "size"), mean_r2=("Rsq", "mean"), f3=("ge3", "mean"), f8=("ge8", "mean")
    )
    df["chromosome"] = df["SNP"].str.split(":", n=1).str[0].str.removeprefix("chr")
    by_chrom = df.groupby("chromosome").agg(n=("Rsq", "size"), mean_r2=("Rsq", "mean"))
    bins = []
    for i, (lo, hi) in enumerate(MAF_BINS):
        row = by_bin.loc[i] if i in by_bin.index else None
        bins.append(
            {
                "maf_lo": lo,
                "maf_hi": hi,
                "n": int(row["n"]) if row is not None else 0,
                "mean_r2": row["mean_r2"] if row is not None else None,
                "frac_r2_ge_0_3": row["f3"] if row is not None else None,
                "frac_r2_ge_0_8": row["f8"] if row is not None else None,
            }
        )
    return {
        "variants": len(df),
        "bins": bins,
        "chromosomes": [
            {"chromosome": c, "n": int(r["n"]), "mean_r2": r["mean_r2"]} for c, r in by_chrom.iterrows()
        ],
    }


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, *args) -> tuple[float, float, dict]:
    wall, cpu = time.perf_counter(), _cpu()
    result = fn(*args)
    return time.perf_counter() - wall, _cpu() - cpu, result


def same_numbers(a: dict, b: dict) -> bool:
    if a["variants"] != b["variants"] or len(a["chromosomes"]) != len(b["chromosomes"]):
        return False
    pairs = list(zip(a["bins"], b["bins"], strict=True)) + list(
        zip(a["chromosomes"], b["chromosomes"], strict=True)
    )
    for x, y in pairs:
        for key, value in x.items():
            other = y[key]
            if isinstance(value, float) and not math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-12):
                return False
            if not isinstance(value, float) and value != other:
                return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=1, help="alternating runs of each; medians compared")
    args = parser.parse_args()
    path = DATA / f"quality-{args.variants}.info.gz"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        wall, _, _ = timed(generate, args.variants, path)
        print(f"generated {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.0f} MB) in {wall:.0f} s")
    ours, theirs = [], []
    for _ in range(args.repeats):
        ours.append(timed(summarize_info_files, [path]))
        theirs.append(timed(pandas_summary, path))
    if not same_numbers(ours[0][2], theirs[0][2]):
        print("MISMATCH: fedimpute and pandas disagree", ours[0][2], theirs[0][2], sep="\n")
        return 1
    o_wall, o_cpu = float(np.median([t[0] for t in ours])), float(np.median([t[1] for t in ours]))
    p_wall, p_cpu = float(np.median([t[0] for t in theirs])), float(np.median([t[1] for t in theirs]))
    n = ours[0][2]["variants"]
    print(f"variants: {n:,} (file {path.stat().st_size / 1e6:.0f} MB gzip); both agree on every number")
    print(
        f"fedimpute (DuckDB): {o_wall:6.2f} s wall, {o_cpu:6.2f} s CPU, {n / o_wall / 1e6:5.2f} M variants/s"
    )
    print(
        f"pandas baseline:    {p_wall:6.2f} s wall, {p_cpu:6.2f} s CPU, {n / p_wall / 1e6:5.2f} M variants/s"
    )
    speedup = p_wall / o_wall
    print(
        f"speed-up: {speedup:.1f}x wall ({p_cpu / o_cpu:.1f}x CPU); acceptance >= {ACCEPT:g}x: "
        f"{'PASS' if speedup >= ACCEPT else 'FAIL'}"
    )
    return 0 if speedup >= ACCEPT else 1


if __name__ == "__main__":
    sys.exit(main())
