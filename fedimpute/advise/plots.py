"""The advisor's plots (HoloViews, shared by the dashboard and notebooks): the overlap of each 20 Mb
chunk along the chromosomes, and the cohort's allele frequencies against each panel's.

They take an :class:`~fedimpute.advise.ranking.Advice` and use only its local evidence (the server's
QC statistics have no per-chunk or per-SNP detail).  HoloViews is imported inside the functions,
as in :mod:`fedimpute.plots`.  Hover tooltips show numbers and our own labels only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fedimpute.advise.compare import OVERLAP

if TYPE_CHECKING:
    import pandas as pd

    from fedimpute.advise.ranking import Advice

__all__ = ["af_scatter", "chunk_frame", "overlap_by_chunk"]

WIDTH, HEIGHT = 640, 320


def _hv() -> Any:
    from fedimpute.plots import _hv as load

    return load()


def chunk_frame(advice: Advice) -> pd.DataFrame:
    """One row per (candidate, chunk): ``candidate, chromosome, start_mb, chunk, overlap, typed, found,
    excluded`` (candidates in ranking order)."""
    import pandas as pd

    rows = []
    for row in advice.ranking:
        if row.local is None:
            continue
        for c in row.local.chunks:
            rows.append({"candidate": f"{row.service}/{row.panel_id}", "chromosome": c.chromosome,
                         "start_mb": (c.start - 1) / 1e6, "chunk": f"{c.chromosome}:{(c.start - 1) // 1_000_000}-"
                         f"{c.end // 1_000_000} Mb", "overlap": c.overlap, "typed": c.typed, "found": c.found,
                         "excluded": "excluded" if c.excluded else "kept"})
    return pd.DataFrame(rows, columns=["candidate", "chromosome", "start_mb", "chunk", "overlap", "typed", "found",
                                       "excluded"])


def overlap_by_chunk(advice: Advice) -> Any:
    """Bars of each chunk's reference overlap per candidate, chunks in genome order, with the servers'
    50% line below which a chunk is not imputed."""
    hv = _hv()
    frame = chunk_frame(advice)
    if frame.empty:
        return hv.Text(0.5, 0.5, "no local evidence to plot").opts(title="Reference overlap per chunk",
                                                                    width=WIDTH, height=HEIGHT)
    bars = hv.Bars(frame, ["chunk", "candidate"], ["overlap", "typed", "found"]).opts(
        tools=["hover"], ylim=(0, 1.05), width=WIDTH, height=HEIGHT, xrotation=45, multi_level=False,
        color="candidate", cmap="Category10", ylabel="share of typed SNPs in the panel", xlabel="20 Mb chunk",
        title="Reference overlap per chunk (below the line: excluded)", show_legend=True, legend_position="right")
    return bars * hv.HLine(OVERLAP).opts(color="#e53935", line_dash="dashed", line_width=1)


def af_scatter(advice: Advice, *, top: int = 3) -> Any:
    """The cohort's allele frequency against each of the ``top`` candidates' panel frequency (a sample of
    at most 5,000 SNPs each), with the diagonal where matching populations lie."""
    import pandas as pd

    hv = _hv()
    parts = []
    for row in [r for r in advice.ranking if r.local is not None and len(r.local.points[0])][:top]:
        cohort, panel = row.local.points if row.local else ((), ())
        parts.append(pd.DataFrame({"cohort AF": cohort, "panel AF": panel,
                                   "candidate": f"{row.service}/{row.panel_id}"}))
    diagonal = hv.Curve([(0, 0), (1, 1)]).opts(color="#9e9e9e", line_dash="dotted")
    if not parts:
        return diagonal.opts(title="Cohort vs panel allele frequency (no local evidence)", width=WIDTH,
                             height=HEIGHT)
    frame = pd.concat(parts, ignore_index=True)
    points = hv.Scatter(frame, "panel AF", ["cohort AF", "candidate"]).opts(
        color="candidate", cmap="Category10", size=4, alpha=0.6, tools=["hover"], show_legend=True,
        legend_position="right")
    return (points * diagonal).opts(title="Cohort vs panel allele frequency", width=WIDTH, height=HEIGHT,
                                    xlim=(0, 1), ylim=(0, 1))
