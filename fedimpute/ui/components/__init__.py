"""The dashboard's views, one ``pn.viewable.Viewer`` per module; each works alone in a notebook."""

from __future__ import annotations

from fedimpute.ui.components.admin_view import AdminView
from fedimpute.ui.components.job_detail import JobDetail
from fedimpute.ui.components.jobs_table import JobsTable
from fedimpute.ui.components.panel_browser import PanelBrowser
from fedimpute.ui.components.preflight_view import PreflightView
from fedimpute.ui.components.quality_view import QualityView
from fedimpute.ui.components.service_catalogue import ServiceCatalogue
from fedimpute.ui.components.settings_view import SettingsView
from fedimpute.ui.components.statistics_view import StatisticsView
from fedimpute.ui.components.submit_form import SubmitForm

__all__ = ["AdminView", "JobDetail", "JobsTable", "PanelBrowser", "PreflightView", "QualityView", "ServiceCatalogue",
           "SettingsView", "StatisticsView", "SubmitForm"]
