"""`benchmarks/sessions.py --quick` runs end to end: two real servers, signed-in chromium sessions, the table.

Why a smoke test: the full benchmark takes minutes and its verdict depends on the machine, so the
suite checks only that a small run measures what it claims (every session reached its rows, the
monitor changed jobs during the idle window) and ends with a verdict (0 or 1), not a crash.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
@pytest.mark.browser
def test_sessions_benchmark__quick_run_prints_the_table_and_a_verdict() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sessions.py"), "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    out = proc.stdout
    assert proc.returncode in (0, 1), f"exit {proc.returncode}\n{out}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    for label in ("no sign-in (1 user)", "sign-in (3 users)"):
        sessions = re.findall(rf"^  {re.escape(label)}: session +\d+ \(user\d\d\) rows after", out, re.M)
        assert len(sessions) == 3, out
        row = re.search(rf"^{re.escape(label)} +(-?\d+\.\d\d) +(\d+\.\d\d) +(-?\d+\.\d) +(\d+\.\d) +(\d+\.\d) "
                        r".* (\d+) jobs changed$", out, re.M)
        assert row, f"no table row for {label}:\n{out}"
        assert float(row[2]) > 0 and int(row[6]) > 0, row[0]  # the server worked; the monitor updated jobs
    assert "sign-in (3 users): session  2 (user01)" in out  # one account per session
    assert re.search(r"^ratio to goal +-?\d+\.\d\d +-?\d+\.\d\d +\d+\.\d\d$", out, re.M), out
    verdict = "goals: all met" if proc.returncode == 0 else "goals: FAIL"
    assert verdict in out, out
