"""The demo: simulated data, a registered panel, the local engine, and a real imputation job.

The demo data set (2,000 reference / 200 target diploids over 5 Mb) is simulated on first
use into ``FEDIMPUTE_HOME/demo/`` (about 10 s), with the truth kept so that accuracy can
be measured; later runs reuse it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fedimpute.engine.panels import add_panel, panels_dir
from fedimpute.engine.server import engine_start
from fedimpute.engine.simulate import SimulationSpec, simulate_dataset
from fedimpute.paths import home_dir

__all__ = ["DEMO_PANEL", "DEMO_SPEC", "prepare_demo"]

DEMO_PANEL = "sim-demo"
DEMO_SPEC = SimulationSpec(n_ref=2000, n_targets=200, length=5_000_000, seed=20)


def prepare_demo(home: Path | None = None, *, port: int | None = None) -> dict[str, Any]:
    """Simulate (once), register the demo panel (once), start the engine; return paths and status."""
    home = home_dir(home)
    data = home / "demo"
    if not (data / "simulation.json").exists():
        simulate_dataset(data, DEMO_SPEC)
    if not (panels_dir(home) / DEMO_PANEL / "manifest.json").exists():
        add_panel(data / "ref.vcf.gz", panel_id=DEMO_PANEL, name="Simulated demo panel (msprime, 2,000 samples)",
                  build="hg38", populations=["all"], genetic_map=data / "map.plink", fasta=data / "ref.fa", home=home)
    status = engine_start(port, home)
    return {"data": data, "target": data / "array.vcf.gz", "truth": data / "truth.vcf.gz",
            "panel": DEMO_PANEL, "engine": status}
