"""Loading a shared C library once, by the names a system may give it.

The pre-flight check reads BGZF with libdeflate (its own parallel reader) or htslib when they
are installed, and falls back to a subprocess otherwise; a library that is missing, or lacks a
function we bind, counts as not installed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

__all__ = ["load_library"]

_loaded: dict[str, ctypes.CDLL | None] = {}


def load_library(stem: str, sonames: tuple[str, ...], bind: Callable[[ctypes.CDLL], None]) -> ctypes.CDLL | None:
    """The library ``lib<stem>`` with its functions bound by ``bind``, or None; tried once per process."""
    if stem not in _loaded:
        _loaded[stem] = None
        for name in filter(None, (ctypes.util.find_library(stem), *sonames)):
            try:
                lib = ctypes.CDLL(name)
                bind(lib)
            except (OSError, AttributeError):
                continue
            _loaded[stem] = lib
            break
    return _loaded[stem]
