"""Fixtures of the advisor's tests: the two-population simulation (made once per session, seeded) and
panels registered for it.

The simulation takes about two seconds (msprime), so it is made here rather than committed: two
populations that split 4,000 generations ago, a panel of 100 diploids from each, 40 target
diploids from the first, 400 kb (see tests/data/advise/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fedimpute.advise.simulation import TwoPopulations, simulate_two_populations

DATA = Path(__file__).resolve().parents[1] / "data" / "advise"
SPEC = TwoPopulations(n_panel=100, n_targets=40, length=400_000, split=4000, seed=1)


@pytest.fixture(scope="session")
def two_pops(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("two-populations")
    simulate_two_populations(out, SPEC)
    return out


@pytest.fixture
def lab(store, two_pops, tmp_path) -> str:
    """A WES service ``lab`` whose panels file names both panels and their sites files (no registration)."""
    from fedimpute.catalogue import make_service

    panels = tmp_path / "panels.json"
    panels.write_text(json.dumps([
        {"panel_id": f"pop-{p}", "name": f"Population {p.upper()}", "build": "hg38", "populations": ["all"],
         "samples": SPEC.n_panel, "sites": str(two_pops / f"panel-{p}.vcf.gz")} for p in ("a", "b")]))
    store.add_service(make_service("lab", "wes", "http://127.0.0.1:9", settings=[f"panels={panels}"]))
    return "lab"
