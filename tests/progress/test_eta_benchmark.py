"""benchmarks/eta.py replays a synthetic history and prints coverage and error against the baseline."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def test_benchmark__prints_coverage_and_error_against_the_naive_baseline():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "eta.py"), "--jobs", "400"], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    ours = re.findall(r"fedimpute ETA: +inside interval +([\d.]+)% +median \|error\| +([\d.]+) min", run.stdout)
    naive = re.findall(r"baseline \(median\): +inside interval +([\d.]+)% +median \|error\| +([\d.]+) min", run.stdout)
    assert len(ours) == len(naive) == 2  # at the start of the run, and when queued
    for (cover, error), (_, base_error) in zip(ours, naive, strict=True):
        assert float(cover) >= 45 and float(error) < float(base_error)
    assert "acceptance (coverage >= 50% within sampling error, error below the baseline's, both moments): met" \
        in run.stdout
