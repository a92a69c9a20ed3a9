"""notebooks/02-monitor.ipynb shows the running-jobs board inline: alice's active jobs, their progress."""

from __future__ import annotations

import html
import json

import nbformat
import pytest
from nbclient import NotebookClient

from fedimpute.models import utcnow
from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "02-monitor.ipynb"


@pytest.mark.slow
def test_monitor_notebook__board_inline_with_progress(home, owners, store, monkeypatch):
    monkeypatch.setenv("FEDIMPUTE_USER", "alice")
    store.add_progress([{"job_id": owners.alice[1], "time": utcnow(), "status": "running", "step": "Quality Control",
                         "step_index": 1, "done": 1, "total": 4, "unit": "steps", "fraction": 0.25}])
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    board = next(c for c in nb.cells if c.cell_type == "code" and "BoardView(" in c.source)
    assert not [o for o in board.outputs if o.output_type in ("error", "stream") and o.get("name") != "stdout"]
    text = html.unescape(json.dumps([o.get("data", {}) for o in board.outputs]))  # Bokeh's document escapes it
    assert "3</b> active job(s)" in text and "Quality Control: 1 of 4 steps done (25%)" in text
    assert all(job_id in text for job_id in (owners.alice[1], owners.alice[2], owners.alice[4]))
    assert not any(job_id in text for job_id in owners.bob)
