"""The plots the dashboard needs beyond :mod:`fedimpute.plots`: a job's status timeline, and the
phases of the active jobs on the board (a Gantt chart).

Quality and job statistics come from :mod:`fedimpute.plots` (shared with notebooks and reports).
Hover tooltips show only our own fields (time, status, job id), never service-provided text
(step names appear as canvas text in the legend).  Plots are sized by height only and stretch to
their pane's width (``responsive``): a fixed width next to ``responsive`` is what makes HoloViews
warn.  This module, and HoloViews with it, is imported only when such a plot is first shown.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh
import pandas as pd
from bokeh.models import HoverTool

from fedimpute.plots import STATUS_COLORS

__all__ = ["PHASE_COLORS", "STATUS_ORDER", "phases_plot", "timeline_plot"]

STATUS_ORDER = ["pending", "queued", "running", "completed", "failed", "cancelled"]
PHASE_COLORS = {"waiting to be sent": "#bdbdbd", "queued": "#90caf9", "running": "#1e88e5"}
#: Colours of the steps, in the order they first appear (imputationserver2's four steps first).
STEP_PALETTE = ["#1e88e5", "#43a047", "#8e24aa", "#fb8c00", "#00897b", "#6d4c41", "#3949ab", "#c0ca33"]
BAR = 0.35  # half the height of a job's bar


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


def _phase_colors(phases: list[str]) -> dict[str, str]:
    colors = dict(PHASE_COLORS)
    steps = [p for p in dict.fromkeys(phases) if p not in colors]
    colors.update({p: STEP_PALETTE[i % len(STEP_PALETTE)] for i, p in enumerate(steps)})
    return {p: colors[p] for p in dict.fromkeys(phases)}


def phases_plot(phases: pd.DataFrame, *, height: int | None = None) -> hv.Rectangles:
    """Each job a row of bars, one per phase (``job_id, label, phase, start, end``): waiting to be sent,
    queued, then each step, on a UTC time axis; newest job on top."""
    labels = list(dict.fromkeys(phases["label"]))
    row = {label: len(labels) - 1 - i for i, label in enumerate(labels)}
    frame = pd.DataFrame({"start": pd.to_datetime(phases["start"]), "y0": [row[lb] - BAR for lb in phases["label"]],
                          "end": pd.to_datetime(phases["end"]), "y1": [row[lb] + BAR for lb in phases["label"]],
                          "phase": phases["phase"].astype(str), "job_id": phases["job_id"].astype(str)})
    colors = _phase_colors(list(frame["phase"]))
    hover = HoverTool(tooltips=[("job", "@job_id"), ("from", "@start{%F %T}"), ("to", "@end{%F %T}")],
                      formatters={"@start": "datetime", "@end": "datetime"})
    return hv.Rectangles(frame, ["start", "y0", "end", "y1"], ["phase", "job_id"]).opts(
        color="phase", cmap=colors, line_color="white", tools=[hover], responsive=True,
        height=height or max(160, 60 + 38 * len(labels), 70 + 24 * len(colors)),  # room for the legend
        yticks=[(row[lb], lb) for lb in labels],
        ylim=(-0.6, max(len(labels) - 0.4, 0.6)), xlabel="time (UTC)", ylabel="", show_legend=True,
        legend_position="right", title="Phases of the jobs on the board")
