"""Protocol adapters, found by protocol name and imported lazily.

Adding a protocol is one module (an :class:`ImputationService` subclass with its settings model)
and one registry line: in :data:`BUILTIN` for fedimpute's own, an entry point in the
``fedimpute.services`` group for a separate package (``toy = "my_pkg.toy:ToyService"`` under
``[project.entry-points."fedimpute.services"]``), or a :func:`register` call at run time.

>>> from fedimpute.services import adapter_class
>>> adapter_class("cloudgene").__name__
'CloudgeneService'
"""

from __future__ import annotations

import difflib
import importlib
import logging
import re
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from fedimpute.exceptions import UnknownProtocolError

if TYPE_CHECKING:  # the adapters' base pulls in the HTTP stack: imported when an adapter is asked for
    from fedimpute.services.base import ImputationService

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "adapter_class", "protocols", "register", "unregister"]

log = logging.getLogger(__name__)

#: fedimpute's own protocols: name -> ``module:class`` (imported on first use).
BUILTIN: dict[str, str] = {
    "cloudgene": "fedimpute.services.cloudgene:CloudgeneService",
    "wes": "fedimpute.services.wes:WesService",
    "dnastack": "fedimpute.services.dnastack:DnastackService",
    "local": "fedimpute.services.local:LocalService",
}
#: The entry-point group through which installed packages add protocols.
ENTRY_POINT_GROUP = "fedimpute.services"
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")

_registered: dict[str, str | type[ImputationService]] = {}
_loaded: dict[str, type[ImputationService]] = {}


def register(protocol: str, adapter: str | type[ImputationService]) -> None:
    """Make ``protocol`` available at run time (tests, notebooks): ``adapter`` is the class or its
    ``"module:Class"`` path.  A built-in protocol cannot be replaced."""
    if not _NAME.match(protocol):
        raise ValueError(f"protocol name {protocol!r} must be lower-case letters, digits, '-' or '_'")
    if protocol in BUILTIN:
        raise ValueError(f"protocol {protocol!r} is built in and cannot be replaced")
    _registered[protocol] = adapter
    _loaded.pop(protocol, None)


def unregister(protocol: str) -> None:
    """Forget a protocol added with :func:`register` (built-ins and entry points stay)."""
    _registered.pop(protocol, None)
    _loaded.pop(protocol, None)


def _entry_points() -> dict[str, str]:
    """``name -> "module:Class"`` of the installed packages' protocols (read each time: cheap, and a
    package installed while a notebook runs shows up)."""
    found: dict[str, str] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in BUILTIN:
            log.warning("ignoring the %s entry point %r: a built-in protocol has that name", ENTRY_POINT_GROUP,
                        point.value)
        else:
            found.setdefault(point.name, point.value)
    return found


def protocols() -> list[str]:
    """Every protocol name a service may use: built-in, registered at run time, then installed."""
    return list(dict.fromkeys([*BUILTIN, *_registered, *_entry_points()]))


def adapter_class(protocol: str, *, service: str | None = None) -> type[ImputationService]:
    """The adapter class for ``protocol``.

    Raises
    ------
    UnknownProtocolError
        No such protocol: the message lists the known ones (or, for the stored ``service``, says that
        the package providing it is not installed).
    """
    if protocol in _loaded:
        return _loaded[protocol]
    target = BUILTIN.get(protocol) or _registered.get(protocol) or _entry_points().get(protocol)
    if target is None:
        raise UnknownProtocolError(_unknown(protocol, service))
    from fedimpute.services.base import ImputationService

    cls = _load(target) if isinstance(target, str) else target
    if not (isinstance(cls, type) and issubclass(cls, ImputationService)) or cls.protocol != protocol:
        raise TypeError(f"{target!r} registered for protocol {protocol!r} is not an ImputationService "
                        f"subclass whose `protocol` is {protocol!r}")
    _loaded[protocol] = cls
    return cls


def _load(target: str) -> object:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _unknown(protocol: str, service: str | None) -> str:
    known = protocols()
    if service is not None:
        return (f"service {service} uses the protocol {protocol!r}, which no installed adapter provides "
                f"(known: {', '.join(known)}); install the package that provides it, or remove the service "
                f"with `fedimpute services remove {service}`")
    close = difflib.get_close_matches(protocol, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown protocol {protocol!r}; {hint}choose one of {', '.join(known)}"
