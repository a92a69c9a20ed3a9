"""Quality summary speed: fedimpute (DuckDB; libdeflate and a C scanner for info VCFs) against pandas, in one run.

    python benchmarks/quality.py [--variants 10000000] [--repeats 1] [--layout both|table|vcf]

Two layouts of ``--variants`` variants each, generated once with numpy into benchmarks/data/
(gitignored), bgzipped, and reused:

* ``table``: the minimac info table Michigan/TOPMed delivered before minimac4 4.x (13 columns:
  SNP, REF(0), ALT(1), ALT_Frq, MAF, AvgCall, Rsq, Genotyped, LooRsq, EmpR, EmpRsq, Dose0, Dose1);
* ``vcf``: the minimac4 info VCF Michigan 2 / TOPMed deliver as ``chrN.info.gz`` (``minimac4
  --sites``: sites only, INFO ``AF;MAF;AVG_CS;R2[;ER2;TYPED];IMPUTED``), under that same name.

Both implementations produce the contract's ``quality`` numbers (bins, chromosomes) from the same
file and are checked to agree on every number.  Prints wall and CPU seconds (children included:
bgzip), variants per second and the speed-up; acceptance on 10 M variants is at least 5x for the
table and 10x for the info VCF.
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

from fedimpute.quality import MAF_BINS, summarize_info_files  # noqa: E402  (importable once the checkout is on sys.path)

DATA = ROOT / "benchmarks" / "data"
ACCEPT = {"table": 5.0, "vcf": 10.0}
VCF_HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##source=Minimac v4.1.2
##phasing=full
##contig=<ID=chr20>
##INFO=<ID=AF,Number=1,Type=Float,Description="Estimated Alternate Allele Frequency">
##INFO=<ID=MAF,Number=1,Type=Float,Description="Estimated Minor Allele Frequency">
##INFO=<ID=AVG_CS,Number=1,Type=Float,Description="Average Call Score">
##INFO=<ID=R2,Number=1,Type=Float,Description="Estimated Imputation Accuracy (R-square)">
##INFO=<ID=ER2,Number=1,Type=Float,Description="Empirical (Leave-One-Out) R-square">
##INFO=<ID=IMPUTED,Number=0,Type=Flag,Description="Marker was imputed">
##INFO=<ID=TYPED,Number=0,Type=Flag,Description="Marker was genotyped">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""


def _columns(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Positions, alleles, frequencies and R² drawn with numpy (R² grows with MAF, as real ones do)."""
    rng = np.random.default_rng(seed)
    pos = np.sort(rng.choice(np.arange(60_000, 60_000 + 8 * n, dtype=np.int64), n, replace=False))
    alt_frq = np.round(rng.beta(0.2, 2.0, n), 5)
    maf = np.round(np.minimum(alt_frq, 1 - alt_frq), 5)
    r2 = np.round(np.clip(rng.normal(0.55 + 0.9 * np.sqrt(maf), 0.25), 0, 1), 6)
    bases = np.array(list("ACGT"))
    ref_i = rng.integers(0, 4, n)
    return {
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


_TABLE_SQL = """
    SELECT 'chr20:' || pos || ':' || ref || ':' || alt AS SNP, ref AS "REF(0)", alt AS "ALT(1)",
           af AS ALT_Frq, maf AS MAF, call AS AvgCall, r2 AS Rsq,
           CASE WHEN typed THEN 'Genotyped' ELSE 'Imputed' END AS Genotyped,
           {loo} AS LooRsq, {loo} AS EmpR, {loo} AS EmpRsq, {loo} AS Dose0, {loo} AS Dose1 FROM cols"""
_VCF_SQL = """
    SELECT 'chr20' AS c, pos, 'chr20:' || pos || ':' || ref || ':' || alt AS id, ref, alt, '.' AS q, '.' AS f,
           'AF=' || af || ';MAF=' || maf || ';AVG_CS=' || call || ';R2=' || r2 ||
           CASE WHEN typed THEN ';ER2=' || loo || ';TYPED' ELSE '' END || ';IMPUTED' AS info FROM cols"""


def generate(n: int, out: Path, layout: str) -> Path:
    """The layout's text written by DuckDB, compressed with bgzip (gzip without it) under ``out``'s name."""
    import duckdb

    plain = out.with_name(out.name.removesuffix(".gz"))
    con = duckdb.connect()
    con.register("cols", _columns(n))
    if layout == "table":
        loo = "CASE WHEN typed THEN loo::VARCHAR ELSE '-' END"
        con.execute(f"COPY ({_TABLE_SQL.format(loo=loo)}) TO '{plain}' (DELIMITER '\t', HEADER, QUOTE '')")
    else:
        body = plain.with_name(plain.name + ".body")
        con.execute(f"COPY ({_VCF_SQL}) TO '{body}' (DELIMITER '\t', HEADER false, QUOTE '')")
        with plain.open("wb") as fh, body.open("rb") as rows:
            fh.write(VCF_HEADER.encode())
            shutil.copyfileobj(rows, fh, 1 << 20)
        body.unlink()
    con.close()
    tool = ["bgzip", "-f", "-@", "2"] if shutil.which("bgzip") else ["gzip", "-f"]
    subprocess.run([*tool, str(plain)], check=True)
    return out


def _pandas_table(path: Path):
    """The info table: three columns read, '-' is missing."""
    import pandas as pd

    df = pd.read_csv(path, sep="\t", usecols=["SNP", "MAF", "Rsq"], na_values=["-"])
    df["chromosome"] = df["SNP"].str.split(":", n=1).str[0]
    return df.rename(columns={"Rsq": "r2", "MAF": "maf"})[["chromosome", "maf", "r2"]]


def _pandas_vcf(path: Path):
    """The info VCF: header lines skipped as comments, CHROM and INFO read, MAF and R2 cut out of INFO."""
    import pandas as pd

    df = pd.read_csv(path, sep="\t", comment="#", header=None, usecols=[0, 7], names=["chromosome", "info"])
    for tag in ("MAF", "R2"):
        df[tag.lower()] = pd.to_numeric(
            df["info"].str.extract(f"(?:^|;){tag}=([^;]*)", expand=False), errors="coerce"
        )
    return df[["chromosome", "maf", "r2"]]


def pandas_summary(path: Path, layout: str) -> dict:
    """The same numbers the plain way: read_csv, cut into bins, groupby."""
    import pandas as pd

    df = _pandas_table(path) if layout == "table" else _pandas_vcf(path)
    df = df[df["r2"].notna()].copy()
    edges = [lo for lo, _ in MAF_BINS] + [np.nextafter(MAF_BINS[-1][1], 1)]  # last bin closed
    df["bin"] = pd.cut(df["maf"], edges, right=False, labels=False)
    df["ge3"], df["ge8"] = df["r2"] >= 0.3, df["r2"] >= 0.8
    by_bin = df.groupby("bin").agg(
        n=("r2", "size"), mean_r2=("r2", "mean"), f3=("ge3", "mean"), f8=("ge8", "mean")
    )
    df["chromosome"] = df["chromosome"].str.removeprefix("chr")
    by_chrom = df.groupby("chromosome").agg(n=("r2", "size"), mean_r2=("r2", "mean"))
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


def _data_file(n: int, layout: str) -> Path:
    """Generated once and reused; the info VCF carries Michigan 2's name, the content says what it is."""
    path = DATA / f"quality-{n}-{layout}" / "chr20.info.gz"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        wall, _, _ = timed(generate, n, path, layout)
        print(f"generated {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.0f} MB) in {wall:.0f} s")
    return path


def run(n: int, layout: str, repeats: int) -> bool:
    """Alternating runs of each implementation on one layout; prints the figures, True when accepted."""
    path = _data_file(n, layout)
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(timed(summarize_info_files, [path]))
        theirs.append(timed(pandas_summary, path, layout))
    if not same_numbers(ours[0][2], theirs[0][2]):
        print(f"[{layout}] MISMATCH: fedimpute and pandas disagree", ours[0][2], theirs[0][2], sep="\n")
        return False
    o_wall, o_cpu = float(np.median([t[0] for t in ours])), float(np.median([t[1] for t in ours]))
    p_wall, p_cpu = float(np.median([t[0] for t in theirs])), float(np.median([t[1] for t in theirs]))
    variants = ours[0][2]["variants"]
    print(
        f"[{layout}] variants: {variants:,} ({path.relative_to(ROOT)}, {path.stat().st_size / 1e6:.0f} MB "
        f"gzip); both agree on every number"
    )
    print(
        f"[{layout}] fedimpute:          {o_wall:6.2f} s wall, {o_cpu:6.2f} s CPU, "
        f"{variants / o_wall / 1e6:5.2f} M variants/s"
    )
    print(
        f"[{layout}] pandas baseline:    {p_wall:6.2f} s wall, {p_cpu:6.2f} s CPU, "
        f"{variants / p_wall / 1e6:5.2f} M variants/s"
    )
    speedup = p_wall / o_wall
    ok = speedup >= ACCEPT[layout]
    print(
        f"[{layout}] speed-up: {speedup:.1f}x wall ({p_cpu / o_cpu:.1f}x CPU); acceptance >= "
        f"{ACCEPT[layout]:g}x: {'PASS' if ok else 'FAIL'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=1, help="alternating runs of each; medians compared")
    parser.add_argument("--layout", choices=["both", "table", "vcf"], default="both")
    args = parser.parse_args()
    layouts = ["table", "vcf"] if args.layout == "both" else [args.layout]
    results = [run(args.variants, layout, args.repeats) for layout in layouts]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
