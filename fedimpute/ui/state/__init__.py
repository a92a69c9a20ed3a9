"""Param state of the dashboard: domain models and user intents, no widgets.

Every view renders one of these and forwards what the user does to its methods, so the
dashboard's logic is tested without a browser.
"""

from __future__ import annotations

from fedimpute.ui.state.admin import AdminState
from fedimpute.ui.state.detail import JobDetailState
from fedimpute.ui.state.hub import HubState
from fedimpute.ui.state.jobs import ALL, JobListState
from fedimpute.ui.state.submission import SubmissionState
from fedimpute.ui.state.tokens import TokenState

__all__ = ["ALL", "AdminState", "HubState", "JobDetailState", "JobListState", "SubmissionState", "TokenState"]
