"""fedimpute's dashboard: param state, Panel views, the app and its server.

Needs the ``ui`` extra (panel, param, holoviews, bokeh); nothing else in fedimpute imports it.

>>> from fedimpute.ui import create_app      # doctest: +SKIP
>>> create_app()                              # in a notebook: the whole dashboard inline
"""

from __future__ import annotations

from fedimpute.ui.app import VIEWS, HubApp, create_app
from fedimpute.ui.components import (
    JobDetail,
    JobsTable,
    PanelBrowser,
    PreflightView,
    QualityView,
    ServiceCatalogue,
    StatisticsView,
    SubmitForm,
)
from fedimpute.ui.runtime import Runtime, get_runtime
from fedimpute.ui.server import serve_dashboard
from fedimpute.ui.settings import DashboardSettings
from fedimpute.ui.state import HubState, JobDetailState, JobListState, SubmissionState

__all__ = [
    "VIEWS",
    "DashboardSettings",
    "HubApp",
    "HubState",
    "JobDetail",
    "JobDetailState",
    "JobListState",
    "JobsTable",
    "PanelBrowser",
    "PreflightView",
    "QualityView",
    "Runtime",
    "ServiceCatalogue",
    "StatisticsView",
    "SubmissionState",
    "SubmitForm",
    "create_app",
    "get_runtime",
    "serve_dashboard",
]
