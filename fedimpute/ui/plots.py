"""The one plot the dashboard needs beyond :mod:`fedimpute.plots`: a job's status timeline.

Quality and job statistics come from :mod:`fedimpute.plots` (shared with notebooks and reports).
Hover tooltips show only our own fields (time, status), never service-provided text.  This
module, and HoloViews with it, is imported only when a timeline is first shown.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh
import pandas as pd

from fedimpute.plots import STATUS_COLORS

__all__ = ["STATUS_ORDER", "timeline_plot"]

STATUS_ORDER = ["pending", "queued", "running", "completed", "failed", "cancelled"]


def timeline_plot(events: pd.DataFrame, *, height: int = 220) -> hv.Overlay:
    """Status changes of one job over time: a step line through its events (``time``, ``status``)."""
    frame = pd.DataFrame({"time": pd.to_datetime(events["time"]), "status": events["status"]})
    frame["level"] = frame["status"].map({s: i for i, s in enumerate(STATUS_ORDER)})
    steps = hv.Curve(frame, "time", "level").opts(interpolation="steps-post", color="#90a4ae")
    points = hv.Scatter(frame, "time", ["level", "status"]).opts(color="status", cmap=STATUS_COLORS, size=10,
                                                                tools=["hover"])
    return (steps * points).opts(title="Status timeline (UTC)", yticks=list(enumerate(STATUS_ORDER)), ylabel="",
                                 ylim=(-0.5, 5.5), responsive=True, height=height, show_legend=False,
                                 padding=(0.05, 0))
