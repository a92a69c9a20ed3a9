"""Protocol adapters, found by protocol name and imported lazily.

>>> from fedimpute.services import adapter_class
>>> adapter_class("cloudgene").__name__
'CloudgeneService'
"""

from __future__ import annotations

import difflib
import importlib

from fedimpute.exceptions import NotAvailableError, UsageError
from fedimpute.services.base import ImputationService, registry

__all__ = ["KNOWN_ADAPTERS", "ImputationService", "adapter_class", "registry"]

#: protocol -> module that defines its adapter (imported on first use).
KNOWN_ADAPTERS = {
    "cloudgene": "fedimpute.services.cloudgene",
    "wes": "fedimpute.services.wes",
    "dnastack": "fedimpute.services.dnastack",
    "local": "fedimpute.services.local",
}
_LATER: dict[str, str] = {}


def adapter_class(protocol: str) -> type[ImputationService]:
    """The adapter class for ``protocol``; a clear error for unknown or not-yet-built ones."""
    if protocol in registry:
        return registry[protocol]
    if protocol in KNOWN_ADAPTERS:
        importlib.import_module(KNOWN_ADAPTERS[protocol])
        return registry[protocol]
    if protocol in _LATER:
        raise NotAvailableError(f"the {protocol} adapter ({_LATER[protocol]})")
    close = difflib.get_close_matches(protocol, [*KNOWN_ADAPTERS, *_LATER], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UsageError(f"unknown protocol {protocol!r}{hint}")
