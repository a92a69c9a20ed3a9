"""notebooks/04-advisor.ipynb executes headless: a simulated cohort in a throwaway home, the ranking, the
plots, the dashboard's Advisor view inline and the Submit form it fills in."""

from __future__ import annotations

import json

import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "04-advisor.ipynb"


@pytest.mark.slow
def test_advisor_notebook__runs_headless(home, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors[0].get("evalue") if errors else ""
    text = "".join(o.get("text", "") for o in outputs) + json.dumps([o.get("data", {}) for o in outputs])
    assert "--service lab --panel pop-a --build hg38" in text
    assert "the Submit form now has: ['lab'] pop-a hg38" in text
    assert "application/vnd.holoviews_exec.v0+json" in {m for o in outputs for m in o.get("data", {})}
    assert not any(home.iterdir()) if home.exists() else True  # the demo used its own throwaway home
