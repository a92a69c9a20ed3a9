"""HoloViews plots of quality and job statistics: built from data or a Store, rendered without a server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fedimpute import plots
from fedimpute.quality import load_variants, quality_details, r2_along_chromosome, shared_variants
from tests.quality.files import Site, write_info
from tests.quality.jobs import add_timed_job

hv = pytest.importorskip("holoviews")


def _renders(obj) -> None:
    from bokeh.model import Model

    assert isinstance(hv.render(obj, backend="bokeh"), Model)


def test_plots__import_loads_no_plotting_stack():
    """We can import fedimpute.plots with the domain package: HoloViews loads only when a plot is made."""
    code = (
        "import json, sys, fedimpute.plots\n"
        "stack = ('holoviews', 'bokeh', 'panel', 'param', 'pandas')\n"
        "print(json.dumps(sorted(m for m in stack if m in sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == []


def test_plots__r2_and_well_imputed_by_maf(known_files):
    doc = quality_details(known_files["info"])
    bars = plots.r2_by_maf(doc)
    assert isinstance(bars, hv.Bars)
    assert list(bars.dframe()["value"]) == [0.25, 0.625, 0.25, 1.0, 0.525]
    assert list(bars.dframe()["variants"]) == [2, 2, 1, 1, 5]
    grouped = plots.well_imputed_by_maf({"A": doc, "B": doc}, threshold=0.3)
    assert [d.name for d in grouped.kdims] == ["MAF bin", "job"] and len(grouped.dframe()) == 10
    assert list(grouped.dframe()["value"][:5]) == [0.5, 1.0, 0.0, 1.0, 0.8]
    for obj in (bars, grouped, plots.well_imputed_by_maf(doc)):
        _renders(obj)
    with pytest.raises(ValueError, match="0.3 or 0.8"):
        plots.well_imputed_by_maf(doc, threshold=0.5)


def test_plots__r2_along_chromosome_and_job_scatter(tmp_path):
    sites = [
        Site(c, pos, "A", "G", 0.2, (pos % 8) / 8) for c in ("chr1", "chr2") for pos in range(100, 2000, 50)
    ]
    con = load_variants([write_info(tmp_path / "a.info.gz", sites)], label="A")
    load_variants([write_info(tmp_path / "b.info.gz", sites[::2])], label="B", con=con)
    along = plots.r2_along_chromosome(r2_along_chromosome(con, window=500))
    assert isinstance(along, hv.NdLayout) and list(along.keys()) == ["1", "2"]
    assert set(along["1"].keys()) == {"A", "B"}
    scatter = plots.job_scatter(shared_variants(con, ["A", "B"]))
    points = scatter.get(0)
    assert isinstance(points, hv.Scatter) and len(points) == len(sites[::2])
    assert points.kdims[0].name == "R² A" and points.vdims[0].name == "R² B"
    one = plots.r2_along_chromosome(r2_along_chromosome(con, label="A", window=500))
    assert isinstance(one, hv.NdLayout)
    for obj in (
        along,
        scatter,
        plots.r2_along_chromosome({"label": [], "chromosome": [], "mid": [], "n": [], "mean_r2": []}),
    ):
        _renders(obj)


def test_plots__job_statistics_from_a_store(store):
    add_timed_job(store, "michigan", [("queued", 1), ("running", 11), ("completed", 41)])
    add_timed_job(store, "michigan", [("queued", 2), ("running", 4), ("failed", 5)], created_min=60 * 30)
    add_timed_job(store, "topmed", [("queued", 3), ("running", 5), ("completed", 65)], created_min=60 * 50)
    by_status = plots.jobs_by_status(store)
    counts = {(r.service, r.status): r.jobs for r in by_status.dframe().itertuples()}
    assert counts == {("michigan", "completed"): 1, ("michigan", "failed"): 1, ("topmed", "completed"): 1}
    over_time = plots.jobs_over_time(store)
    assert sorted(over_time.dframe()["created"]) == ["2026-03-02", "2026-03-03", "2026-03-04"]
    run = plots.run_time_by_service(store)
    assert sorted(run.dframe()["minutes"]) == [1.0, 30.0, 60.0]
    queue = plots.queue_time_by_service(store)
    assert sorted(queue.dframe()["minutes"]) == [2.0, 2.0, 10.0]
    by_service = plots.jobs_over_time(store, by="service")
    assert sorted(by_service.dframe()["service"]) == ["michigan", "michigan", "topmed"]
    with pytest.raises(ValueError, match="status' or 'service"):
        plots.jobs_over_time(store, by="owner")
    for obj in (by_status, over_time, by_service, run, queue, plots.jobs_over_time(store, freq="W")):
        _renders(obj)


def test_plots__empty_store(store):
    for fn in (
        plots.jobs_by_status,
        plots.jobs_over_time,
        plots.run_time_by_service,
        plots.queue_time_by_service,
    ):
        _renders(fn(store))
