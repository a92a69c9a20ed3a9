"""The workflow chunks a chromosome like the imputation servers do and ligates it back losslessly.

The 1 Mb CI fixture (chr20:100,192-1,099,641) is cut into four ~300 kb chunks: enough chunks and
borders to test ligation.  The accuracy test needs 500 kb flanks: rare variants are imputed from long
shared haplotypes, and on this simulation (growth model, 400 panel haplotypes) shorter flanks cut that
context and cost rare-bin r² (eagle + minimac4, <0.5% / 0.5-1% / 1-5% / >5%, unchunked 0.166 / 0.503 /
0.859 / 0.978; flank 100 kb 0.091 / 0.534 / 0.821 / 0.976, 300 kb 0.151 / 0.514 / 0.855 / 0.977,
400 kb 0.164 / 0.524 / 0.861 / 0.978, 500 kb 0.171 / 0.507 / 0.863 / 0.979).  minimac4's own
chunking (--region with --overlap) loses the same with the same overlap, so this is the method, not
the ligation; a flank covering the whole region gives the unchunked numbers exactly.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

from fedimpute.engine.panels import panel_workflow_params
from fedimpute.engine.scoring import score_against_truth
from fedimpute.engine.workflow import workflow_path
from tests.engine.conftest import FIXTURE
from tests.engine.test_workflow import _assert_michigan2_info, _params, _query, _run

TOOLS = workflow_path().parent / "tools"
FLANK = 100_000  # ligation: short flanks, so neighbouring chunks disagree in their overlap
ACCURACY_FLANK = 500_000  # the shortest flank tried that keeps every MAF bin within 0.01 (see above)
SITES = "%CHROM\t%POS\t%REF\t%ALT\n"


def _positions(path: Path) -> list[int]:
    return [int(p) for p in _query(path, "%POS\n")]


def _border_chunk_size() -> int:
    """A chunk length that makes a panel site the last position of chunk 1 (a border site, inside
    chunk 2's flank) and still cuts the fixture into four chunks."""
    return next(p for p in _positions(FIXTURE / "ref.vcf.gz") if p >= 300_000)


def _run_ok(cwltool: str, where: Path, params: dict) -> Path:
    where.mkdir()
    proc, out = _run(cwltool, where, params)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _run_tool(cwltool: str, tool: str, job: dict, where: Path) -> dict:
    """One CommandLineTool of the workflow run alone; its output object."""
    where.mkdir()
    (where / "job.json").write_text(json.dumps(job))
    proc = subprocess.run([cwltool, "--outdir", str(where / "out"), str(TOOLS / tool), str(where / "job.json")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict = json.loads(proc.stdout)
    return result


def _file(obj: dict) -> dict:
    return {"class": "File", "path": obj["path"]}


def _records(path: Path) -> dict[int, str]:
    """POS -> the site's alleles, quality INFO and every sample's dosage, as one comparable string."""
    rows = _query(path, "%POS\t%REF\t%ALT\t%INFO/AF\t%INFO/R2\t%INFO/IMPUTED\t%INFO/TYPED[\t%DS]\n")
    return {int(r.split("\t", 1)[0]): r for r in rows}


def _untrimmed_chunks(cwltool: str, home, tmp_path: Path, size: int) -> list[dict[int, str]]:
    """Chunks 1 and 2 imputed by the chunk tool alone, flanks kept: what ligation chose from."""
    panel = panel_workflow_params("sim-ci", home)
    prep = _run_tool(cwltool, "prepare-chromosome.cwl", {
        "vcf": {"class": "File", "path": str(FIXTURE / "array.vcf.gz")}, **panel, "phasing": "eagle",
        "imputer": "minimac4", "mode": "imputation", "chunk_size": size}, tmp_path / "prepare")
    plans = prep["plans"]
    assert [Path(p["path"]).read_text().split() for p in plans] == [
        ["chr20", str(k * size + 1), str((k + 1) * size)] for k in range(4)]
    chunk_panel = {k: v for k, v in panel.items() if k not in ("panel_sites", "fasta")}
    chunks = []
    for k in (0, 1):
        out = _run_tool(cwltool, "impute-chunk.cwl", {
            "target": _file(prep["target"]), "plan": _file(plans[k]), "chunk_flank": FLANK, **chunk_panel,
            "phasing": "eagle", "imputer": "minimac4"}, tmp_path / f"chunk{k}")
        chunks.append(_records(Path(out["dose"]["path"])))
    return chunks


def test_chunking__every_site_once_with_the_values_of_the_chunk_that_owns_it(cwltool, ci_panel, home, tmp_path):
    """Ligation: each panel site in the target's region appears once in dose and info; sites in the
    overlap of chunk 1 and chunk 2 (border site included) carry the owning chunk's own values."""
    size = _border_chunk_size()
    out = _run_ok(cwltool, tmp_path / "run", _params(home, chunk_size=size, chunk_flank=FLANK))
    dose, info = out / "chr20.dose.vcf.gz", out / "chr20.info.gz"
    # the target spans the whole panel, and chunks 1-4 (1..4*size) cover it
    panel_sites = _query(FIXTURE / "ref.vcf.gz", SITES)
    assert _positions(FIXTURE / "array.vcf.gz")[-1] <= 4 * size
    assert _query(dose, SITES) == panel_sites  # same order, nothing lost, nothing twice
    assert _query(info, SITES) == panel_sites
    assert (out / "chr20.dose.vcf.gz.tbi").exists()
    report = (out / "qc_report.txt").read_text()
    assert "Chunks: 4\n" in report and "Chunks excluded: 0\n" in report and "Chunks imputed: 4\n" in report

    first, second = _untrimmed_chunks(cwltool, home, tmp_path, size)
    ligated = _records(dose)
    overlap = sorted(set(first) & set(second))
    assert size in overlap and first[size] != second[size]  # the border site: imputed by both, differently
    for pos in overlap:
        assert ligated[pos] == (first if pos <= size else second)[pos], pos
    # on chunk 2's side too, the chunks disagree, so taking the owner's values is observable
    assert any(first[p] != second[p] for p in overlap if p > size)


def test_chunking__beagle_chunks_ligate_every_site_once(cwltool, ci_panel, home, tmp_path):
    """Beagle's chunks (rewritten to minimac4's INFO keys, no ##contig of their own) ligate the same way."""
    params = _params(home, phasing="beagle", imputer="beagle", chunk_size=300_000, chunk_flank=FLANK)
    out = _run_ok(cwltool, tmp_path / "run", params)
    dose = out / "chr20.dose.vcf.gz"
    assert _query(dose, SITES) == _query(FIXTURE / "ref.vcf.gz", SITES)
    _assert_michigan2_info(out / "chr20.info.gz", dose)
    assert "Chunks imputed: 4\n" in (out / "qc_report.txt").read_text()


def _r2_by_bin(out: Path) -> dict[tuple[float, float], float | None]:
    scores = score_against_truth(out / "chr20.dose.vcf.gz", FIXTURE / "truth.vcf.gz", FIXTURE / "ref.vcf.gz",
                                 FIXTURE / "array.vcf.gz")
    return {(s.maf_lo, s.maf_hi): s.aggregate_r2 for s in scores}


def test_chunking__accuracy_within_001_of_the_unchunked_run(cwltool, ci_panel, home, tmp_path):
    """eagle + minimac4: aggregate r² per MAF bin of four 300 kb chunks with 500 kb flanks is within
    0.01 of one chunk covering the whole region (the 20 Mb default)."""
    whole = _run_ok(cwltool, tmp_path / "whole", _params(home))
    chunked = _run_ok(cwltool, tmp_path / "chunked", _params(home, chunk_size=300_000, chunk_flank=ACCURACY_FLANK))
    assert "Chunks: 1\n" in (whole / "qc_report.txt").read_text()
    assert "Chunks imputed: 4\n" in (chunked / "qc_report.txt").read_text()
    unchunked_r2, chunked_r2 = _r2_by_bin(whole), _r2_by_bin(chunked)
    print("aggregate r2 per MAF bin, unchunked:", unchunked_r2)
    print("aggregate r2 per MAF bin, chunked:  ", chunked_r2)
    for key, r2 in unchunked_r2.items():
        assert r2 is not None and chunked_r2[key] is not None, key
        assert abs(chunked_r2[key] - r2) <= 0.01, (key, r2, chunked_r2[key])


def _target_with_two_bad_chunks(dest: Path) -> Path:
    """The array, cut into 300 kb chunks, made so chunk 2 keeps only 2 SNPs and most SNPs of chunk 4
    have an ALT allele the panel does not have (so they are not in the panel)."""
    with gzip.open(FIXTURE / "array.vcf.gz", "rt") as fh:
        lines = fh.read().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    body = [line.split("\t") for line in lines if not line.startswith("#")]
    chunk2 = [r for r in body if 300_000 < int(r[1]) <= 600_000]
    chunk4 = [r for r in body if int(r[1]) > 900_000]
    kept = [r for r in body if r not in chunk2[2:]]
    for r in chunk4[: int(len(chunk4) * 0.6) + 1]:
        r[4] = next(b for b in "ACGT" if b not in (r[3], r[4]))
    text = dest.with_suffix("")
    text.write_text("".join(header) + "".join("\t".join(r) for r in kept))
    subprocess.run(["bgzip", "-f", str(text)], check=True)
    return dest


def test_chunking__report_counts_excluded_and_imputed_chunks(cwltool, ci_panel, home, tmp_path):
    """Chunks the servers would skip (< 3 SNPs; < 50% of SNPs in the panel) are listed with the reason,
    counted in the QC report, and their sites left out of the output."""
    vcf = _target_with_two_bad_chunks(tmp_path / "target.vcf.gz")
    params = {**_params(home, chunk_size=300_000, chunk_flank=FLANK), "vcfs": [{"class": "File", "path": str(vcf)}]}
    out = _run_ok(cwltool, tmp_path / "run", params)
    report = (out / "qc_report.txt").read_text()
    assert "Chunks: 4\n" in report and "Chunks excluded: 2\n" in report and "Chunks imputed: 2\n" in report
    rows = [line.split("\t") for line in (out / "statistics" / "chunks-excluded.txt").read_text().splitlines()[1:]]
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("chr20:300001-600000", "2", "less than 3 SNPs"),
        ("chr20:900001-1200000", rows[1][1], "less than 50% of its SNPs in the reference panel")]
    assert int(rows[1][1]) >= 3 and float(rows[1][2]) < 50
    imputed = _positions(out / "chr20.dose.vcf.gz")
    expected = [p for p in _positions(FIXTURE / "ref.vcf.gz") if p <= 300_000 or 600_000 < p <= 900_000]
    assert imputed == expected


def test_chunking__no_chunk_left_fails_with_the_server_message(cwltool, ci_panel, home, tmp_path):
    """A target whose every chunk is excluded stops at QC with the servers' message."""
    text = tmp_path / "two.vcf"
    with gzip.open(FIXTURE / "array.vcf.gz", "rt") as fh:
        lines = fh.read().splitlines(keepends=True)
    text.write_text("".join(line for line in lines if line.startswith("#"))
                    + "".join([line for line in lines if not line.startswith("#")][:2]))
    subprocess.run(["bgzip", "-f", str(text)], check=True)
    params = {**_params(home, mode="qc-only"), "vcfs": [{"class": "File", "path": f"{text}.gz"}]}
    proc, _ = _run(cwltool, tmp_path, params)
    assert proc.returncode != 0
    assert "No chunks passed the QC step. Imputation cannot be started!" in proc.stderr


def test_chunking__tool_versions_as_the_tools_report_them(cwltool, ci_panel, home, tmp_path):
    """tool-versions.json names each tool's version in its own words (provenance reads it)."""
    out = _run_ok(cwltool, tmp_path / "run", _params(home, mode="qc-only"))
    versions = json.loads((out / "tool-versions.json").read_text())
    bcftools = subprocess.run(["bcftools", "--version"], capture_output=True, text=True, check=True).stdout
    minimac4 = subprocess.run(["minimac4", "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True).stdout
    assert versions["bcftools"] == bcftools.splitlines()[0]
    assert versions["minimac4"] == minimac4.strip().splitlines()[0]
    assert versions["eagle"].startswith("Eagle v") and "(version 5." in versions["beagle"]
