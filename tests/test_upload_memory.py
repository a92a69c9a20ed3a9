"""Uploading 1 GiB raises the client's peak RSS by less than 100 MiB (figures printed)."""

from __future__ import annotations

import pytest

from benchmarks.upload_memory import measure


@pytest.mark.slow
def test_upload__1gib_peak_rss_growth_under_100mib():
    r = measure(1024)
    print(f"\n1 GiB upload: baseline peak {r['baseline_peak_mib']:.1f} MiB, after {r['after_peak_mib']:.1f} MiB, "
          f"growth {r['growth_mib']:.1f} MiB, {r['seconds']:.1f} s")
    assert r["bytes_sent"] > 1024 ** 3
    assert r["growth_mib"] < 100
