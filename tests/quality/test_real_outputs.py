"""On real minimac4 and beagle outputs, the R² DuckDB reads is the R² bcftools reads."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

from fedimpute.quality import describe_file, find_quality_files, load_variants, quality_details, summarize_info_files
from tests.quality.expected import assert_same_as_bcftools
from tests.quality.jobs import add_job

pytestmark = pytest.mark.slow

#: output -> (R² tag, typed test on bcftools' flag columns)
FILES = {
    "minimac4-dose": "R2",
    "minimac4-info": "R2",
    "beagle-raw": "DR2",
    "beagle-dose": "R2",
    "beagle-info": "R2",
}


def _bcftools(path, tag: str) -> dict[tuple, tuple[float, bool]]:
    typed_tag = "IMP" if tag == "DR2" else "TYPED"
    text = subprocess.run(
        ["bcftools", "query", "-f", f"%CHROM\t%POS\t%REF\t%ALT\t%INFO/{tag}\t%INFO/{typed_tag}\n", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out = {}
    for line in text.splitlines():
        chrom, pos, ref, alt, r2, flag = line.split("\t")
        typed = (flag == ".") if typed_tag == "IMP" else (flag == "1")
        out[(chrom.removeprefix("chr"), int(pos), ref, alt)] = (float(r2), typed)
    return out


def _ours(path, strategy: str) -> dict[tuple, tuple[float, bool]]:
    con = load_variants([path], strategy=strategy)
    rows = con.execute("SELECT chromosome, pos, ref, alt, r2, typed FROM variants").fetchall()
    return {(c, p, r, a): (r2, t) for c, p, r, a, r2, t in rows}


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("strategy", ["duckdb", "bcftools"])
def test_real_outputs__r2_matches_bcftools_query(real_outputs, name, strategy):
    """We can read R² and typed/imputed from real engine outputs exactly as bcftools reads them."""
    expected = _bcftools(real_outputs[name], FILES[name])
    ours = _ours(real_outputs[name], strategy)
    assert len(expected) > 3000 and ours.keys() == expected.keys()
    for key, (r2, typed) in expected.items():
        assert math.isclose(ours[key][0], r2, rel_tol=1e-6, abs_tol=1e-9), key
        assert ours[key][1] == typed, key
    assert 150 < sum(t for _, t in ours.values()) < 260  # the ~206 array sites


def test_real_outputs__info_file_and_dose_vcf_agree(real_outputs):
    """The engine's minimac-style info file and minimac4's dose VCF give the same quality document."""
    from_info = quality_details([real_outputs["minimac4-info"]])
    from_vcf = quality_details([real_outputs["minimac4-dose"]])
    assert from_info["variants"] == from_vcf["variants"] > 3000
    for a, b in zip(from_info["bins"], from_vcf["bins"], strict=True):
        assert a["n"] == b["n"] and math.isclose(a["mean_r2"], b["mean_r2"], rel_tol=1e-9)
    assert [s["n"] for s in from_info["by_status"]] == [s["n"] for s in from_vcf["by_status"]]


def test_real_outputs__common_variants_are_well_imputed(real_outputs):
    for name in ("minimac4-dose", "beagle-raw"):
        doc = summarize_info_files([real_outputs[name]])
        assert doc["bins"][-1]["mean_r2"] > 0.9, name
        assert doc["chromosomes"][0]["chromosome"] == "20"


def test_quality_cli__minimac4_info_vcf_bins_equal_bcftools_query(real_outputs, store, cli, tmp_path):
    """`fedimpute quality` on a result set whose chr20.info.gz is the info VCF real `minimac4 --sites`
    wrote (Michigan 2's layout) gives the bins bcftools reads from the same file."""
    info = real_outputs["minimac4-info"]
    header = subprocess.run(
        ["bcftools", "view", "-h", str(info)], capture_output=True, text=True, check=True
    ).stdout
    assert "##source=Minimac v4" in header and header.splitlines()[-1].endswith("\tINFO")  # sites only
    results = tmp_path / "results"
    results.mkdir()
    files = [shutil.copy(info, results / info.name)]
    for name in ("chr20.dose.vcf.gz", "chr20.dose.vcf.gz.tbi"):
        files.append(shutil.copy(info.parent / name, results / name))
    job_id = add_job(store, [Path(f) for f in files])
    assert find_quality_files(store, job_id) == [results / "chr20.info.gz"]  # the info VCF, not the dose

    proc = cli("quality", job_id, "--json")
    assert proc.returncode == 0, proc.stderr
    assert_same_as_bcftools(json.loads(proc.stdout), info, min_variants=3000)


@pytest.mark.parametrize("native", ["1", "0"])
def test_streamed_reader__real_minimac4_info_vcf_bins_equal_bcftools_query(real_outputs, monkeypatch, native):
    """The reader large info VCFs take (inflated in chunks; C scanner or DuckDB split at ';') gives bcftools'
    bins on the info VCF real ``minimac4 --sites`` wrote, and reads every chunk itself."""
    from fedimpute.quality import info_stream

    monkeypatch.setenv("FEDIMPUTE_NATIVE", native)
    monkeypatch.setattr(info_stream, "MIN_BYTES", 0)
    general = info_stream._general_sql
    monkeypatch.setattr(info_stream, "_general_sql", lambda *a: pytest.fail(f"chunk read the general way: {a[0]}"))
    info = real_outputs["minimac4-info"]
    assert info_stream.streamable(describe_file(info), "auto")
    assert_same_as_bcftools(summarize_info_files([info]), info, min_variants=3000)
    monkeypatch.setattr(info_stream, "_general_sql", general)
    ours, general = quality_details([info])["by_status"], quality_details([info], strategy="duckdb")["by_status"]
    assert [s["status"] for s in ours] == [s["status"] for s in general] == ["imputed", "typed"]
    for a, b in zip(ours, general, strict=True):
        assert a["n"] == b["n"] and math.isclose(a["mean_r2"], b["mean_r2"], rel_tol=1e-12)
