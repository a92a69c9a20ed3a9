"""The life of a job, in one place: submission (with the pre-flight check), the life cycle on a
service, and the one write path for what services report.

The :class:`~fedimpute.hub.Hub` is the facade over this package; the monitor
(:mod:`fedimpute.monitor`) adds the sweeps over many jobs.  Nothing here imports the hub,
the monitor, the CLI or the UI.
"""

from fedimpute.jobs.follow import Follower
from fedimpute.jobs.lifecycle import AdapterSource, JobLifecycle, process_id
from fedimpute.jobs.state import apply_remote, apply_reports, mark_lost, update_parent
from fedimpute.jobs.submit import PreflightFailedError, preflight, submit

__all__ = ["AdapterSource", "Follower", "JobLifecycle", "PreflightFailedError", "apply_remote", "apply_reports",
           "mark_lost", "preflight", "process_id", "submit", "update_parent"]
