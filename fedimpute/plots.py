"""HoloViews plots for notebooks and reports: imputation quality and job statistics.

Every function takes data (the quality documents and column dicts of
:mod:`fedimpute.quality`, or pandas DataFrames with the same columns) or a
:class:`~fedimpute.store.Store`, returns a HoloViews object, and needs no server: show it
in Jupyter, or render it with ``hv.render`` / ``hv.save``.  Plots are 640 px wide; :func:`fit` makes one
fill its container's width instead (dashboards), without the warning a fixed width next to
``responsive`` causes.  HoloViews, Bokeh and pandas are
imported inside the functions, so ``import fedimpute.plots`` stays as light as the rest of
the domain package (the ``ui`` extra brings the plotting stack).

>>> from fedimpute.plots import r2_by_maf                              # doctest: +SKIP
>>> r2_by_maf({"job A": job_quality(store, "fi-...")})                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import holoviews as hv
    import pandas as pd

    from fedimpute.store import Store

__all__ = [
    "STATUS_COLORS",
    "fit",
    "job_scatter",
    "jobs_by_status",
    "jobs_over_time",
    "queue_time_by_service",
    "r2_along_chromosome",
    "r2_by_maf",
    "run_time_by_service",
    "well_imputed_by_maf",
]

STATUS_ORDER = ("pending", "queued", "running", "completed", "failed", "cancelled")
STATUS_COLORS = {
    "pending": "#9e9e9e",
    "queued": "#64b5f6",
    "running": "#1e88e5",
    "completed": "#43a047",
    "failed": "#e53935",
    "cancelled": "#fb8c00",
}
WIDTH, HEIGHT = 640, 320
#: Sizing options :func:`fit` drops: a fixed width (even ``width=None`` set explicitly) next to
#: ``responsive`` makes HoloViews warn "responsive mode could not be enabled ...".
_FIXED = ("width", "frame_width", "frame_height", "aspect", "data_aspect")


def _hv() -> ModuleType:
    """HoloViews with the Bokeh plot options registered (no notebook machinery loaded)."""
    import holoviews as hv
    import holoviews.plotting.bokeh

    if hv.Store.current_backend != "bokeh":
        hv.Store.set_current_backend("bokeh")
    module: ModuleType = hv  # holoviews has no type information: its objects are Any
    return module


def fit(plot: Any, height: int = 300) -> Any:
    """``plot`` (an element or an overlay from this module) as a copy that fills its container's width at
    ``height`` pixels: its fixed width is dropped, not overridden, so nothing warns.  Use this, never
    ``plot.opts(width=None, responsive=True)``: an explicit ``width=None`` still counts as a fixed width.
    Layouts (panels side by side) keep their fixed sizes; pass their panels one by one."""
    hv = _hv()
    if isinstance(plot, hv.Element):
        return _refit(hv, plot, height)
    if isinstance(plot, hv.Overlay):  # a new container (its options are its own), of refitted layers
        return _sized(hv, plot, hv.Overlay([_refit(hv, el, None) for el in plot]), height)
    if isinstance(plot, hv.NdOverlay):
        return _sized(hv, plot, hv.NdOverlay({k: _refit(hv, v, None) for k, v in plot.items()}, plot.kdims), height)
    raise TypeError(f"fit() takes an element or an overlay, not {type(plot).__name__}")


def _options(hv: Any, obj: Any) -> dict[str, Any]:
    """``obj``'s plot and style options without the fixed sizes."""
    kwargs = {**hv.Store.lookup_options("bokeh", obj, "plot").kwargs,
              **hv.Store.lookup_options("bokeh", obj, "style").kwargs}
    return {k: v for k, v in kwargs.items() if k not in _FIXED}


def _sized(hv: Any, old: Any, new: Any, height: int) -> Any:
    return new.opts(**{**_options(hv, old), "responsive": True, "height": height})


def _refit(hv: Any, obj: Any, height: int | None) -> Any:
    """``obj`` with its own options minus the fixed sizes, then responsive at ``height`` (None: a layer of
    an overlay, which takes the overlay's size)."""
    kwargs = {k: v for k, v in _options(hv, obj).items() if k not in ("height", "responsive")}
    if height is not None:
        kwargs.update(responsive=True, height=height)
    return obj.opts.clear().opts(**kwargs)


def _frame(data: Any) -> pd.DataFrame:
    import pandas as pd

    return (
        data.copy() if isinstance(data, pd.DataFrame) else pd.DataFrame({k: list(v) for k, v in data.items()})
    )


def _labelled(summaries: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """One quality document, or ``{label: document}``, as ``{label: document}``."""
    if "bins" in summaries:
        return {str(summaries.get("job_id") or "job"): summaries}
    return dict(summaries)


def _bin_rows(summaries: Mapping[str, Any], key: str) -> pd.DataFrame:
    import pandas as pd

    from fedimpute.quality.bins import MAF_BINS, bin_label

    rows = []
    for label, doc in _labelled(summaries).items():
        for i, b in enumerate(doc["bins"]):
            if (b["maf_lo"], b["maf_hi"]) != MAF_BINS[i]:
                raise ValueError(f"{label}: bins differ from the contract's MAF bins")
            rows.append({"MAF bin": bin_label(i), "job": label, "value": b[key], "variants": b["n"]})
    frame = pd.DataFrame(rows)
    frame["value"] = frame["value"].astype(float)
    return frame


def _bars_by_bin(frame: pd.DataFrame, title: str, ylabel: str) -> hv.Bars:
    """One bar per bin, or per bin and job (side by side, a legend naming the jobs)."""
    hv = _hv()
    grouped = frame["job"].nunique() > 1
    kdims = ["MAF bin", "job"] if grouped else ["MAF bin"]
    style = (
        {"multi_level": False, "show_legend": True, "legend_position": "top_left"}
        if grouped
        else {"color": "#1e88e5"}
    )
    return hv.Bars(frame.fillna({"value": 0.0}), kdims, ["value", "variants"]).opts(
        title=title,
        ylabel=ylabel,
        xlabel="MAF bin",
        xrotation=30,  # bin labels such as "[0.001, 0.005)" overlap when the plot is narrow
        ylim=(0, 1.05),
        tools=["hover"],
        width=WIDTH,
        height=HEIGHT,
        **style,
    )


def r2_by_maf(summaries: Mapping[str, Any]) -> hv.Bars:
    """Mean R² per MAF bin; one quality document or ``{job: document}`` (grouped bars)."""
    return _bars_by_bin(_bin_rows(summaries, "mean_r2"), "Mean R² by MAF bin", "mean R²")


def well_imputed_by_maf(summaries: Mapping[str, Any], *, threshold: float = 0.8) -> hv.Bars:
    """Share of variants with R² at or above ``threshold`` (0.3 or 0.8, the contract's) per MAF bin."""
    keys = {0.3: "frac_r2_ge_0_3", 0.8: "frac_r2_ge_0_8"}
    if threshold not in keys:
        raise ValueError(f"threshold must be 0.3 or 0.8 (the quality document's), got {threshold}")
    return _bars_by_bin(
        _bin_rows(summaries, keys[threshold]),
        f"Variants with R² ≥ {threshold:g} by MAF bin",
        f"share with R² ≥ {threshold:g}",
    )


def r2_along_chromosome(windows: Any) -> hv.NdLayout | hv.NdOverlay:
    """Mean R² in windows along each chromosome (from :func:`fedimpute.quality.r2_along_chromosome`);
    one line per job, one panel per chromosome."""
    hv = _hv()
    frame = _frame(windows)
    if frame.empty:
        return hv.NdOverlay({"none": hv.Curve([], "position (Mb)", "mean R²")}, "job").opts(
            title="R² along the chromosome: no variants with positions"
        )
    frame["position (Mb)"] = frame["mid"].astype(float) / 1e6
    frame["mean R²"] = frame["mean_r2"].astype(float)
    panels = {}
    for chrom, part in frame.groupby("chromosome", sort=False):
        curves = {
            label: hv.Curve(rows, "position (Mb)", ["mean R²", "n"]).opts(tools=["hover"])
            for label, rows in part.groupby("label", sort=False)
        }
        panels[chrom] = hv.NdOverlay(curves, "job").opts(
            title=f"R² along chromosome {chrom}",
            width=WIDTH,
            height=HEIGHT,
            ylim=(0, 1.05),
            show_legend=len(curves) > 1,
            legend_position="bottom_right",
        )
    if len(panels) == 1:
        return next(iter(panels.values()))
    return hv.NdLayout(panels, "chromosome").cols(1)


def job_scatter(shared: Any, a: str | None = None, b: str | None = None) -> hv.Overlay:
    """R² of job ``a`` against job ``b`` on shared variants (from :func:`fedimpute.quality.shared_variants`),
    coloured by MAF, with the diagonal."""
    hv = _hv()
    frame = _frame(shared)
    jobs = [c for c in frame.columns if c not in ("chromosome", "pos", "ref", "alt", "maf")]
    a, b = a or jobs[0], b or jobs[1]
    frame = frame.rename(columns={a: "R² " + a, b: "R² " + b})
    points = hv.Scatter(frame, "R² " + a, ["R² " + b, "maf", "chromosome", "pos"]).opts(
        color="maf", cmap="viridis", logz=False, colorbar=True, size=3, alpha=0.5, tools=["hover"]
    )
    diagonal = hv.Curve([(0, 0), (1, 1)]).opts(color="#888888", line_dash="dashed")
    return (points * diagonal).opts(
        title=f"R² per shared variant ({len(frame):,})",
        width=WIDTH - 80,
        height=WIDTH - 80,
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.02),
    )


# -- job statistics -------------------------------------------------------------------------


def _stats(source: Any) -> pd.DataFrame:
    from fedimpute.store import Store

    if isinstance(source, Store):
        from fedimpute.quality import job_statistics

        source = job_statistics(source)
    return _frame(source)


def jobs_by_status(source: Store | Any) -> hv.Bars:
    """Jobs per service, stacked by status."""
    hv = _hv()
    frame = _stats(source)
    if frame.empty:
        return hv.Bars([], "service", "jobs").opts(title="Jobs by service and status: none yet", width=WIDTH)
    counts = frame.groupby(["service", "status"]).size().rename("jobs").reset_index()
    counts["status"] = counts["status"].astype(str)
    return hv.Bars(counts, ["service", "status"], "jobs").opts(
        title=f"Jobs by service and status ({len(frame):,})",
        stacked=True,
        cmap=STATUS_COLORS,
        tools=["hover"],
        width=WIDTH,
        height=HEIGHT,
        legend_position="right",
    )


def jobs_over_time(source: Store | Any, *, freq: str | None = None, by: str = "status") -> hv.Bars:
    """Jobs created per hour, day or week (chosen from the time span, or ``freq``: a pandas offset such
    as ``h``, ``D`` or ``W``), stacked by ``status`` or by ``service``."""
    import pandas as pd

    if by not in ("status", "service"):
        raise ValueError(f"by must be 'status' or 'service', got {by!r}")
    hv = _hv()
    frame = _stats(source)
    if frame.empty:
        return hv.Bars([], ["created", by], "jobs").opts(title="Jobs over time: none yet", width=WIDTH)
    created = pd.to_datetime(frame["created_at"])
    if freq is None:
        span = created.max() - created.min()
        freq = "h" if span <= pd.Timedelta(days=2) else "D" if span <= pd.Timedelta(days=90) else "W"
    start = created.dt.floor(freq) if freq in ("h", "D") else created.dt.to_period(freq).dt.start_time
    frame["created"] = start.dt.strftime("%Y-%m-%d %H:%M" if freq == "h" else "%Y-%m-%d")
    counts = frame.groupby(["created", by]).size().rename("jobs").reset_index()
    colours = {"cmap": STATUS_COLORS} if by == "status" else {}
    return hv.Bars(counts, ["created", by], "jobs").opts(
        title=f"Jobs created over time by {by} (UTC)",
        stacked=True,
        tools=["hover"],
        width=WIDTH,
        height=HEIGHT,
        xrotation=45,
        legend_position="right",
        **colours,
    )


def _times_by_service(source: Any, column: str, title: str) -> hv.BoxWhisker:
    hv = _hv()
    frame = _stats(source)
    frame = frame[frame[column].notna()] if not frame.empty else frame
    minutes = frame.assign(minutes=frame[column].astype(float) / 60.0) if not frame.empty else frame
    empty: dict[str, list[Any]] = {"service": [], "minutes": []}
    data: pd.DataFrame | dict[str, list[Any]] = minutes[["service", "minutes"]] if not frame.empty else empty
    return hv.BoxWhisker(data, "service", "minutes").opts(
        title=f"{title} ({len(frame):,} jobs)",
        ylabel="minutes",
        width=WIDTH,
        height=HEIGHT,
        box_fill_color="#90caf9",
    )


def run_time_by_service(source: Store | Any) -> hv.BoxWhisker:
    """Minutes from running to finished, per service (jobs seen running only)."""
    return _times_by_service(source, "run_seconds", "Run time per service")


def queue_time_by_service(source: Store | Any) -> hv.BoxWhisker:
    """Minutes from queued to running, per service, from the job events."""
    return _times_by_service(source, "queue_seconds", "Queue time per service")
