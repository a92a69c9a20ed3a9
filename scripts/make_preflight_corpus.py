"""Write the labelled corpus of small VCF files the pre-flight tests run against.

    python scripts/make_preflight_corpus.py [OUT_DIR]     (default tests/data/preflight)

Every file is built from a seeded random generator, so the output is the same byte for byte on
every run (BGZF through fedimpute.bgzf.BgzfWriter, plain gzip with mtime 0).  Next to the files
it writes ``expected.json``: for each file, the options to check it with, and the check id,
status and message substring it must get (``check: null`` means: no check may fail).
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fedimpute.bgzf import BgzfWriter  # noqa: E402 - after the sys.path line

HG19_CHR20, HG38_CHR20, HG19_X = 63_025_520, 64_444_167, 155_270_560
COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}
# non-ambiguous REF/ALT pairs (A/T and C/G would hide a flip)
PAIRS = [("A", "C"), ("A", "G"), ("C", "A"), ("C", "T"), ("G", "A"), ("G", "T"), ("T", "C"), ("T", "G")]


def header(samples: list[str], contigs: dict[str, int] | None = None, extra: tuple[str, ...] = ()) -> list[str]:
    lines = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID={c},length={n}>" for c, n in (contigs or {}).items()]
    lines += list(extra)
    lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    lines.append("\t".join(COLUMNS + samples))
    return lines


def names(n: int, prefix: str = "S") -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(n)]


def genotypes(rng: random.Random, n: int, *, phased: bool = False, missing: float = 0.0) -> list[str]:
    """Calls of one polymorphic site (at least one ALT allele)."""
    sep = "|" if phased else "/"
    freq = rng.uniform(0.15, 0.5)
    calls = []
    for _ in range(n):
        if rng.random() < missing:
            calls.append(f".{sep}.")
        else:
            calls.append(f"{int(rng.random() < freq)}{sep}{int(rng.random() < freq)}")
    if not any("1" in c for c in calls):
        calls[0] = f"0{sep}1"
    return calls


def sites(rng: random.Random, count: int, start: int = 100_000, step: tuple[int, int] = (500, 5_000)) -> list[int]:
    positions, pos = [], start
    for _ in range(count):
        pos += rng.randint(*step)
        positions.append(pos)
    return positions


def record(chrom: str, pos: int, vid: str, ref: str, alt: str, calls: list[str], fmt: str = "GT") -> str:
    return "\t".join([chrom, str(pos), vid, ref, alt, ".", "PASS", ".", fmt, *calls])


def simple(chrom: str = "20", n: int = 25, count: int = 40, *, seed: int = 1, phased: bool = False,
           contigs: dict[str, int] | None = None, extra: tuple[str, ...] = (), sample_names: list[str] | None = None,
           start: int = 100_000) -> list[str]:
    """A clean file: polymorphic biallelic SNPs on one chromosome."""
    rng = random.Random(seed)
    samples = sample_names or names(n)
    lines = header(samples, contigs if contigs is not None else {chrom: HG19_CHR20}, extra)
    for i, pos in enumerate(sites(rng, count, start)):
        ref, alt = rng.choice(PAIRS)
        lines.append(record(chrom, pos, f"rs{seed * 1000 + i}", ref, alt, genotypes(rng, len(samples), phased=phased)))
    return lines


def write_bgzf(path: Path, lines: list[str]) -> None:
    with BgzfWriter(path) as fh:
        fh.write("\n".join(lines) + "\n")


def write_gzip(path: Path, lines: list[str]) -> None:
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(("\n".join(lines) + "\n").encode())


# -- the bad files -----------------------------------------------------------------------------


def unsorted() -> list[str]:
    lines = simple(seed=3)
    body = lines[4:]
    body[10], body[20] = body[20], body[10]
    return lines[:4] + body


def two_chromosomes() -> list[str]:
    a = simple("20", seed=4, contigs={"20": HG19_CHR20, "21": 48_129_895})
    b = simple("21", seed=5, contigs={})
    return a + [line for line in b if not line.startswith("#")]


def with_rows(rows: list[tuple[str, str, list[str] | None]], *, seed: int, chrom: str = "20", n: int = 25,
              every: int = 4, count: int = 40) -> list[str]:
    """A clean file in which every ``every``-th record is replaced by the given (REF, ALT, calls)."""
    rng = random.Random(seed)
    lines = header(names(n), {chrom: HG19_CHR20})
    special = iter(rows)
    for i, pos in enumerate(sites(rng, count)):
        ref, alt = rng.choice(PAIRS)
        calls = genotypes(rng, n)
        if i % every == 1:
            row = next(special, None)
            if row is not None:
                ref, alt, custom = row
                calls = custom or calls
        lines.append(record(chrom, pos, f"rs{seed * 1000 + i}", ref, alt, calls))
    return lines


def duplicate_sites() -> list[str]:
    lines = simple(seed=8)
    body = lines[4:]
    for i in (5, 15, 25):
        body.insert(i + 1, body[i])
    return lines[:4] + body


def low_call_rate_sample() -> list[str]:
    lines = simple(seed=11)
    out = lines[:4]
    for line in lines[4:]:
        fields = line.split("\t")
        fields[9 + 2] = "./."  # sample S002 is never called
        out.append("\t".join(fields))
    return out


def chr_x(mixed_ploidy: bool = False, half_missing: bool = False) -> list[str]:
    """chrX hg19 with 10 haploid males and 15 diploid females; PAR1 sites are diploid for all."""
    rng = random.Random(13 + mixed_ploidy + 2 * half_missing)
    n, males = 25, set(range(10))
    lines = header(names(n), {"X": HG19_X})
    positions = sites(rng, 10, start=2_600_000, step=(1_000, 5_000)) + sites(rng, 40, start=3_000_000)
    for i, pos in enumerate(positions):
        ref, alt = rng.choice(PAIRS)
        calls = genotypes(rng, n)
        if pos > 2_699_520:  # nonPAR
            calls = [c[0] if s in males else c for s, c in enumerate(calls)]
            if mixed_ploidy and i % 2 == 0:
                calls[0] = "0/1"  # male S000 diploid at half of the sites
            if half_missing:
                calls[20] = "./1" if i % 3 == 0 else calls[20]
        if not any("1" in c for c in calls):
            calls[-1] = "0/1"
        lines.append(record("X", pos, f"rsx{i}", ref, alt, calls))
    return lines


def wgs_density() -> list[str]:
    """20,500 records within 10 Mb: sequencing density (1 sample keeps the file small)."""
    lines = header(["S000"], {"20": HG19_CHR20})
    for i in range(20_500):
        lines.append(f"20\t{1_000_001 + 400 * i}\t.\tA\tC\t.\tPASS\t.\tGT\t0/1")
    return lines


def panel_lines(rng: random.Random, count: int) -> tuple[list[tuple[int, str, str]], list[str]]:
    positions = sites(rng, count)
    panel = [(pos, *rng.choice(PAIRS)) for pos in positions]
    return panel, ["CHROM\tPOS\tREF\tALT"] + [f"20\t{p}\t{r}\t{a}" for p, r, a in panel]


def against_panel(panel: list[tuple[int, str, str]], how: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    lines = header(names(20), {"20": HG19_CHR20})
    for i, (pos, ref, alt) in enumerate(panel):
        if how == "flip":
            ref, alt = COMPLEMENT[ref], COMPLEMENT[alt]
        elif how == "switch":
            ref, alt = alt, ref
        lines.append(record("20", pos, f"rs{i}", ref, alt, genotypes(rng, 20)))
    return lines


def not_tab_delimited() -> list[str]:
    return [line.replace("\t", " ") if not line.startswith("##") else line for line in simple(seed=17)]


# -- the corpus ------------------------------------------------------------------------------


def build(out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict] = {}

    def add(name: str, lines: list[str] | None, check: str | None, status: str, message: str, writer=write_bgzf,
            **options) -> None:
        if lines is not None:
            writer(out / name, lines)
        expected[name] = {"check": check, "status": status, "message": message, "options": options}

    # good files: no check may fail
    add("good_hg19_chr20.vcf.gz", simple(seed=1), None, "pass", "", build="hg19", min_samples=20)
    add("good_hg38_chr20_phased.vcf.gz", simple("chr20", seed=2, phased=True, contigs={"chr20": HG38_CHR20},
                                                extra=("##reference=GRCh38",)), None, "pass", "", build="auto",
        phasing="no_phasing")
    add("good_chrX_hg19.vcf.gz", chr_x(), None, "pass", "", build="hg19")
    panel, panel_tsv = panel_lines(random.Random(21), 150)
    (out / "panel_sites.tsv").write_text("\n".join(panel_tsv) + "\n")
    add("good_against_panel.vcf.gz", against_panel(panel, "same", 22), None, "pass", "", build="hg19",
        sites="panel_sites.tsv")

    # compression and file format
    add("plain_gzip.vcf.gz", simple(seed=30), "compression", "fail", "plain gzip", writer=write_gzip)
    add("uncompressed.vcf", None, "compression", "fail", "not compressed")
    (out / "uncompressed.vcf").write_text("\n".join(simple(seed=31)) + "\n")
    add("header_only.vcf.gz", header(names(25), {"20": HG19_CHR20}), "records", "fail",
        "No genotypes found in the VCF file")
    good = (out / "good_hg19_chr20.vcf.gz").read_bytes()
    (out / "truncated.vcf.gz").write_bytes(good[: len(good) // 2])
    add("truncated.vcf.gz", None, "integrity", "fail", "truncated")
    gzipped = gzip.compress(("\n".join(simple(seed=42)) + "\n").encode(), mtime=0)
    (out / "truncated_plain_gzip.vcf.gz").write_bytes(gzipped[: len(gzipped) * 2 // 3])
    add("truncated_plain_gzip.vcf.gz", None, "integrity", "fail", "truncated")
    (out / "no_eof_block.vcf.gz").write_bytes(good[:-28])
    add("no_eof_block.vcf.gz", None, "compression", "warn", "end-of-file block is missing")
    (out / "random_bytes.vcf.gz").write_bytes(random.Random(40).randbytes(3000))
    add("random_bytes.vcf.gz", None, "file", "fail", "binary data")
    (out / "empty.vcf.gz").write_bytes(b"")
    add("empty.vcf.gz", None, "file", "fail", "empty")
    add("not_tab_delimited.vcf.gz", not_tab_delimited(), "header", "fail", "not tab-delimited")
    add("windows_line_ends.vcf.gz", [line + "\r" for line in simple(seed=41)], "header", "fail",
        "Windows line breaks")

    # order and chromosomes
    add("unsorted.vcf.gz", unsorted(), "sorted", "fail", "not sorted by position")
    add("two_chromosomes.vcf.gz", two_chromosomes(), "one_chromosome", "fail", "contains more than one chromosome")
    add("chr20_under_hg19.vcf.gz", simple("chr20", seed=6, contigs={}), "chromosome_naming", "fail",
        "This is not a valid hg19 encoding", build="hg19")
    add("20_under_hg38.vcf.gz", simple("20", seed=7, contigs={}), "chromosome_naming", "fail",
        "This is not a valid hg38 encoding", build="hg38")
    add("invalid_chromosome.vcf.gz", simple("chr25", seed=9, contigs={}), "chromosome_names", "fail",
        "Invalid chromosome found: chr25")
    add("beyond_hg19_end.vcf.gz", simple("20", seed=10, contigs={}, start=63_500_000), "build", "fail",
        "looks like hg38", build="hg19")
    add("too_sparse.vcf.gz", simple(seed=12, count=2), "chunks", "fail", "fewer than 3 usable SNPs")

    # samples
    add("no_samples.vcf.gz", ["\t".join(line.split("\t")[:8]) for line in simple(seed=14)], "samples", "fail",
        "no samples")
    dup = names(25)
    dup[7] = "S003"
    add("duplicate_sample_ids.vcf.gz", simple(seed=15, sample_names=dup), "sample_ids", "fail",
        "Two individuals or more have the following ID: S003")
    add("too_few_samples.vcf.gz", simple(seed=16, n=5), "samples", "fail", "At least 20 samples must be uploaded",
        min_samples=20)
    add("too_many_samples.vcf.gz", simple(seed=18, n=30), "samples", "fail",
        "The maximum allowed number of samples is 20", max_samples=20)
    add("samples25_chr21.vcf.gz", simple("21", seed=19, contigs={"21": 48_129_895}), None, "pass", "")
    add("samples20_chr22.vcf.gz", simple("22", seed=20, n=20, contigs={"22": 51_304_566}), "same_samples", "fail",
        "same amount of samples (20 vs 25)", together_with=["samples25_chr21.vcf.gz"])

    # variants
    add("ref_equals_alt.vcf.gz", with_rows([("A", "A", None)], seed=23), "ref_alt", "fail",
        "reference allele (A) and alternate allele  (A) are the same")
    add("multiallelic.vcf.gz", with_rows([("A", "C,G", None)] * 3, seed=24), "multiallelic", "warn",
        "3 of 40 records are multi-allelic")
    add("indels.vcf.gz", with_rows([("A", "AT", None), ("GTC", "G", None)], seed=25), "non_snp", "warn",
        "2 of 40 records are non-SNP")
    add("duplicate_sites.vcf.gz", duplicate_sites(), "duplicates", "warn", "3 of 43 records are duplicate sites")
    mono = ["0/0"] * 25
    add("monomorphic.vcf.gz", with_rows([("A", "C", mono)] * 4, seed=26), "monomorphic", "warn",
        "4 of 40 records are monomorphic")
    sparse = ["./."] * 5 + ["0/1"] * 20
    add("low_call_rate_snps.vcf.gz", with_rows([("C", "T", sparse)] * 2, seed=27), "site_call_rate", "warn",
        "2 of 40 records are SNPs with call rate < 90%")
    add("low_call_rate_sample.vcf.gz", low_call_rate_sample(), "sample_call_rate", "fail",
        "S002 (0%)")
    add("unphased_no_phasing.vcf.gz", simple(seed=28), "phasing", "fail",
        "Your input data is unphased. Please select an algorithm for phasing.", phasing="no_phasing")
    add("chrX_mixed_ploidy.vcf.gz", chr_x(mixed_ploidy=True), "chrx_ploidy", "fail",
        "ChrX nonPAR region includes ambiguous samples (haploid and diploid positions)", build="hg19")
    add("chrX_half_missing.vcf.gz", chr_x(half_missing=True), "chrx_mixed", "fail",
        "Chromosome X nonPAR region includes > 10 % mixed genotypes", build="hg19")
    add("wgs_density.vcf.gz", wgs_density(), "wgs_density", "warn", "more than 20,000 records")

    # against the panel's sites
    add("strand_flips.vcf.gz", against_panel(panel, "flip", 32), "strand_flips", "fail",
        "More than 100 obvious strand flips have been detected (150", build="hg19", sites="panel_sites.tsv")
    add("allele_switches.vcf.gz", against_panel(panel, "switch", 33), "allele_switches", "fail",
        "More than 100 allele switches have been detected (150", build="hg19", sites="panel_sites.tsv")
    add("off_panel.vcf.gz", simple(seed=34, count=30), "panel_overlap", "fail", "reference overlap 0.0%",
        build="hg19", sites="panel_sites.tsv")

    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    (out / "README.md").write_text(README)
    return expected


README = """# Pre-flight corpus

Small VCF files, each broken in one way (or not at all), written by
`scripts/make_preflight_corpus.py` from seeded random generators: run it again and the bytes are
the same (`tests/preflight/test_corpus.py` checks that).  Nothing here comes from real people.

`expected.json` lists, per file, the options to check it with (`build`, `phasing`, `sites`,
`min_samples`/`max_samples` for a service, `together_with` for multi-file cases) and the check id,
status and message substring it must get; `check: null` means no check may fail.  Messages quote
the Cloudgene servers' own wording where they have one (imputationserver-utils
InputValidationCommand, StatisticsTask, QualityControlCommand).  `panel_sites.tsv` stands in for a
reference panel's sites (CHROM POS REF ALT) for the strand, allele-switch and overlap cases.
"""


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "preflight"
    expected = build(out)
    print(f"wrote {len(expected)} corpus files and expected.json to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
