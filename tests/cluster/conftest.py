"""A real single-node Slurm cluster for the ``cluster`` tests, started by scripts/slurm-local.sh.

Starting Slurm's daemons needs root and Debian's slurm-wlm and munge (scripts/setup.sh installs
them as root); elsewhere the tests are skipped with that reason.  A cluster that already ran before
the session is used and left running; one this session started is stopped at its end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.engine.conftest import _tools_present, ci_panel  # noqa: F401  (the engine's fixtures, reused here)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "slurm-local.sh"
DAEMONS = ("/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd")


def pytest_configure(config: pytest.Config) -> None:
    # Also to be listed in pyproject.toml's [tool.pytest.ini_options] markers (--strict-markers).
    config.addinivalue_line("markers", "cluster: runs jobs on a real single-node Slurm started by "
                                       "scripts/slurm-local.sh (root, Debian slurm-wlm and munge)")


def _slurm(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def slurm_cluster():
    if os.geteuid() != 0:
        pytest.skip("the cluster tests start munged, slurmctld and slurmd, which needs root "
                    "(run them as root, e.g. in .ci/run)")
    missing = [p for p in DAEMONS if not Path(p).exists()] + [c for c in ("sbatch", "squeue", "scontrol", "sacct")
                                                               if shutil.which(c) is None]
    if missing:
        pytest.skip(f"Slurm is not installed ({', '.join(missing)} missing): run scripts/setup.sh as root "
                    "(it installs slurm-wlm and munge)")
    was_running = _slurm("status").returncode == 0
    started = _slurm("start")
    assert started.returncode == 0, f"scripts/slurm-local.sh start failed:\n{started.stdout}{started.stderr}"
    try:
        yield
    finally:
        if not was_running:
            stopped = _slurm("stop")
            assert stopped.returncode == 0, stopped.stderr
