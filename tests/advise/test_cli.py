"""``fedimpute panels add-sites`` and ``fedimpute advise`` on the command line: the contract's names, JSON
keys and exit codes, the listing ``panels`` still is, and the reasons a row gives."""

from __future__ import annotations

import shlex

from fedimpute.catalogue import make_service
from tests.advise.cli import run, run_json

CONTRACT_KEYS = ["service", "panel_id", "overlap", "strand_flips", "allele_switches", "af_correlation",
                 "excluded_chunks", "expected_r2", "reasons"]


def test_add_sites__registers_a_vcf_and_a_tab_file(capsys, monkeypatch, store, two_pops, tmp_path):
    store.add_service(make_service("lab", "wes", "http://127.0.0.1:9"))
    doc = run_json(capsys, monkeypatch, "panels", "add-sites", "lab", "pop-a", str(two_pops / "panel-a.vcf.gz"))
    assert doc["service"] == "lab" and doc["panel_id"] == "pop-a" and doc["chromosomes"] == ["20"]
    assert doc["sites"] > 1000 and doc["haplotypes"] == 200 and doc["path"].startswith(str(store.home))
    tab = tmp_path / "sites.tsv"
    tab.write_text("CHROM\tPOS\tREF\tALT\tAF\tAF_EUR\nchr20\t100500\tA\tG\t0.2\t0.3\n")
    code, out, err = run(capsys, monkeypatch, "panels", "add-sites", "lab", "tiny", str(tab))
    assert code == 0, err
    assert out.strip() == "registered 1 sites on chromosome(s) 20 as lab/tiny; population frequencies: eur"


def test_add_sites__errors_are_one_line_with_the_exit_code(capsys, monkeypatch, store, two_pops, tmp_path):
    code, _, err = run(capsys, monkeypatch, "panels", "add-sites", "nowhere", "p", str(two_pops / "panel-a.vcf.gz"))
    assert code == 3 and err.count("\n") == 1 and "nowhere" in err
    store.add_service(make_service("lab", "wes", "http://127.0.0.1:9"))
    code, _, err = run(capsys, monkeypatch, "panels", "add-sites", "lab", "p", str(tmp_path / "missing.vcf.gz"))
    assert code == 2 and err.startswith("error: sites file") and "does not exist" in err


def test_panels__still_lists_with_names_and_flags(capsys, monkeypatch, lab):
    rows = run_json(capsys, monkeypatch, "panels", lab)
    assert [(r["service"], r["panel_id"]) for r in rows] == [("lab", "pop-a"), ("lab", "pop-b")]
    rows = run_json(capsys, monkeypatch, "panels", lab, "--refresh")
    assert {r["name"] for r in rows} == {"Population A", "Population B"}
    code, out, _ = run(capsys, monkeypatch, "panels", "--help")
    assert code == 0 and "add-sites" in out


def test_advise__json_ranking_with_the_contracts_keys(capsys, monkeypatch, lab, two_pops):
    """A WES service's panels file that names sites files: both panels judged, the matching one first."""
    doc = run_json(capsys, monkeypatch, "advise", str(two_pops / "array.vcf.gz"), "--population", "all")
    assert [(r["service"], r["panel_id"]) for r in doc["ranking"]] == [("lab", "pop-a"), ("lab", "pop-b")]
    best, other = doc["ranking"]
    for row in doc["ranking"]:
        assert list(row)[:len(CONTRACT_KEYS)] == CONTRACT_KEYS and row["evidence"] == "local"
        assert row["strand_flips"] == 0 and row["allele_switches"] == 0 and row["excluded_chunks"] == 0
        assert row["local"]["chunks"][0]["start"] == 1 and row["local"]["chunks"][0]["end"] == 20_000_000
    assert best["overlap"] == 1.0 and best["af_correlation"] > 0.9 and best["expected_r2"] > 0.8
    assert other["overlap"] < 0.8 and other["af_correlation"] < 0.6 and other["expected_r2"] < 0.4
    assert any(r.startswith("allele frequencies: correlation") for r in best["reasons"])
    assert any("no frequencies of population 'all'" in r for r in best["reasons"])  # the file has no population AF
    assert doc["cohort"]["samples"] == 40 and doc["cohort"]["build"] == "hg38"
    assert shlex.split(doc["submit"]) == ["fedimpute", "submit", str(two_pops / "array.vcf.gz"), "--service", "lab",
                                          "--panel", "pop-a", "--build", "hg38", "--population", "all"]


def test_advise__text_prints_the_table_and_the_submit_command(capsys, monkeypatch, lab, two_pops):
    code, out, err = run(capsys, monkeypatch, "advise", str(two_pops / "array.vcf.gz"), "--panel", "pop-b")
    assert code == 0, err
    assert "comparing with lab/pop-b" in err and "pop-a" not in out
    assert out.rstrip().splitlines()[-1].strip() == (f"fedimpute submit {two_pops / 'array.vcf.gz'} --service lab "
                                                     "--panel pop-b --build hg38")


def test_advise__a_build_mismatch_is_a_reason_not_a_wrong_number(capsys, monkeypatch, lab, two_pops):
    doc = run_json(capsys, monkeypatch, "advise", str(two_pops / "array.vcf.gz"), "--build", "hg19")
    for row in doc["ranking"]:
        assert row["expected_r2"] is None and row["evidence"] is None
        assert any("the panel is hg38 and the cohort hg19" in r for r in row["reasons"])
    assert doc["submit"] is None


def test_advise__without_candidates_or_with_bad_flags(capsys, monkeypatch, store, two_pops):
    code, _, err = run(capsys, monkeypatch, "advise", str(two_pops / "array.vcf.gz"))
    assert code == 2 and "no candidate panel to judge" in err and "panels add-sites" in err
    code, _, err = run(capsys, monkeypatch, "advise", str(two_pops / "array.vcf.gz"), "--build", "hg18")
    assert code == 2 and "--build must be hg19, hg38 or auto" in err
    code, _, err = run(capsys, monkeypatch, "advise", str(two_pops / "array.vcf.gz"), "--service", "nowhere")
    assert code == 3
