"""`submit` runs the pre-flight check first: a failing file exits 2 before any network request."""

from __future__ import annotations

import gzip

import respx

from fedimpute.cli import main
from fedimpute.store import Store


def test_submit__failing_file_refused_before_any_request(capsys, home, monkeypatch, tmp_path):
    monkeypatch.setenv("FEDIMPUTE_TOKEN_MICHIGAN", "tok-123456")
    bad = tmp_path / "cohort.chr20.vcf.gz"
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB",
             "20\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\t0/0"]
    bad.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))  # plain gzip, not BGZF
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        code = main(["submit", str(bad), "--service", "michigan", "--panel", "hapmap-2", "--build", "hg19"])
        assert mock.calls.call_count == 0  # not a single request left the machine
    err = capsys.readouterr().err
    assert code == 2
    assert "fail compression" in err and "nothing was uploaded" in err
    assert Store(home).list_jobs() == []  # and nothing was recorded
