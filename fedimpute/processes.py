"""Is a process still there?  The one answer for every claim fedimpute records as ``host:pid``.

A monitor's lease, an upload in progress and a notification being sent each name the process that
holds them, so that another process can take over from a dead one at once instead of waiting for a
lease to run out.  A process on another host cannot be asked: it counts as alive.
"""

from __future__ import annotations

import os
import socket

__all__ = ["holder_alive", "pid_alive"]


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this machine (a process of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_alive(host: str, pid: str | int) -> bool:
    """Whether the process ``pid`` on ``host`` may still run: False only when it is known gone (this host,
    no such pid, or no pid at all)."""
    if host != socket.gethostname():
        return True
    try:
        return pid_alive(int(pid))
    except ValueError:
        return False
