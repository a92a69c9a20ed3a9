"""fedimpute: a Jupyter-first hub for federated genotype imputation.

The domain package never imports panel, param or bokeh; the dashboard lives in
``fedimpute.ui`` and needs the ``ui`` extra.

>>> import fedimpute
>>> store = fedimpute.Store()          # doctest: +SKIP
"""

from __future__ import annotations

from fedimpute.catalogue import make_service
from fedimpute.credentials import Credentials
from fedimpute.exceptions import (
    FedImputeError,
    JobNotFoundError,
    NotFoundError,
    NotSupportedError,
    ServiceNotFoundError,
    UsageError,
)
from fedimpute.models import (
    HealthRecord,
    HealthStatus,
    Job,
    JobEvent,
    JobStatus,
    Population,
    Protocol,
    ReferencePanel,
    ResultFile,
    ServiceConfig,
    StepMessage,
    SubmitOptions,
)
from fedimpute.store import Store

__version__ = "0.1.0"

__all__ = [
    "Credentials",
    "FedImputeError",
    "HealthRecord",
    "HealthStatus",
    "Job",
    "JobEvent",
    "JobNotFoundError",
    "JobStatus",
    "NotFoundError",
    "NotSupportedError",
    "Population",
    "Protocol",
    "ReferencePanel",
    "ResultFile",
    "ServiceConfig",
    "ServiceNotFoundError",
    "StepMessage",
    "Store",
    "SubmitOptions",
    "UsageError",
    "make_service",
]
