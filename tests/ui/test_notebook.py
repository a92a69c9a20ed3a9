"""notebooks/02-monitor.ipynb executes headless, shows the user's jobs, and does not block."""

from __future__ import annotations

import json
import time

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "02-monitor.ipynb"


@pytest.mark.slow
def test_monitor_notebook__runs_headless_with_the_users_jobs(home, owners, monkeypatch):
    """We can execute the notebook: no errors, the dashboard's outputs hold alice's jobs, not bob's."""
    monkeypatch.setenv("FEDIMPUTE_USER", "alice")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    started = time.monotonic()
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    assert time.monotonic() - started < 170
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors[0].get("evalue") if errors else ""
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert "application/vnd.holoviews_exec.v0+json" in mimes
    text = json.dumps([o.get("data", {}) for o in outputs]) + json.dumps([o.get("text", "") for o in outputs])
    assert all(job_id in text for job_id in owners.alice[:3]) and not any(job_id in text for job_id in owners.bob)
    assert "5 job(s) for alice" in text
