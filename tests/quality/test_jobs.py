"""A job's quality from its downloaded results, job comparisons, and queue/run times from events."""

from __future__ import annotations

import gzip
import math
import shutil
import subprocess

import pytest

from fedimpute.exceptions import JobNotFoundError, UsageError
from fedimpute.quality import (
    compare_jobs,
    compare_variants,
    find_info_files,
    find_quality_files,
    job_quality,
    job_quality_details,
    job_statistics,
    load_job_variants,
    load_variants,
    r2_along_chromosome,
    shared_variants,
)
from fedimpute.quality.variants import auto_window
from tests.quality.conftest import CHR20, OTHERS
from tests.quality.files import Site, write_empirical_dose, write_info, write_vcf
from tests.quality.jobs import add_job, add_timed_job


def test_job_quality__contract_document_from_downloaded_results(store, known_files):
    """We can get `quality --json`'s document, exactly the contract's keys, for a downloaded job."""
    job_id = add_job(store, known_files["info"])
    doc = job_quality(store, job_id)
    assert list(doc) == ["job_id", "variants", "bins", "chromosomes"]
    assert doc["variants"] == 12 and [b["n"] for b in doc["bins"]] == [2, 2, 1, 1, 5]
    assert list(doc["bins"][0]) == ["maf_lo", "maf_hi", "n", "mean_r2", "frac_r2_ge_0_3", "frac_r2_ge_0_8"]
    assert list(doc["chromosomes"][0]) == ["chromosome", "n", "mean_r2"]
    details = job_quality_details(store, job_id)
    assert {"by_status", "chromosome_bins"} <= set(details) and details["variants"] == 12


def test_find_quality_files__info_preferred_vcf_where_no_info(store, tmp_path):
    """Per chromosome an info file (table or Michigan 2 info VCF) beats the dose VCF; VCF-only chromosomes
    count; empirical doses, reports, indexes and archives never do, all judged by content."""
    res = tmp_path / "results"
    (res / "statistics").mkdir(parents=True)
    info20 = write_vcf(res / "chr20.info.gz", CHR20, flavour="mis2")
    dose20 = write_vcf(res / "chr20.dose.vcf.gz", CHR20, samples=2)
    dose1 = write_vcf(res / "chr1.dose.vcf.gz", OTHERS, samples=2)
    write_empirical_dose(res / "chr1.empiricalDose.vcf.gz", OTHERS[:1])
    (res / "qc_report.txt").write_text("Remaining sites in total: 9\n")
    (res / "statistics" / "snps-excluded.txt").write_text("SNP\tReason\n")
    (res / "chr_20.zip").write_bytes(b"PK\x03\x04" + bytes(60))
    subprocess.run(["tabix", "-p", "vcf", str(dose20)], check=True)
    job_id = add_job(store, [info20, dose20, dose1])
    assert find_quality_files(store, job_id) == sorted([info20, dose1])
    assert find_info_files(store, job_id) == [info20]
    assert job_quality(store, job_id)["variants"] == 12


def test_find_quality_files__names_say_nothing(store, tmp_path):
    """Files are found by what they hold: a gzip info table and a plain info VCF with arbitrary names,
    and a dose VCF whose chromosome an info file named like a dose file already covers."""
    res = tmp_path / "results"
    res.mkdir()
    table = write_info(res / "chr20.dose.vcf.gz", CHR20, gzipped=True)
    dose20 = write_vcf(res / "imputed-20.bgz", CHR20, samples=2)
    sites = write_vcf(res / "part2", OTHERS, flavour="mis2")
    plain = res / "part2.txt"
    plain.write_bytes(gzip.decompress(sites.read_bytes()))
    sites.unlink()
    job_id = add_job(store, [table, dose20, plain])
    assert find_quality_files(store, job_id) == sorted([table, plain])
    doc = job_quality_details(store, job_id)
    assert doc["variants"] == 12 and [s["n"] for s in doc["by_status"]] == [10, 2]


def test_find_quality_files__files_written_wrongly_are_named(store, tmp_path, caplog):
    """A chrN.info.gz that is zstd (minimac4 without -O vcf.gz) or empty is named: in the error when it was
    the only candidate, as a warning when other files could be read."""
    res = tmp_path / "results"
    res.mkdir()
    sav = res / "chr20.info.gz"
    sav.write_bytes(bytes.fromhex("28b52ffd") + bytes(60))
    (res / "qc_report.txt").write_text("fine\n")
    job_id = add_job(store, [sav])
    with pytest.raises(
        UsageError,
        match=r"no readable imputation quality files .*found instead: .*chr20\.info\.gz: it "
        r"is zstd-compressed data .*-O vcf\.gz",
    ):
        job_quality(store, job_id)
    good = write_vcf(res / "chr21.info.gz", OTHERS, flavour="mis2")
    (res / "chr22.info.gz").write_bytes(b"")
    with caplog.at_level("WARNING", logger="fedimpute.quality.job_files"):
        assert find_quality_files(store, job_id) == [good]
    warned = [r.getMessage() for r in caplog.records]
    assert any("chr20.info.gz: it is zstd" in m for m in warned) and any(
        "chr22.info.gz: it is empty" in m for m in warned
    )
    assert not any("qc_report" in m for m in warned)


def test_find_quality_files__clear_error_before_download(store, tmp_path):
    from fedimpute.models import Job

    job = store.add_job(Job(service="local", owner="tester"))
    with pytest.raises(UsageError, match=f"fedimpute results download {job.job_id}"):
        job_quality(store, job.job_id)
    with pytest.raises(UsageError, match=r"chrN\.info\.gz: minimac info tables or info VCFs"):
        find_info_files(store, job.job_id)
    with pytest.raises(JobNotFoundError):
        job_quality(store, "fi-nope")


def _shifted(sites: list[Site], r2_delta: float) -> list[Site]:
    return [
        Site(s.chrom, s.pos, s.ref, s.alt, s.af, None if s.r2 is None else max(0.0, s.r2 - r2_delta), s.typed)
        for s in sites
    ]


def test_compare__shared_variants_joined_on_chrom_pos_ref_alt(tmp_path):
    """Two jobs on the same input: only shared variants are compared; 'chr20' and '20' are one chromosome."""
    a = write_info(tmp_path / "a.info.gz", CHR20 + OTHERS)
    b_sites = [Site(s.chrom.removeprefix("chr"), s.pos, s.ref, s.alt, s.af, s.r2, s.typed) for s in CHR20[:6]]
    b_sites += [
        Site("20", 1600, "G", "C", 0.05, 0.5),  # another ALT: not the same variant
        Site("20", 99999, "A", "G", 0.2, 0.5),
    ]  # only in b
    b = write_vcf(tmp_path / "b.vcf.gz", _shifted(b_sites, 0.125), flavour="beagle")
    con = load_variants([a], label="A")
    load_variants([b], label="B", con=con)
    cmp = compare_variants(con)
    assert cmp["jobs"] == ["A", "B"] and cmp["shared"] == 6
    assert cmp["variants"] == {"A": 12, "B": 8} and cmp["only"] == {"A": 6, "B": 2}
    assert [x["n"] for x in cmp["bins"]] == [2, 2, 1, 1, 0]
    assert cmp["bins"][1]["mean_r2"] == {"A": 0.625, "B": 0.5}
    assert cmp["bins"][4]["mean_r2"] == {"A": None, "B": None}
    pair = cmp["pairs"][0]
    assert (pair["a"], pair["b"], pair["n"]) == ("A", "B", 6)
    # B is A minus 1/8 except where clipped at 0 (none here: the lowest R² is 0.125 -> 0.0)
    assert pair["mean_r2_difference"] == 0.125 and math.isclose(pair["r2_correlation"], 1.0)
    scatter = shared_variants(con, ["A", "B"], limit=4)
    assert len(scatter["A"]) == 4 and set(scatter) == {"chromosome", "pos", "ref", "alt", "maf", "A", "B"}
    assert all(x - y == 0.125 for x, y in zip(scatter["A"], scatter["B"], strict=True))
    assert list(shared_variants(con, ["A", "B"], limit=4)["pos"]) == list(scatter["pos"])  # the same sample


def test_compare__jobs_from_the_store(store, known_files):
    first = add_job(store, known_files["info"])
    second = add_job(store, known_files["beagle-dose"])
    cmp = compare_jobs(store, [first, second])
    assert cmp["shared"] == 12 and cmp["only"] == {first: 0, second: 0}  # the site without R² is left out
    assert cmp["pairs"][0]["mean_r2_difference"] == 0.0
    with pytest.raises(UsageError, match="at least two"):
        compare_jobs(store, [first])
    con = load_job_variants(store, [first])
    with pytest.raises(UsageError, match="no variants loaded for fi-x"):
        compare_variants(con, [first, "fi-x"])


def test_r2_along_chromosome__windowed_means(tmp_path):
    sites = [
        Site("chr2", pos, "A", "G", 0.2, r2)
        for pos, r2 in [(10, 0.25), (90, 0.75), (150, 1.0), (260, 0.5), (299, 0.0)]
    ]
    con = load_variants([write_info(tmp_path / "chr2.info.gz", sites)], label="j")
    w = r2_along_chromosome(con, window=100)
    assert list(w["start"]) == [0, 100, 200] and list(w["mid"]) == [50, 150, 250]
    assert list(w["n"]) == [2, 1, 2] and list(w["mean_r2"]) == [0.5, 1.0, 0.25]
    assert list(w["chromosome"]) == ["2"] * 3 and list(w["label"]) == ["j"] * 3
    assert auto_window(5_000_000) == 50_000 and auto_window(250_000_000) == 2_000_000 and auto_window(0) == 1
    assert list(r2_along_chromosome(con)["start"]) == [10, 90, 150, 260, 299]  # 289 bp span: 1 bp windows


def test_job_statistics__queue_and_run_times_from_events(store):
    """We can tell queue and run time per job from the event log (none when running was never seen)."""
    a = add_timed_job(store, "michigan", [("queued", 1), ("running", 11), ("completed", 41)])
    b = add_timed_job(store, "michigan", [("queued", 2), ("running", 4), ("failed", 5)], created_min=1)
    c = add_timed_job(store, "topmed", [("queued", 3), ("completed", 63)], created_min=2)
    stats = job_statistics(store)
    assert list(stats["job_id"]) == [a, b, c]
    assert list(stats["queue_seconds"][:2]) == [600.0, 120.0] and math.isnan(stats["queue_seconds"][2])
    assert list(stats["run_seconds"][:2]) == [1800.0, 60.0] and math.isnan(stats["run_seconds"][2])
    assert list(stats["status"]) == ["completed", "failed", "completed"]
    only = job_statistics(store, [c])
    assert list(only["job_id"]) == [c] and list(job_statistics(store, [])["job_id"]) == []


def test_job_statistics__turnaround_from_submission(store):
    from fedimpute.models import JobStatus, utcnow

    job = add_timed_job(store, "wes", [])
    store.update_job(job, status=JobStatus.QUEUED, submitted_at=utcnow())
    store.update_job(job, status=JobStatus.COMPLETED, finished_at=utcnow())
    stats = job_statistics(store, [job])
    assert 0 <= stats["turnaround_seconds"][0] < 60


def test_quality__downloaded_copy_moved_away(store, known_files, tmp_path):
    """Paths come from the store: results moved after download are reported as missing, not as empty."""
    job_id = add_job(store, known_files["info"])
    shutil.rmtree(known_files["info"][0].parent)
    with pytest.raises(UsageError, match="download them first"):
        job_quality(store, job_id)
